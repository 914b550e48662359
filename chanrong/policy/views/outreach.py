"""政策找人 for the agency: whom a programme could reach, and the buttons to
notify them or (免申即享) build their applications.

The list is `services.outreach.find` run when the page is asked for (set-
based: seconds at 300,000 enterprises), paginated in memory; the estimated
total is computed over every row, the page shows each row's estimate. The
export is the same list as .xlsx through `core.exporting`, recorded in the
audit log (who took which enterprises' names out of the platform).
Mounted by urls.py under gov/programmes/<pk>/outreach/."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from chanrong.core import audit
from chanrong.core.errors import NotAllowed, ServiceError
from chanrong.core.exporting import ExportColumn, export_filename, write_xlsx
from chanrong.core.money import WAN

from ..models import Programme
from ..services import outreach as svc

PAGE_SIZE = 50
#: Loans up to which the page estimates everyone's amount for the total.
ESTIMATE_ALL_UP_TO = 5000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _programme(request, pk: int) -> Programme:
    """A programme of the user's region subtree (else 404) that the user may
    look at as its 财政 / 工信 official (else 403)."""
    programme = get_object_or_404(
        Programme.objects.managed_by(request.user).select_related("agency", "region"), pk=pk
    )
    if not svc.can_view(request.user, programme):
        raise PermissionDenied
    return programme


def _find(request, programme: Programme):
    """The list, or None with a message when the programme is not a loan kind."""
    try:
        return svc.find(programme)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return None


@login_required
@require_GET
def outreach_list(request, pk: int):
    programme = _programme(request, pk)
    outreach = _find(request, programme)
    page_obj = paginator = None
    if outreach is not None:
        paginator = Paginator(outreach.rows, PAGE_SIZE)
        page_obj = paginator.get_page(request.GET.get("page"))
        shown = list(page_obj.object_list)
        # The calculator explains every figure it computes (≈ 0.2 ms a loan on
        # this box): the total over everyone only while that stays quick, else
        # the page's rows (the export has them all).
        svc.estimate(outreach, None if outreach.loan_count <= ESTIMATE_ALL_UP_TO else shown)
        svc.mark_notified(outreach, shown)
    return render(
        request,
        "policy/outreach/list.html",
        {
            "programme": programme,
            "outreach": outreach,
            "page_obj": page_obj,
            "rows": page_obj.object_list if page_obj else [],
            "page_range": paginator.get_elided_page_range(page_obj.number) if paginator else [],
            "querystring_base": "",
            "can_act": svc.can_act(request.user, programme),
            "estimate_limit": ESTIMATE_ALL_UP_TO,
        },
    )


def _act(request, pk: int, call, success) -> object:
    programme = _programme(request, pk)
    try:
        result = call(programme)
    except NotAllowed:
        raise PermissionDenied from None
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success(result))
    return redirect("policy:gov_outreach", pk=programme.pk)


@login_required
@require_POST
def outreach_notify(request, pk: int):
    return _act(
        request,
        pk,
        lambda programme: svc.notify_found(request.user, programme),
        lambda n: (
            ngettext(
                "已通知 %(n)s 家企业（此前已通知或无用户的企业不再通知）",
                "已通知 %(n)s 家企业（此前已通知或无用户的企业不再通知）",
                n,
            )
            % {"n": n}
        ),
    )


@login_required
@require_POST
def outreach_build(request, pk: int):
    return _act(
        request,
        pk,
        lambda programme: svc.build(request.user, programme),
        lambda built: (
            ngettext(
                "已生成 %(n)s 笔免申即享申请，等待企业确认",
                "已生成 %(n)s 笔免申即享申请，等待企业确认",
                len(built),
            )
            % {"n": len(built)}
        ),
    )


def _wan(value):
    return None if value is None else value / WAN


EXPORT_COLUMNS = (
    ExportColumn(gettext_lazy("统一社会信用代码"), lambda r: r[0].uscc, 22),
    ExportColumn(gettext_lazy("企业名称"), lambda r: r[0].name, 32),
    ExportColumn(gettext_lazy("所在地区代码"), lambda r: r[0].region_id, 12),
    ExportColumn(gettext_lazy("贷款合同编号"), lambda r: r[1].contract_no, 18),
    ExportColumn(
        gettext_lazy("来源"),
        lambda r: _("平台放款") if r[1].loan_id is None else _("已登记贷款"),
        12,
    ),
    ExportColumn(gettext_lazy("贷款金额（万元）"), lambda r: _wan(r[1].principal), 16, "amount"),
    ExportColumn(gettext_lazy("执行年利率（%）"), lambda r: r[1].rate, 14, "number"),
    ExportColumn(gettext_lazy("放款日期"), lambda r: r[1].loan_date, 12, "date"),
    ExportColumn(gettext_lazy("到期日期"), lambda r: r[1].maturity_date, 12, "date"),
    ExportColumn(gettext_lazy("企业测算金额（元）"), lambda r: r[0].estimate, 16, "amount"),
    ExportColumn(gettext_lazy("已通知"), lambda r: r[0].notified, 8),
)


@login_required
@require_GET
def outreach_export(request, pk: int):
    programme = _programme(request, pk)
    try:
        outreach = svc.find(programme)
    except ServiceError:
        raise Http404 from None
    svc.estimate(outreach)
    svc.mark_notified(outreach)
    rows = ((found, loan) for found in outreach.rows for loan in found.loans)
    columns = [ExportColumn(str(c.header), c.value, c.width, c.kind) for c in EXPORT_COLUMNS]
    handle, written = write_xlsx(columns, rows, sheet_name=str(_("政策找人")))
    audit.record(
        "policy.outreach.export",
        actor=request.user,
        obj=programme,
        changes={"enterprises": outreach.count, "rows": written, "day": str(outreach.day)},
    )
    return FileResponse(
        handle,
        as_attachment=True,
        filename=export_filename(_("政策找人-%(p)s") % {"p": programme.name}),
        content_type=XLSX,
    )


#: Included by urls.py under "gov/programmes/<int:pk>/outreach/" (names in "policy:").
urlpatterns = [
    path("", outreach_list, name="gov_outreach"),
    path("notify/", outreach_notify, name="gov_outreach_notify"),
    path("build/", outreach_build, name="gov_outreach_build"),
    path("export/", outreach_export, name="gov_outreach_export"),
]
