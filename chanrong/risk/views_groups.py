"""统计 by policy group (政策群体统计) and the 无贷户 list: pages over
services.groups (figures — from the kept sums of services.group_sums when
the view is the default one —, chart, tables paginated, xlsx export through
core.exporting, and for government the 首贷培育 push to a bank's outreach)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from chanrong.core import kept, pickers
from chanrong.core.errors import NotAllowed, ValidationFailed
from chanrong.core.paging import paginate
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.finance.pickers import INSTITUTIONS
from chanrong.insights import groups as policy_groups
from chanrong.registry.models import EnterpriseSize

from .services import group_sums, groups
from .tasks import refresh_group_sums_now

WAN = Decimal(10000)


def _viewer(request):
    if not groups.may_view(request.user):
        raise Http404
    return request.user


def _errors(exc: ValidationFailed) -> dict[str, str]:
    return {error.field: error.message for error in exc.errors}


def chart_option(split: groups.Split) -> dict[str, Any]:
    """Amount disbursed in the period and balance on the day per group (万元)."""
    rows = split.rows
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {},
        "grid": {"left": 48, "right": 24, "bottom": 72, "containLabel": True},
        "xAxis": {
            "type": "category",
            "data": [row.label for row in rows],
            "axisLabel": {"interval": 0, "rotate": 30},
        },
        "yAxis": [{"type": "value", "name": _("万元")}],
        "series": [
            {
                "name": _("区间放款金额"),
                "type": "bar",
                "data": [float(round(row.amount / WAN, 2)) for row in rows],
            },
            {
                "name": _("统计日余额"),
                "type": "bar",
                "data": [float(round(row.balance / WAN, 2)) for row in rows],
            },
        ],
    }


@login_required
@require_GET
def group_stats(request):
    user = _viewer(request)
    params = {
        key: request.GET.get(key, "").strip() for key in ("group", "region", "from", "to", "as_of")
    }
    errors: dict[str, str] = {}
    try:
        shown = group_sums.page_split(user, params)
    except ValidationFailed as exc:
        errors = _errors(exc)
        shown = group_sums.page_split(user, {})
    split = shown.split
    context = {
        "split": split,
        "figures": shown,
        "can_refresh": group_sums.may_request(user),
        "params": params,
        "errors": errors,
        "choices": groups.group_choices(),
        "chart_option": chart_option(split) if split.rows else None,
        "is_bank": scope_of(user).kind == ScopeKind.INSTITUTION,
    }
    return render(request, "risk/groups.html", context, status=422 if errors else 200)


@login_required
@require_POST
def refresh_group_sums(request):
    """A government user asks for the kept sums to be computed again (once
    while a request is pending); back to the page with its filters."""
    if not groups.may_view(request.user):
        raise Http404
    kept.refresh_button(request, group_sums.request_refresh, refresh_group_sums_now)
    filters = request.GET.urlencode()
    return redirect(reverse("risk:groups") + (f"?{filters}" if filters else ""))


def _no_loan_query(request):
    params = {
        key: request.GET.get(key, "").strip()
        for key in ("as_of", "region", "industry", "size", "group")
    }
    try:
        return params, groups.clean_no_loan(**params), {}
    except ValidationFailed as exc:
        return params, groups.clean_no_loan(), _errors(exc)


class NoLoanSendForm(forms.Form):
    """The 首贷培育 push: the institution, picked from those the official sees."""

    institution = pickers.PickerField(INSTITUTIONS, keys=True, label=gettext_lazy("金融机构"))


@login_required
@require_GET
def no_loan(request):
    return _no_loan_page(request)


def _no_loan_page(request, send_form: NoLoanSendForm | None = None, status: int = 200):
    user = _viewer(request)
    params, query, errors = _no_loan_query(request)
    pager = paginate(request, groups.no_loan_enterprises(user, query))
    base = pager["querystring_base"].removesuffix("&")
    is_government = scope_of(user).kind == ScopeKind.GOVERNMENT
    context = {
        "enterprises": pager["page_obj"].object_list,
        "pager": pager,
        "params": params,
        "query": query,
        "querystring": base,
        "errors": errors,
        "sizes": EnterpriseSize.choices,
        "enterprise_groups": [
            (g.key, g.label) for g in policy_groups.groups() if g.key != "no_loan"
        ],
        "send_form": (send_form or pickers.bind(NoLoanSendForm(auto_id="n-%s"), user))
        if is_government
        else None,
        "is_government": is_government,
    }
    return render(request, "risk/no_loan.html", context, status=422 if errors else status)


@login_required
@require_POST
def no_loan_send(request):
    """Government: send the filtered 无贷户 list to a bank's outreach (首贷培育)."""
    user = _viewer(request)
    params, query, errors = _no_loan_query(request)
    filters = request.GET.urlencode()
    target = redirect(reverse("risk:no_loan") + (f"?{filters}" if filters else ""))
    if errors:
        messages.error(request, _("筛选条件有误，未推送"))
        return target
    if scope_of(user).kind != ScopeKind.GOVERNMENT:
        raise PermissionDenied
    form = pickers.bind(NoLoanSendForm(request.POST, auto_id="n-%s"), user)
    if not form.is_valid():
        return _no_loan_page(request, form, status=422)
    try:
        count = groups.send_to_outreach(user, query, form.cleaned_data["institution"])
    except ValidationFailed as exc:
        messages.error(request, exc.errors[0].message if exc.errors else exc.message)
        return target
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from None
    messages.success(request, _("已推送 %(n)s 户无贷户企业") % {"n": count})
    return target


NO_LOAN_COLUMNS = (
    (gettext_lazy("统一社会信用代码"), lambda e: e.uscc, 22, "text"),
    (gettext_lazy("企业名称"), lambda e: e.name, 32, "text"),
    (gettext_lazy("行政区划代码"), lambda e: e.region_id, 12, "text"),
    (gettext_lazy("所在地区"), lambda e: e.region.name, 14, "text"),
    (gettext_lazy("行业代码"), lambda e: e.industry_id, 10, "text"),
    (gettext_lazy("行业"), lambda e: e.industry.name, 24, "text"),
    (gettext_lazy("企业规模"), lambda e: e.get_size_display(), 10, "text"),
)


def export_no_loan(user, params) -> tuple[Any, int]:
    """The 无贷户 list with the page's filters, into a temporary .xlsx (the
    kernel's export view records every download in the audit log)."""
    from chanrong.core.export_policy import ExportRefused
    from chanrong.core.exporting import ExportColumn, write_xlsx

    if not groups.may_view(user):
        raise Http404
    keys = ("as_of", "region", "industry", "size", "group")
    try:
        query = groups.clean_no_loan(**{key: (params or {}).get(key, "") for key in keys})
    except ValidationFailed as exc:
        first = exc.errors[0] if exc.errors else None
        raise ExportRefused(
            first.message if first else exc.message, field=first.field if first else ""
        ) from None
    columns = [
        ExportColumn(str(h), value, width, kind) for h, value, width, kind in NO_LOAN_COLUMNS
    ]
    rows = groups.no_loan_enterprises(user, query).iterator(chunk_size=2000)
    note = _("截至 %(d)s 无贷款记录的企业") % {"d": query.as_of.isoformat()}
    return write_xlsx(columns, rows, sheet_name=str(_("无贷户")), title_note=note)


def dashboard_panel(*, user, region=None, **_kwargs) -> dict[str, Any]:
    """`group_split` for the 统计分析 page (insights.dashboard): this year's
    split for the region shown (templates/risk/_group_panel.html), from the
    kept sums when there are some (services.group_sums)."""
    if not groups.may_view(user):
        return {}
    shown = group_sums.page_split(user, {"region": region.code if region is not None else ""})
    return {"group_split": shown.split, "group_figures": shown}
