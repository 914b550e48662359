"""产业基金 pages (mounted at /funds/): the fund directory, a fund's page
(its investments, the equity demands it fits best, its life), registering a
fund and an investment, and the equity financing statistics.

Views hold no rules: who may see what is `visible_to` / `kept_by`, who may
keep a fund is permissions.py, and every write is a service; a refused
write is shown beside the form, never a 500.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chanrong.core import pickers
from chanrong.core.errors import ServiceError, ValidationFailed
from chanrong.core.money import format_amount
from chanrong.core.paging import paginate
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.finance.models import FinancialInstitution

from . import permissions as perms
from .forms import FundForm, InvestmentForm
from .models import Fund, FundInvestment, FundStage
from .services import funds as fund_service
from .services import investments as investment_service
from .services import matching, stats
from .services.fields import day
from .workflows import FUND


def _can_register(user) -> bool:
    scope = scope_of(user)
    if scope.kind in (ScopeKind.PLATFORM, ScopeKind.GOVERNMENT):
        return True
    return scope.kind == ScopeKind.INSTITUTION and user.institution.kind in (
        fund_service.MANAGER_KINDS
    )


def _managers(user):
    qs = FinancialInstitution.objects.visible_to(user).filter(kind__in=fund_service.MANAGER_KINDS)
    scope = scope_of(user)
    if scope.kind == ScopeKind.INSTITUTION:
        qs = qs.filter(pk=scope.institution_id)
    return qs.order_by("name")


@login_required
@require_GET
def fund_list(request):
    pager = paginate(
        request,
        Fund.objects.visible_to(request.user)
        .select_related("manager", "region")
        .order_by("name", "pk"),
    )
    funds = pager["page_obj"].object_list
    kept = set(
        Fund.objects.kept_by(request.user)
        .filter(pk__in=[f.pk for f in funds])
        .values_list("pk", flat=True)
    )
    rows = [
        {
            "fund": f,
            "kept": f.pk in kept,
            "paid_in": format_amount(f.paid_in_size),
            "target": format_amount(f.target_size),
        }
        for f in funds
    ]
    return render(
        request,
        "funds/list.html",
        {
            "rows": rows,
            "pager": pager,
            "can_register": _can_register(request.user),
            "can_stats": perms.can_view_stats(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def fund_new(request):
    if not _can_register(request.user):
        raise Http404
    managers = list(_managers(request.user))
    form = pickers.bind(FundForm(request.POST or None, managers=managers), request.user)
    if request.method == "POST" and form.is_valid():
        try:
            fund = fund_service.create_fund(request.user, form.cleaned_data)
        except ServiceError as exc:
            form.add_service_errors(exc)
        else:
            return redirect("funds:detail", fund.pk)
    return render(request, "funds/new.html", {"form": form})


def _fund(request, pk: int) -> Fund:
    fund = Fund.objects.visible_to(request.user).select_related("manager", "region")
    fund = fund.filter(pk=pk).first()
    if fund is None:
        raise Http404
    return fund


def _detail(request, fund: Fund, investment_form=None, status: int = 200):
    keeper = perms.can_keep(request.user, fund)
    investments = (
        FundInvestment.objects.visible_to(request.user)
        .filter(fund=fund)
        .select_related("enterprise", "project")
    )
    invested = fund_service.invested_total(fund.pk)
    context = {
        "fund": fund,
        "keeper": keeper,
        "investments": investments,
        "paid_in": format_amount(fund.paid_in_size),
        "target": format_amount(fund.target_size),
        "invested": format_amount(invested),
        "room": format_amount(max(fund.paid_in_size - invested, 0)),
        "ticket": matching.ticket_label(fund),
        "stages": [FundStage(s).label for s in fund.focus_stages],
        "transitions": FUND.available(fund, request.user) if keeper else [],
        "investment_form": investment_form or (InvestmentForm() if keeper else None),
        "demand_fits": matching.demands_for_fund(request.user, fund) if keeper else None,
    }
    return render(request, "funds/detail.html", context, status=status)


@login_required
@require_GET
def fund_detail(request, pk: int):
    return _detail(request, _fund(request, pk))


@login_required
@require_POST
def investment_new(request, pk: int):
    fund = _fund(request, pk)
    if not perms.can_keep(request.user, fund):
        raise Http404
    form = InvestmentForm(request.POST)
    if form.is_valid():
        try:
            investment_service.record_investment(request.user, fund, form.cleaned_data)
        except ServiceError as exc:
            form.add_service_errors(exc)
        else:
            return redirect("funds:detail", fund.pk)
    return _detail(request, fund, investment_form=form, status=422)


@login_required
@require_POST
def fund_transition(request, pk: int, name: str):
    fund = _fund(request, pk)
    if name not in FUND.transitions or not perms.can_keep(request.user, fund):
        raise Http404
    closed_on = None
    if name == "close":
        try:
            errors: list = []
            closed_on = day(request.POST, "closed_on", errors, required=True)
            if errors:
                raise ValidationFailed(errors)
            fund_service.move(request.user, fund, name, closed_on=closed_on)
        except ServiceError as exc:
            return _transition_refused(request, fund, exc)
        return redirect("funds:detail", fund.pk)
    try:
        fund_service.move(request.user, fund, name)
    except ServiceError as exc:
        return _transition_refused(request, fund, exc)
    return redirect("funds:detail", fund.pk)


@login_required
@require_POST
def investment_exit(request, pk: int):
    """退出 of one investment, by whoever keeps its fund; refusals as a message."""
    try:
        investment = investment_service.visible_investment(request.user, pk)
    except ServiceError:
        raise Http404 from None
    if not perms.can_keep(request.user, investment.fund):
        raise Http404
    try:
        investment_service.record_exit(request.user, investment, request.POST)
    except ServiceError as exc:
        return _transition_refused(request, investment.fund, exc)
    return redirect("funds:detail", investment.fund_id)


def _transition_refused(request, fund: Fund, exc: ServiceError):
    detail = "；".join(e.message for e in exc.errors) or exc.message
    messages.error(request, _("操作未完成：%(reason)s") % {"reason": detail})
    return redirect("funds:detail", fund.pk)


@login_required
@require_GET
def stats_page(request):
    if not perms.can_view_stats(request.user):
        raise Http404
    try:
        start, end = stats.parse_period(request.GET)
        errors = {}
    except ValidationFailed as exc:
        errors = {e.field: e.message for e in exc.errors}
        start, end = stats.default_period()
    result = stats.summarise(request.user, start, end)
    groups = [
        ("industry", _("按行业（门类）"), result.by_industry),
        ("round", _("按轮次"), result.by_round),
        ("kind", _("按基金类型"), result.by_fund_kind),
    ]
    return render(
        request,
        "funds/stats.html",
        {
            "stats": result,
            "errors": errors,
            "total": format_amount(result.amount),
            "year_chart": stats.year_chart(result),
            "groups": [
                (key, title, rows, stats.group_chart(rows, _("投资金额")), f"eq-{key}-chart")
                for key, title, rows in groups
            ],
        },
    )
