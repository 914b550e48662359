"""Demand pages: the enterprise's demands, the detail with its timeline, and
the institution's workbench. Views only translate between HTTP and the
services: visibility comes from `visible_to`, rules from `services`; what the
user may not see is a 404, what they may see but not do is a 403, and an
action the state does not allow is a message saying why (nothing changes)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chanrong.core import kept, pickers
from chanrong.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from chanrong.core.panels import panel_context
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.finance.eligibility import COLLATERAL_LABELS
from chanrong.finance.models import FinancialInstitution

from . import services, todo
from .forms import DemandForm, FeedbackForm, OfferForm, ReasonForm, ResultForm
from .models import Demand, DemandState, Dispatch, DispatchState, Offer

PAGE_SIZE = 20


def _detail_url(pk: int) -> str:
    return reverse("demands:detail", args=[pk])


def _demand_or_404(user, pk: int) -> Demand:
    try:
        return services.get_visible_demand(user, pk)
    except NotFound:
        raise Http404 from None


def _dispatch_or_404(user, pk: int) -> Dispatch:
    try:
        return services.get_visible_dispatch(user, pk)
    except NotFound:
        raise Http404 from None


def _run(request, action, *, success: str, back: str):
    """Call a service for a POST button: success message, or the reason it
    was refused; always back to `back`."""
    try:
        action()
    except NotAllowed:
        raise PermissionDenied from None
    except NotFound:
        raise Http404 from None
    except (Conflict, ValidationFailed) as exc:
        detail = "；".join(e.message for e in exc.errors)
        messages.error(request, f"{exc.message}{'：' + detail if detail else ''}")
    else:
        messages.success(request, success)
    return redirect(back)


class StateFilterForm(forms.Form):
    state = forms.ChoiceField(label=gettext_lazy("状态"), required=False)

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [("", gettext_lazy("全部")), *choices]

    def filter(self, queryset):
        if self.is_bound and self.is_valid() and self.cleaned_data["state"]:
            return queryset.filter(state=self.cleaned_data["state"])
        return queryset

    def querystring(self) -> str:
        if self.is_bound and self.is_valid() and self.cleaned_data["state"]:
            return urlencode({"state": self.cleaned_data["state"]}) + "&"
        return ""


def _todo_query(key: str) -> str:
    return urlencode({"todo": key}) + "&" if key else ""


@login_required
@require_GET
def demand_list(request):
    scope = scope_of(request.user)
    if scope.kind == ScopeKind.INSTITUTION:
        return redirect("demands:workbench")
    if scope.kind == ScopeKind.NONE:
        raise Http404
    form = StateFilterForm(request.GET or None, choices=DemandState.choices)
    queryset = form.filter(
        Demand.objects.visible_to(request.user)
        .select_related("enterprise__region")
        .order_by("-created_at", "-pk")
    )
    todo_key = request.GET.get("todo", "")
    if todo_key in todo.DEMAND_TODOS:
        queryset = todo.demand_todo(queryset, todo_key)
    else:
        todo_key = ""
    queryset = todo.with_offer_counts(queryset, request.user)
    paginator = Paginator(queryset, PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "demands/demand_list.html",
        {
            "form": form,
            "page_obj": page_obj,
            "demands": page_obj.object_list,
            "page_range": paginator.get_elided_page_range(page_obj.number),
            "querystring_base": form.querystring() + _todo_query(todo_key),
            "todo_key": todo_key,
            "todo_label": todo.DEMAND_TODOS.get(todo_key, ""),
            "can_create": services.can_create_demand(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def demand_create(request):
    if not services.can_create_demand(request.user):
        raise PermissionDenied
    form = pickers.bind(
        DemandForm(request.POST or None, enterprise_id=request.user.enterprise_id), request.user
    )
    if request.method == "POST" and form.is_valid():
        try:
            demand = services.create_demand(request.user, form.service_data())
        except ValidationFailed as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("融资需求已保存为草稿，确认无误后请发布"))
            return redirect("demands:detail", pk=demand.pk)
    return render(request, "demands/demand_form.html", {"form": form, "demand": None})


@login_required
@require_http_methods(["GET", "POST"])
def demand_edit(request, pk: int):
    demand = _demand_or_404(request.user, pk)
    if not services.workflows.is_owner(request.user, demand):
        raise PermissionDenied
    if demand.state != DemandState.DRAFT:
        messages.error(request, _("只有草稿可以修改"))
        return redirect("demands:detail", pk=demand.pk)
    initial = services.demand_input(demand)
    initial["preferred_institution_ids"] = [str(p) for p in initial["preferred_institution_ids"]]
    initial["amount_wan"] = format(initial["amount_wan"].normalize(), "f")
    initial["project_id"] = str(initial["project_id"] or "")
    form = pickers.bind(
        DemandForm(request.POST or None, initial=initial, enterprise_id=demand.enterprise_id),
        request.user,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_demand(request.user, demand, form.service_data())
        except ValidationFailed as exc:
            form.add_service_errors(exc)
        except Conflict as exc:
            messages.error(request, exc.message)
            return redirect("demands:detail", pk=demand.pk)
        else:
            messages.success(request, _("融资需求已保存"))
            return redirect("demands:detail", pk=demand.pk)
    return render(request, "demands/demand_form.html", {"form": form, "demand": demand})


@login_required
@require_GET
def demand_detail(request, pk: int):
    user = request.user
    demand = _demand_or_404(user, pk)
    scope = scope_of(user)
    is_owner = services.workflows.is_owner(user, demand)
    dispatches = list(
        Dispatch.objects.visible_to(user)
        .filter(demand=demand)
        .select_related("institution", "branch", "demand")
        .order_by("pk")
    )
    for dispatch in dispatches:
        dispatch.actions = services.dispatch_actions(user, dispatch)
    offers = list(
        Offer.objects.visible_to(user)
        .filter(demand=demand)
        .select_related("institution", "dispatch", "product")
        .order_by("pk")
    )
    can_accept = (
        is_owner and demand.state == DemandState.NEGOTIATING and not demand.accepted_offer_id
    )
    authorised = services.authorised_institution_ids(demand) if is_owner else set()
    feedback_form = None
    if is_owner:
        pending = services.feedback_institutions(demand)
        if pending:
            # The lender (whose offer was accepted) first: that is whom people rate.
            lender = demand.outcome_institution_id or (
                demand.accepted_offer.institution_id if demand.accepted_offer_id else None
            )
            initial = (
                {"institution_id": str(lender)}
                if lender in {institution.pk for institution in pending}
                else {}
            )
            feedback_form = FeedbackForm(institutions=pending, initial=initial)
    other_institution = (
        scope.kind == ScopeKind.INSTITUTION
        and demand.outcome_institution_id != scope.institution_id
    )
    from chanrong.registry.models import Enterprise, Project

    profile_visible = Enterprise.objects.visible_to(user).filter(pk=demand.enterprise_id).exists()
    project = (
        Project.objects.visible_to(user).filter(pk=demand.project_id).first()
        if demand.project_id
        else None
    )
    return render(
        request,
        "demands/demand_detail.html",
        {
            "demand": demand,
            "is_owner": is_owner,
            "actions": services.demand_actions(user, demand),
            "dispatches": dispatches,
            "offers": offers,
            "can_accept": can_accept,
            "authorised": authorised,
            "events": services.timeline(user, demand),
            "feedback_form": feedback_form,
            "feedback": demand.feedback.select_related("institution").order_by("pk"),
            "hide_outcome": other_institution,
            "profile_visible": profile_visible,
            "project": project,
            "collateral": [COLLATERAL_LABELS.get(c, c) for c in demand.collateral_offered or []],
            "preferred": demand.preferred_institutions.order_by("name")
            if scope.kind != ScopeKind.INSTITUTION
            else [],
            "withdraw_form": ReasonForm(),
            # what higher apps add to the page (matching's ranked products)
            **panel_context("demands.detail", user=user, demand=demand),
        },
    )


@login_required
@require_POST
def demand_action(request, pk: int, action: str):
    demand = _demand_or_404(request.user, pk)
    back = request.POST.get("next") or ""
    target = back if back.startswith("/") and not back.startswith("//") else None
    calls = {
        "publish": (lambda: services.publish_demand(request.user, demand), _("需求已发布并派单")),
        "withdraw": (
            lambda: services.withdraw_demand(request.user, demand, request.POST.get("reason", "")),
            _("需求已撤回"),
        ),
        "redispatch": (lambda: services.redispatch_demand(request.user, demand), _("已重新派单")),
    }
    if action not in calls:
        raise Http404
    call, success = calls[action]
    return _run(request, call, success=success, back=target or _detail_url(demand.pk))


@login_required
@require_POST
def offer_accept(request, pk: int, offer_pk: int):
    demand = _demand_or_404(request.user, pk)
    try:
        offer = services.get_visible_offer(request.user, offer_pk)
    except NotFound:
        raise Http404 from None
    if offer.demand_id != demand.pk:
        raise Http404
    return _run(
        request,
        lambda: services.accept_offer(request.user, offer),
        success=_("已采纳 %(name)s 的融资方案") % {"name": offer.institution},
        back=_detail_url(demand.pk),
    )


def _institution_or_404(pk: str) -> FinancialInstitution:
    try:
        number = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    institution = (
        FinancialInstitution.objects.filter(pk=number).first() if 0 < number < 2**63 else None
    )
    if institution is None:
        raise Http404
    return institution


@login_required
@require_POST
def authorisation(request, pk: int, action: str):
    demand = _demand_or_404(request.user, pk)
    institution = _institution_or_404(request.POST.get("institution_id"))
    if action == "grant":
        call = lambda: services.authorise_institution(request.user, demand, institution)  # noqa: E731
        success = _("已授权 %(name)s 查看本企业信息") % {"name": institution}
    elif action == "revoke":
        call = lambda: services.revoke_institution(request.user, demand, institution)  # noqa: E731
        success = _("已撤销 %(name)s 的授权") % {"name": institution}
    else:
        raise Http404
    return _run(request, call, success=success, back=_detail_url(demand.pk))


@login_required
@require_POST
def feedback(request, pk: int):
    demand = _demand_or_404(request.user, pk)
    data = request.POST
    return _run(
        request,
        lambda: services.leave_feedback(
            request.user,
            demand,
            data.get("institution_id"),
            data.get("score"),
            data.get("comment", ""),
        ),
        success=_("感谢评价"),
        back=_detail_url(demand.pk),
    )


# --- institution workbench -------------------------------------------------------------------


@login_required
@require_GET
def workbench(request):
    if scope_of(request.user).kind != ScopeKind.INSTITUTION:
        raise Http404
    form = StateFilterForm(request.GET or None, choices=DispatchState.choices)
    queryset = form.filter(
        Dispatch.objects.visible_to(request.user)
        .select_related("demand__enterprise__region", "branch", "institution")
        .order_by("-dispatched_at", "-pk")
    )
    todo_key = request.GET.get("todo", "")
    if todo_key in todo.DISPATCH_TODOS:
        queryset = todo.dispatch_todo(queryset, todo_key)
    else:
        todo_key = ""
    paginator = Paginator(queryset, PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    for dispatch in page_obj.object_list:
        dispatch.actions = services.dispatch_actions(request.user, dispatch)
    return render(
        request,
        "demands/workbench.html",
        {
            "form": form,
            "page_obj": page_obj,
            "dispatches": page_obj.object_list,
            "page_range": paginator.get_elided_page_range(page_obj.number),
            "querystring_base": form.querystring() + _todo_query(todo_key),
            "todo_key": todo_key,
            "todo_label": todo.DISPATCH_TODOS.get(todo_key, ""),
            "open_count": Dispatch.objects.visible_to(request.user)
            .filter(state=DispatchState.DISPATCHED)
            .count(),
            # what higher apps add (matching: ranked open demands, outreach list)
            **panel_context(
                "demands.workbench",
                user=request.user,
                outreach_group=request.GET.get("outreach", "").strip(),
            ),
        },
    )


@login_required
@require_POST
def dispatch_claim(request, pk: int):
    dispatch = _dispatch_or_404(request.user, pk)
    return _run(
        request,
        lambda: services.claim_dispatch(request.user, dispatch),
        success=_("已接单，请在办理期限内提交融资方案或反馈"),
        back=_detail_url(dispatch.demand_id),
    )


DISPATCH_FORMS = {
    "decline": (ReasonForm, gettext_lazy("谢绝派单"), gettext_lazy("已谢绝")),
    "offer": (OfferForm, gettext_lazy("提交融资方案"), gettext_lazy("融资方案已提交")),
    "result": (ResultForm, gettext_lazy("反馈办理结果"), gettext_lazy("结果已反馈")),
}


@login_required
@require_http_methods(["GET", "POST"])
def dispatch_form(request, pk: int, action: str):
    if action not in DISPATCH_FORMS:
        raise Http404
    dispatch = _dispatch_or_404(request.user, pk)
    if not services.workflows.owns_dispatch(request.user, dispatch):
        raise PermissionDenied
    form_class, title, success = DISPATCH_FORMS[action]
    kwargs = {"institution_id": dispatch.institution_id} if form_class is OfferForm else {}
    initial = {}
    existing = Offer.objects.filter(dispatch=dispatch).first()
    if action == "offer":
        source = existing
        initial = (
            {
                "amount_wan": format((source.amount / 10000).normalize(), "f"),
                "rate": source.rate if source.rate is not None else "",
                "term_months": source.term_months,
                "terms": source.terms,
                "product_id": str(source.product_id or ""),
            }
            if source
            else {
                "amount_wan": format((dispatch.demand.amount / 10000).normalize(), "f"),
                "term_months": dispatch.demand.term_months,
            }
        )
    elif action == "result" and existing:
        initial = {
            "amount_wan": format((existing.amount / 10000).normalize(), "f"),
            "rate": existing.rate if existing.rate is not None else "",
            "term_months": existing.term_months,
        }
    form = form_class(request.POST or None, initial=initial, **kwargs)
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        try:
            if action == "decline":
                services.decline_dispatch(request.user, dispatch, data["reason"])
            elif action == "offer":
                services.make_offer(request.user, dispatch, data)
            else:
                outcome = data.pop("outcome")
                services.record_result(request.user, dispatch, outcome, data)
        except ValidationFailed as exc:
            form.add_service_errors(exc)
        except NotAllowed:
            raise PermissionDenied from None
        except Conflict as exc:
            messages.error(request, exc.message)
            return redirect("demands:detail", pk=dispatch.demand_id)
        else:
            messages.success(request, str(success))
            return redirect("demands:detail", pk=dispatch.demand_id)
    return render(
        request,
        "demands/dispatch_form.html",
        {
            "form": form,
            "dispatch": dispatch,
            "demand": dispatch.demand,
            "title": title,
            "action": action,
        },
    )


@login_required
@require_GET
def supervision(request):
    """督办看板: government (its region) and platform admins; 404 for anyone
    else. The statistics of the default period are the kept ones
    (stats_kept, 数据截至) when there are some for the viewer's scope."""
    from . import sla, stats, stats_kept

    if not sla.can_supervise(request.user):
        raise Http404
    params = {key: request.GET.get(key, "") for key in ("start", "end", "group_by")}
    errors: dict[str, str] = {}
    try:
        start, end, group_by = stats.clean_period(
            params["start"], params["end"], params["group_by"] or "region"
        )
        if not (params["start"] or params["end"]):
            start = end = None
    except ValidationFailed as exc:
        errors = {e.field: e.message for e in exc.errors}
        start, end, group_by = None, None, "region"
    shown = stats_kept.board_stats(
        request.user, start=start, end=end, group_bys=(group_by, "institution")
    )
    result, compliance = shown.results
    board = sla.supervision_board(
        request.user,
        overdue_page=request.GET.get("overdue_page"),
        open_page=request.GET.get("open_page"),
        page_size=sla.BOARD_PAGE_SIZE,
    )
    # The pager links keep the filters and the other list's page.
    kept = {key: value for key, value in params.items() if value and key not in errors}
    overdue_query = urlencode({**kept, "open_page": board.open_page.number}) + "&"
    open_query = urlencode({**kept, "overdue_page": board.overdue_page.number}) + "&"
    return render(
        request,
        "demands/supervision.html",
        {
            "board": board,
            "overdue_query": overdue_query,
            "open_query": open_query,
            "overdue_range": board.overdue_page.paginator.get_elided_page_range(
                board.overdue_page.number
            ),
            "open_range": board.open_page.paginator.get_elided_page_range(board.open_page.number),
            "stats": result,
            "compliance_rows": compliance.rows,
            "chart_option": stats.chart_option(result) if result.rows else None,
            "groups": [(key, str(label)) for key, label in stats.GROUPS.items()],
            "figures": shown,
            "can_refresh": stats_kept.may_request(request.user),
            "start": result.start,
            "end": result.end,
            "group_by": group_by,
            "errors": errors,
        },
    )


@login_required
@require_POST
def refresh_supervision_stats(request):
    """A government user asks for the board's kept statistics to be computed
    again (once while a request is pending); back to the board with its
    filters."""
    from . import sla, stats_kept
    from .tasks import refresh_supervision_stats_now

    if not sla.can_supervise(request.user):
        raise Http404
    kept.refresh_button(request, stats_kept.request_refresh, refresh_supervision_stats_now)
    filters = request.GET.urlencode()
    return redirect(reverse("demands:supervision") + (f"?{filters}" if filters else ""))
