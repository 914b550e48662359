"""应收账款融资统计 (/supplychain/stats/): amounts and counts by chain, core
enterprise and bank, month by month, with ECharts charts served from
static/vendor (no CDN).

Every figure and every scope rule is services.stats: a government user sees
its region's subtree, a platform admin everything, anyone else a 404. A bad
period is shown by field beside the form and the page falls back to the
default period; it never gives a 500.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from chanrong.core.errors import ValidationFailed
from chanrong.core.money import format_amount

from ..services import stats as service


@login_required
@require_GET
def stats_page(request):
    if not service.can_view(request.user):
        raise Http404
    try:
        start, end = service.parse_period(request.GET)
        errors = {}
    except ValidationFailed as exc:
        errors = {e.field: e.message for e in exc.errors}
        start, end = service.default_period()
    result = service.summarise(request.user, start, end)
    total = result.total
    tiles = [
        (_("融资金额"), format_amount(total.amount), _("%(n)s 笔") % {"n": total.count}),
        (_("质押/转让应收账款"), format_amount(total.backing), ""),
        (_("未结清余额"), format_amount(total.outstanding), ""),
    ]
    groups = [
        ("chain", _("按产业链"), result.by_chain, _("融资金额")),
        ("core", _("按核心企业（债务人）"), result.by_core, _("融资金额")),
        ("bank", _("按银行"), result.by_bank, _("融资金额")),
    ]
    return render(
        request,
        "supplychain/stats/page.html",
        {
            "stats": result,
            "errors": errors,
            "tiles": tiles,
            "month_chart": service.month_chart(result),
            "groups": [
                (key, title, rows, service.group_chart(rows, name), f"sc-{key}-chart")
                for key, title, rows, name in groups
            ],
        },
    )
