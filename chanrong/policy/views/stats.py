"""统计分析 of the policy programmes (/policy/stats/): money and counts by
programme, kind, region, industry, size and bank, month by month, with
ECharts charts (served from static/vendor, no CDN) and an Excel download.

Every figure and every scope rule is services.stats; a government user sees
its region's subtree, a platform admin everything, anyone else a 404.
Bad filters are shown by field beside the form and the page falls back to
the default period; they never give a 500.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.urls import path
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from chanrong.core.errors import ValidationFailed
from chanrong.core.exporting import export_filename
from chanrong.core.money import format_amount
from chanrong.policy.models import ProgrammeKind
from chanrong.policy.services import stats as service

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filters(request):
    """(filters, errors by field); the defaults where a field is wrong."""
    try:
        return service.parse_filters(request.GET), {}
    except ValidationFailed as exc:
        errors = {e.field: e.message for e in exc.errors}
        return service.default_filters(), errors


@login_required
@require_GET
def stats_page(request):
    if not service.can_view(request.user):
        raise Http404
    filters, errors = _filters(request)
    result = service.summarise(request.user, filters)
    total = result.total
    tiles = [
        (_("已拨付"), format_amount(total.paid_amount), _("%(n)s 笔") % {"n": total.paid_count}),
        (
            _("已承诺待拨付"),
            format_amount(total.committed_amount),
            _("%(n)s 笔") % {"n": total.committed_count},
        ),
        (
            _("转贷应急出款"),
            format_amount(total.bridge_amount),
            _("%(n)s 笔") % {"n": total.bridge_count},
        ),
        (
            _("风险补偿代偿"),
            format_amount(total.compensation_amount),
            _("%(n)s 笔") % {"n": total.compensation_count},
        ),
        (_("申请"), _("%(n)s 笔") % {"n": total.filed}, ""),
    ]
    return render(
        request,
        "policy/stats/page.html",
        {
            "stats": result,
            "filters": filters,
            "errors": errors,
            "groups": [(k, str(v)) for k, v in service.GROUPS.items()],
            "kinds": ProgrammeKind.choices,
            "tiles": tiles,
            "month_chart": service.month_chart(result),
            "group_chart": service.group_chart(result),
            "export_query": urlencode(filters.as_query()),
        },
    )


@login_required
@require_GET
def stats_export(request):
    """The table on the page (same filters, same scope) as .xlsx; audited."""
    if not service.can_view(request.user):
        raise Http404
    filters, errors = _filters(request)
    if errors:
        raise Http404  # the page shows the errors; a download never guesses
    handle, _count = service.export(request.user, filters)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=export_filename(_("政策资金统计")),
        content_type=XLSX,
    )


urlpatterns = [
    path("", stats_page, name="stats"),
    path("export/", stats_export, name="stats_export"),
]
