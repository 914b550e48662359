"""The pool pages (/policy/pools/): 转贷应急 and 风险补偿.

- An agency sees each of its pools — balance, capital, outstanding, paid
  out, recovered, fee income, every movement with the running balance and a
  chart of the balance — and the draws (days outstanding, overdue
  highlighted) or the registrations and claims, with the actions it may take.
- A bank sees its draw requests, registrations and claims with its actions
  (confirm a renewal commitment, file on a borrower's behalf, register a
  loan, file a claim, report a recovery).
- An enterprise sees its draws and asks for one.

Every rule is in services.bridge / services.riskpool / services.pools; a
view turns a request into a call and the answer into a page (a refusal into
field errors, a message, 403 or 404).
"""

from __future__ import annotations

from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chanrong.core.errors import NotAllowed, NotFound, ServiceError, ValidationFailed
from chanrong.core.paging import paginate
from chanrong.core.scope import ScopeKind, scope_of

from .. import permissions as perms
from ..models import (
    POOL_KINDS,
    BridgeDraw,
    BridgeState,
    ClaimState,
    Loan,
    LossClaim,
    PoolRegistration,
    Programme,
    ProgrammeKind,
)
from ..services import bridge, pools, riskpool
from ..services.programmes import check
from ..workflows import BRIDGE, CLAIM

# --- forms: plain text in, so that the services' checks (and messages) decide ----------------


class _ServiceForm(forms.Form):
    def add_service_errors(self, exc: ValidationFailed) -> None:
        for error in exc.errors:
            name = error.field if error.field in self.fields else None
            self.add_error(name, error.message)


def _money(label):
    return forms.CharField(
        label=label,
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        help_text=gettext_lazy("单位：元，最多两位小数"),
    )


def _day(label, required=False):
    return forms.CharField(
        label=label,
        max_length=20,
        required=required,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class CapitalForm(_ServiceForm):
    amount = _money(gettext_lazy("注资金额"))
    on = _day(gettext_lazy("到账日期"))
    note = forms.CharField(label=gettext_lazy("说明"), max_length=200, required=False)


class LoanChoice(forms.ModelChoiceField):
    def __init__(self, **kwargs):
        kwargs.setdefault("empty_label", gettext_lazy("请选择贷款"))
        super().__init__(**kwargs)

    def label_from_instance(self, loan: Loan) -> str:
        return _("%(ent)s · %(no)s · %(p)s 元 · %(m)s 到期") % {
            "ent": loan.enterprise.name,
            "no": loan.contract_no,
            "p": pools.yuan(loan.principal),
            "m": loan.maturity_date,
        }


class DrawRequestForm(_ServiceForm):
    loan = LoanChoice(label=gettext_lazy("到期贷款"), queryset=Loan.objects.none())
    amount = _money(gettext_lazy("转贷金额"))
    commitment_no = forms.CharField(
        label=gettext_lazy("银行续贷承诺书编号"),
        max_length=64,
        help_text=gettext_lazy("企业申请时由贷款银行在平台上确认；银行代为申请即视为确认"),
    )


class DrawForm(_ServiceForm):
    drawn_on = _day(gettext_lazy("出款日期"))


class RepayForm(_ServiceForm):
    renewed_loan = LoanChoice(label=gettext_lazy("续贷贷款"), queryset=Loan.objects.none())
    repaid_on = _day(gettext_lazy("归还日期"))


class ReasonForm(_ServiceForm):
    reason = forms.CharField(
        label=gettext_lazy("原因"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class WithdrawForm(_ServiceForm):
    reason = forms.CharField(label=gettext_lazy("原因"), max_length=500, required=False)


class RegisterForm(_ServiceForm):
    loan = LoanChoice(label=gettext_lazy("备案贷款"), queryset=Loan.objects.none())


class ClaimForm(_ServiceForm):
    loss = _money(gettext_lazy("损失金额"))


class PayClaimForm(_ServiceForm):
    paid_on = _day(gettext_lazy("代偿日期"))


class RecoveryForm(_ServiceForm):
    amount = _money(gettext_lazy("本次回收金额"))
    on = _day(gettext_lazy("回收日期"))


# --- helpers ---------------------------------------------------------------------------


def _translate_errors(view):
    """NotFound → 404 and NotAllowed → 403 wherever a view lets them out."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound:
            raise Http404 from None
        except NotAllowed:
            raise PermissionDenied from None

    return wrapper


def _flash(request, exc: ServiceError) -> None:
    details = "；".join(e.message for e in exc.errors)
    messages.error(request, f"{exc.message}：{details}" if details else exc.message)


def _kind(request):
    return scope_of(request.user).kind


def _managed_pools(user):
    return Programme.objects.managed_by(user).filter(kind__in=POOL_KINDS)


def _open_programmes(kind: str):
    return Programme.objects.in_force(timezone.localdate()).filter(kind=kind)


def _draw_rows(draws, today):
    return [(d, bridge.timing(d, today)) for d in draws]


def _draws(user):
    return BridgeDraw.objects.visible_to(user).select_related(
        "programme", "enterprise", "loan", "loan__institution"
    )


def _claims(user):
    return riskpool.visible_claims(user).select_related(
        "registration__programme", "registration__loan__enterprise"
    )


def _registrations(user):
    return PoolRegistration.objects.visible_to(user).select_related(
        "programme", "loan", "loan__enterprise"
    )


# --- pages -----------------------------------------------------------------------------


@login_required
@require_GET
def index(request):
    """One entry for everybody: the agency's pools, a bank's or an
    enterprise's own draws, registrations and claims.

    The draws, registrations and claims grow with use, so each pages on its
    own parameter; the agency's pools (the bridge and risk-pool programmes it
    runs: a handful) and the programmes open to apply (those in force) are
    bounded by construction and listed whole."""
    user = request.user
    kind = _kind(request)
    today = timezone.localdate()
    context = {"today": today, "scope": kind}
    if kind in (ScopeKind.GOVERNMENT, ScopeKind.PLATFORM):
        programmes = list(_managed_pools(user).select_related("pool", "agency"))
        overdue = {}
        for draw in bridge.overdue_draws(today).filter(programme__in=programmes):
            overdue[draw.programme_id] = overdue.get(draw.programme_id, 0) + 1
        context["pools"] = [(p, p.pool, overdue.get(p.pk, 0)) for p in programmes]
        return render(request, "policy/pools/index.html", context)
    if kind == ScopeKind.INSTITUTION:
        draws = paginate(request, _draws(user).order_by("-requested_at", "-pk"), param="dpage")
        registrations = paginate(
            request, _registrations(user).order_by("-registered_on", "-pk"), param="rpage"
        )
        claims = paginate(request, _claims(user).order_by("-pk"), param="cpage")
        context.update(
            bridges=_open_programmes(ProgrammeKind.BRIDGE),
            risk_pools=_open_programmes(ProgrammeKind.RISK_POOL),
            draws=_draw_rows(draws["page_obj"].object_list, today),
            draws_pager=draws,
            registrations=registrations["page_obj"].object_list,
            registrations_pager=registrations,
            claims=claims["page_obj"].object_list,
            claims_pager=claims,
        )
        return render(request, "policy/pools/bank.html", context)
    if kind == ScopeKind.ENTERPRISE:
        draws = paginate(request, _draws(user).order_by("-requested_at", "-pk"), param="dpage")
        context.update(
            bridges=_open_programmes(ProgrammeKind.BRIDGE),
            draws=_draw_rows(draws["page_obj"].object_list, today),
            draws_pager=draws,
        )
        return render(request, "policy/pools/enterprise.html", context)
    raise Http404


def _pool_context(request, programme: Programme, **forms_):
    today = timezone.localdate()
    pool = programme.pool
    rows = pools.ledger(pool)
    context = {
        "programme": programme,
        "pool": pool,
        "params": check(programme).params,
        "rows": rows,
        "chart_option": pools.chart_option(rows, until=today),
        "can_manage": perms.can_manage_programme(request.user, programme),
        "capital_form": forms_.get("capital_form") or CapitalForm(),
        "today": today,
    }
    # The draws, registrations and claims grow with use: each pages on its
    # own parameter (as on the index), and the overdue count is one COUNT.
    if programme.kind == ProgrammeKind.BRIDGE:
        draws = _draws(request.user).filter(programme=programme)
        page = paginate(request, draws.order_by("-requested_at", "-pk"), param="dpage")
        context["draws"] = _draw_rows(page["page_obj"].object_list, today)
        context["draws_pager"] = page
        context["overdue_count"] = (
            bridge.overdue_draws(today)
            .filter(pk__in=draws.values("pk"), drawn_on__isnull=False)
            .count()
        )
    else:
        registrations = paginate(
            request,
            _registrations(request.user)
            .filter(programme=programme)
            .select_related("loan__institution")
            .order_by("-registered_on", "-pk"),
            param="rpage",
        )
        claims = paginate(
            request,
            _claims(request.user)
            .filter(registration__programme=programme)
            .order_by("-claimed_on", "-pk"),
            param="cpage",
        )
        context.update(
            registrations=registrations["page_obj"].object_list,
            registrations_pager=registrations,
            claims=claims["page_obj"].object_list,
            claims_pager=claims,
        )
    return context


@login_required
@require_GET
def pool_detail(request, pk: int):
    programme = get_object_or_404(_managed_pools(request.user).select_related("pool"), pk=pk)
    return render(request, "policy/pools/pool.html", _pool_context(request, programme))


@login_required
@require_POST
@_translate_errors
def capital(request, pk: int):
    programme = get_object_or_404(_managed_pools(request.user).select_related("pool"), pk=pk)
    form = CapitalForm(request.POST)
    if form.is_valid():
        try:
            pool = pools.add_capital(request.user, programme, **form.cleaned_data)
        except ValidationFailed as exc:
            form.add_service_errors(exc)
        except NotAllowed:
            raise
        except ServiceError as exc:
            _flash(request, exc)
            return redirect("policy:pool", pk=programme.pk)
        else:
            messages.success(
                request, _("已注资，资金池规模 %(c)s 元") % {"c": pools.yuan(pool.capital)}
            )
            return redirect("policy:pool", pk=programme.pk)
    context = _pool_context(request, programme, capital_form=form)
    return render(request, "policy/pools/pool.html", context)


# --- 转贷应急 --------------------------------------------------------------------------


def _request_loans(user):
    """Loans the user may ask the fund about: confirmed and not yet matured."""
    return (
        Loan.objects.visible_to(user)
        .filter(confirmed_at__isnull=False, maturity_date__gte=timezone.localdate())
        .select_related("enterprise")
        .order_by("maturity_date", "pk")
    )


@login_required
@require_http_methods(["GET", "POST"])
@_translate_errors
def draw_new(request, pk: int):
    if _kind(request) not in (ScopeKind.ENTERPRISE, ScopeKind.INSTITUTION):
        raise Http404
    programme = get_object_or_404(
        Programme.objects.visible_to(request.user).filter(kind=ProgrammeKind.BRIDGE), pk=pk
    )
    form = DrawRequestForm(request.POST if request.method == "POST" else None)
    form.fields["loan"].queryset = _request_loans(request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        loan = data.pop("loan")
        try:
            draw = bridge.request_draw(request.user, programme, loan, data)
        except ValidationFailed as exc:
            form.add_service_errors(exc)
        except NotAllowed:
            raise
        except ServiceError as exc:
            _flash(request, exc)
        else:
            messages.success(request, _("已提交转贷应急申请"))
            return redirect("policy:pool_draw", pk=draw.pk)
    return render(
        request,
        "policy/pools/draw_form.html",
        {"programme": programme, "params": check(programme).params, "form": form},
    )


def _renewal_loans(draw: BridgeDraw, user):
    return (
        Loan.objects.visible_to(user)
        .filter(
            enterprise_id=draw.enterprise_id,
            institution_id=draw.loan.institution_id,
            confirmed_at__isnull=False,
        )
        .exclude(pk=draw.loan_id)
        .select_related("enterprise")
        .order_by("-loan_date", "pk")
    )


DRAW_ACTIONS = ("confirm", "approve", "draw", "repay", "reject", "withdraw")


def _draw_forms(draw: BridgeDraw, user, bound: dict | None = None) -> dict:
    bound = bound or {}
    repay = bound.get("repay") or RepayForm()
    repay.fields["renewed_loan"].queryset = _renewal_loans(draw, user)
    return {
        "draw_form": bound.get("draw") or DrawForm(),
        "repay_form": repay,
        "reject_form": bound.get("reject") or ReasonForm(),
        "withdraw_form": bound.get("withdraw") or WithdrawForm(),
    }


def _draw_actions(draw: BridgeDraw, user) -> set[str]:
    names = {t.name for t in BRIDGE.available(draw, user)}
    scope = scope_of(user)
    if (
        draw.state == BridgeState.REQUESTED
        and draw.commitment_confirmed_at is None
        and scope.kind == ScopeKind.INSTITUTION
        and scope.institution_id == draw.loan.institution_id
    ):
        names.add("confirm")
    return names


def _render_draw(request, draw: BridgeDraw, bound: dict | None = None):
    today = timezone.localdate()
    context = {
        "draw": draw,
        "timing": bridge.timing(draw, today),
        "params": check(draw.programme).params,
        "actions": _draw_actions(draw, request.user),
        "can_see_pool": perms.can_manage_programme(request.user, draw.programme)
        or _managed_pools(request.user).filter(pk=draw.programme_id).exists(),
        "today": today,
        **_draw_forms(draw, request.user, bound),
    }
    return render(request, "policy/pools/draw.html", context)


@login_required
@require_GET
def draw_detail(request, pk: int):
    draw = get_object_or_404(_draws(request.user), pk=pk)
    return _render_draw(request, draw)


@login_required
@require_POST
@_translate_errors
def draw_action(request, pk: int, action: str):
    if action not in DRAW_ACTIONS:
        raise Http404
    draw = get_object_or_404(_draws(request.user), pk=pk)
    user = request.user
    form = None
    try:
        if action == "confirm":
            bridge.confirm_commitment(user, draw)
            done = _("已确认续贷承诺")
        elif action == "approve":
            bridge.approve(user, draw)
            done = _("已同意转贷")
        elif action == "draw":
            form = DrawForm(request.POST)
            if not form.is_valid():
                return _render_draw(request, draw, {"draw": form})
            bridge.draw_funds(user, draw, drawn_on=form.cleaned_data["drawn_on"])
            done = _("已出款")
        elif action == "repay":
            form = RepayForm(request.POST)
            form.fields["renewed_loan"].queryset = _renewal_loans(draw, user)
            if not form.is_valid():
                return _render_draw(request, draw, {"repay": form})
            bridge.repay(
                user,
                draw,
                form.cleaned_data["renewed_loan"],
                repaid_on=form.cleaned_data["repaid_on"],
            )
            done = _("已登记归还")
        elif action == "reject":
            form = ReasonForm(request.POST)
            if not form.is_valid():
                return _render_draw(request, draw, {"reject": form})
            bridge.reject(user, draw, form.cleaned_data["reason"])
            done = _("已驳回")
        else:
            form = WithdrawForm(request.POST)
            if not form.is_valid():
                return _render_draw(request, draw, {"withdraw": form})
            bridge.withdraw(user, draw, form.cleaned_data["reason"])
            done = _("已撤回")
    except ValidationFailed as exc:
        if form is None:
            _flash(request, exc)
        else:
            form.add_service_errors(exc)
            return _render_draw(request, draw, {action: form})
    except NotAllowed:
        raise
    except ServiceError as exc:
        _flash(request, exc)
    else:
        messages.success(request, done)
    return redirect("policy:pool_draw", pk=draw.pk)


# --- 风险补偿 --------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@_translate_errors
def register(request, pk: int):
    if _kind(request) != ScopeKind.INSTITUTION:
        raise Http404
    programme = get_object_or_404(
        Programme.objects.visible_to(request.user).filter(kind=ProgrammeKind.RISK_POOL), pk=pk
    )
    form = RegisterForm(request.POST if request.method == "POST" else None)
    form.fields["loan"].queryset = (
        Loan.objects.visible_to(request.user)
        .filter(confirmed_at__isnull=False)
        .exclude(pk__in=PoolRegistration.objects.filter(programme=programme).values("loan_id"))
        .select_related("enterprise")
        .order_by("-loan_date", "pk")
    )
    if request.method == "POST" and form.is_valid():
        try:
            riskpool.register(request.user, programme, form.cleaned_data["loan"])
        except ValidationFailed as exc:
            form.add_service_errors(exc)
        except NotAllowed:
            raise
        except ServiceError as exc:
            _flash(request, exc)
        else:
            messages.success(request, _("贷款已备案入池"))
            return redirect("policy:pools")
    return render(
        request,
        "policy/pools/register_form.html",
        {"programme": programme, "params": check(programme).params, "form": form},
    )


@login_required
@require_http_methods(["GET", "POST"])
@_translate_errors
def claim_new(request, pk: int):
    registration = get_object_or_404(_registrations(request.user), pk=pk)
    if not perms.can_confirm_loan(request.user, registration.loan):  # the lender
        raise PermissionDenied
    form = ClaimForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            claim = riskpool.file_claim(request.user, registration, form.cleaned_data)
        except ValidationFailed as exc:
            form.add_service_errors(exc)
        except NotAllowed:
            raise
        except ServiceError as exc:
            _flash(request, exc)
        else:
            messages.success(request, _("已提交风险补偿申请"))
            return redirect("policy:pool_claim", pk=claim.pk)
    return render(
        request,
        "policy/pools/claim_form.html",
        {
            "registration": registration,
            "params": check(registration.programme).params,
            "form": form,
        },
    )


CLAIM_ACTIONS = ("pay", "reject", "recover")


def _render_claim(request, claim: LossClaim, bound: dict | None = None):
    bound = bound or {}
    user = request.user
    actions = {t.name for t in CLAIM.available(claim, user)}
    if claim.state == ClaimState.PAID and perms.can_confirm_loan(user, claim.registration.loan):
        actions.add("recover")
    context = {
        "claim": claim,
        "registration": claim.registration,
        "returned": riskpool.returned_to_pool(claim),
        "actions": actions,
        "can_see_pool": _managed_pools(user).filter(pk=claim.registration.programme_id).exists(),
        "pay_form": bound.get("pay") or PayClaimForm(),
        "reject_form": bound.get("reject") or ReasonForm(),
        "recover_form": bound.get("recover") or RecoveryForm(),
    }
    return render(request, "policy/pools/claim.html", context)


@login_required
@require_GET
def claim_detail(request, pk: int):
    return _render_claim(request, get_object_or_404(_claims(request.user), pk=pk))


@login_required
@require_POST
@_translate_errors
def claim_action(request, pk: int, action: str):
    if action not in CLAIM_ACTIONS:
        raise Http404
    claim = get_object_or_404(_claims(request.user), pk=pk)
    user = request.user
    form_class = {"pay": PayClaimForm, "reject": ReasonForm, "recover": RecoveryForm}[action]
    form = form_class(request.POST)
    if not form.is_valid():
        return _render_claim(request, claim, {action: form})
    data = form.cleaned_data
    try:
        if action == "pay":
            paid = riskpool.pay_claim(user, claim, paid_on=data["paid_on"])
            done = _("已代偿 %(a)s 元") % {"a": pools.yuan(paid.compensation)}
        elif action == "reject":
            riskpool.reject_claim(user, claim, data["reason"])
            done = _("已驳回")
        else:
            riskpool.report_recovery(user, claim, data["amount"], on=data["on"])
            done = _("已登记追偿回收")
    except ValidationFailed as exc:
        form.add_service_errors(exc)
        return _render_claim(request, claim, {action: form})
    except NotAllowed:
        raise
    except ServiceError as exc:
        _flash(request, exc)
    else:
        messages.success(request, done)
    return redirect("policy:pool_claim", pk=claim.pk)


urlpatterns = [
    path("", index, name="pools"),
    path("<int:pk>/", pool_detail, name="pool"),
    path("<int:pk>/capital/", capital, name="pool_capital"),
    path("<int:pk>/draws/new/", draw_new, name="pool_draw_new"),
    path("<int:pk>/registrations/new/", register, name="pool_register"),
    path("draws/<int:pk>/", draw_detail, name="pool_draw"),
    path("draws/<int:pk>/<slug:action>/", draw_action, name="pool_draw_action"),
    path("registrations/<int:pk>/claim/", claim_new, name="pool_claim_new"),
    path("claims/<int:pk>/", claim_detail, name="pool_claim"),
    path("claims/<int:pk>/<slug:action>/", claim_action, name="pool_claim_action"),
]
