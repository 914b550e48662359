"""Applications: from the loan to the payment, one declared path.

    apply ─→ (bank_confirm) ─→ verify ─→ approve (budget committed, 公示)
          ─→ conclude (公示期满, no open objection) ─→ pay (voucher)
    reject / withdraw at any step before payment (commitment released)

The amount is always `compute()`: the calculator fed with the programme's
checked parameters, the loan, the claimed period, the interest or fee the
bank confirmed, the LPR in force on the loan date, and what the loan and
the enterprise already hold. `approve` computes it again under the budget
lock — the amount committed is the amount the reviewer saw unless another
approval changed the enterprise's holdings in between, and then the page
shows why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.accounts.models import User
from chanrong.core import audit, notify
from chanrong.core.errors import Conflict, FieldError, NotAllowed, ValidationFailed
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.core.workdays import add_workdays
from chanrong.core.workflow import apply_transition
from chanrong.finance import eligibility as el
from chanrong.finance.lpr import lpr_on
from chanrong.finance.services import enterprise_facts
from chanrong.registry.models import Enterprise

from .. import calculator as calc
from .. import params as pm
from .. import permissions as perms
from .. import rules, signals
from ..models import (
    COMMITTED_STATES,
    LIVE_STATES,
    Application,
    ApplicationState,
    Loan,
    Objection,
    Programme,
    ProgrammeKind,
    ProgrammeState,
)
from ..workflows import APPLICATION
from . import ledger
from .programmes import check


@dataclass(frozen=True)
class Claim:
    """What an application asks for, before anything is written."""

    period_start: date | None = None
    period_end: date | None = None
    paid_cost: Decimal | None = None
    award_item: str = ""

    @property
    def year(self) -> int | None:
        return self.period_end.year if self.period_end else None


def loan_facts(loan: Loan) -> calc.LoanFacts:
    return calc.LoanFacts(
        principal=loan.principal,
        rate=loan.rate,
        loan_date=loan.loan_date,
        maturity_date=loan.maturity_date,
        guarantee_fee_rate=loan.guarantee_fee_rate,
    )


def loan_terms(loan: Loan) -> rules.LoanTerms:
    return rules.LoanTerms(
        kind=loan.kind,
        purpose=loan.purpose,
        principal=loan.principal,
        loan_date=loan.loan_date,
        maturity_date=loan.maturity_date,
        project_class=loan.project.project_class if loan.project_id else None,
    )


def held_amounts(
    programme: Programme,
    enterprise_id: int | None,
    loan: Loan | None,
    year: int,
    *,
    exclude: int | None = None,
) -> calc.Held:
    """What the loan (any year) and the enterprise (this year) already hold
    in this programme: committed or paid, other applications only."""
    live = Application.objects.filter(
        programme=programme, state__in=[*COMMITTED_STATES, ApplicationState.PAID]
    )
    if exclude:
        live = live.exclude(pk=exclude)
    on_loan = Decimal(0)
    if loan is not None:
        on_loan = live.filter(loan=loan).aggregate(s=Sum("amount"))["s"] or Decimal(0)
    by_enterprise = Decimal(0)
    if enterprise_id is not None:
        by_enterprise = live.filter(enterprise_id=enterprise_id, year=year).aggregate(
            s=Sum("amount")
        )["s"] or Decimal(0)
    return calc.Held(on_loan=on_loan, by_enterprise_this_year=by_enterprise)


def compute(
    programme: Programme,
    claim: Claim,
    *,
    loan: Loan | None,
    enterprise_id: int | None,
    held: calc.Held | None = None,
    exclude: int | None = None,
) -> calc.Result:
    """The programme's amount for this claim, explained line by line."""
    checked = check(programme)
    params = checked.params
    year = claim.year or timezone.localdate().year
    if held is None:
        held = held_amounts(programme, enterprise_id, loan, year, exclude=exclude)
    window = (programme.starts_on, programme.ends_on)
    if programme.kind == ProgrammeKind.INTEREST:
        lpr = None
        if params.method == pm.LPR_SHARE:
            quote = lpr_on(loan.loan_date, params.lpr_tenor)
            if quote is not None:
                lpr = calc.LprFact(quote.tenor, quote.published_on, quote.rate, quote.stale)
        return calc.interest_subsidy(
            params,
            loan_facts(loan),
            (claim.period_start, claim.period_end),
            window,
            interest_paid=claim.paid_cost,
            lpr=lpr,
            held=held,
        )
    if programme.kind == ProgrammeKind.GUARANTEE_FEE:
        return calc.guarantee_fee_subsidy(
            params,
            loan_facts(loan),
            (claim.period_start, claim.period_end),
            window,
            fee_paid=claim.paid_cost,
            held=held,
        )
    if programme.kind == ProgrammeKind.AWARD:
        return calc.award(
            params, claim.award_item, loan=loan_facts(loan) if loan else None, held=held
        )
    raise Conflict(_("该政策不通过申请拨付"), code="not_an_application_programme")


def evaluate(
    programme: Programme,
    enterprise: Enterprise,
    loan: Loan | None = None,
    *,
    today: date | None = None,
    facts: el.EnterpriseFacts | None = None,
) -> el.EligibilityResult:
    """Which of the programme's conditions the enterprise (and loan) fail.

    `facts` are the enterprise's `enterprise_facts` on `today` when the caller
    already has them: a page that weighs every programme in force for one
    enterprise (我的政策) reads them once instead of seven queries per
    programme."""
    day = today or timezone.localdate()
    return rules.evaluate(
        check(programme).conditions,
        facts if facts is not None else enterprise_facts(enterprise, today=day),
        chongqing_class=enterprise.chongqing_class or None,
        loan=loan_terms(loan) if loan is not None else None,
        today=day,
    )


# --- input ---------------------------------------------------------------------------


def _parse_claim(programme: Programme, data: dict[str, Any]) -> Claim:
    errors: list[FieldError] = []

    def day(name: str) -> date | None:
        raw = data.get(name)
        if isinstance(raw, date):
            return raw
        if raw in (None, ""):
            errors.append(FieldError(name, _("必填")))
            return None
        try:
            return date.fromisoformat(str(raw))
        except ValueError:
            errors.append(FieldError(name, _("日期格式应为 YYYY-MM-DD")))
            return None

    paid = None
    raw_paid = data.get("paid_cost")
    if raw_paid not in (None, ""):
        try:
            paid = Decimal(str(raw_paid).replace(",", "").strip())
            if not paid.is_finite() or paid < 0:
                raise InvalidOperation
        except InvalidOperation:
            errors.append(FieldError("paid_cost", _("应为非负金额")))
            paid = None
    if programme.kind == ProgrammeKind.AWARD:
        item = str(data.get("award_item") or "").strip()
        if not item:
            errors.append(FieldError("award_item", _("请选择奖励事项")))
        elif check(programme).params.item(item) is None:
            errors.append(FieldError("award_item", _("没有该奖励事项")))
        if errors:
            raise ValidationFailed(errors)
        today = timezone.localdate()
        return Claim(period_start=today, period_end=today, award_item=item)
    start, end = day("period_start"), day("period_end")
    if start and end:
        if end < start:
            errors.append(FieldError("period_end", _("截止日早于起始日")))
        elif start.year != end.year:
            errors.append(FieldError("period_end", _("申请期间不能跨年度，请按年度分别申请")))
        elif end < programme.starts_on or start > programme.ends_on:
            errors.append(
                FieldError(
                    "period_start",
                    _("申请期间应在政策期 %(a)s 至 %(b)s 内")
                    % {"a": programme.starts_on, "b": programme.ends_on},
                )
            )
        elif end > timezone.localdate():
            errors.append(FieldError("period_end", _("只能申请已经发生的利息或担保费")))
    if errors:
        raise ValidationFailed(errors)
    return Claim(period_start=start, period_end=end, paid_cost=paid)


def _applicant(
    actor, programme: Programme, data: dict[str, Any]
) -> tuple[Enterprise | None, int | None]:
    scope = scope_of(actor)
    if scope.kind == ScopeKind.ENTERPRISE:
        return Enterprise.objects.select_related("region", "industry").get(
            pk=scope.enterprise_id
        ), None
    if scope.kind == ScopeKind.INSTITUTION and programme.kind == ProgrammeKind.AWARD:
        return None, scope.institution_id
    raise NotAllowed(_("只有企业（或奖励对象为金融机构时的金融机构）可以申请"))


def _refuse_duplicates(programme: Programme, application: Application) -> None:
    """409 when a live application already covers this loan and an
    overlapping period, or this award item for this applicant."""
    live = Application.objects.filter(programme=programme, state__in=LIVE_STATES)
    if application.loan_id is not None and programme.kind != ProgrammeKind.AWARD:
        other = live.filter(
            loan_id=application.loan_id,
            period_start__lte=application.period_end,
            period_end__gte=application.period_start,
        ).first()
        if other is not None:
            raise Conflict(
                _("该笔贷款在 %(a)s 至 %(b)s 已有申请（%(state)s），不能重复申请")
                % {
                    "a": other.period_start,
                    "b": other.period_end,
                    "state": other.get_state_display(),
                },
                code="duplicate_application",
            )
        return
    same = live.filter(award_item=application.award_item)
    if application.loan_id is not None:
        same = same.filter(loan_id=application.loan_id)
    elif application.enterprise_id is not None:
        same = same.filter(enterprise_id=application.enterprise_id, loan__isnull=True)
    else:
        same = same.filter(institution_id=application.institution_id, loan__isnull=True)
    if same.exists():
        raise Conflict(_("该奖励事项已申请，不能重复申请"), code="duplicate_application")


def apply(
    actor,
    programme: Programme,
    data: dict[str, Any],
    *,
    loan: Loan | None,
    auto_built: bool = False,
) -> Application:
    """File an application. Refusals: a programme not open (409), a loan not
    the applicant's (404-like 403), conditions not met (422 listing every
    reason), a live application for the same loan and an overlapping period
    (409), a computed amount of zero (422 with the calculator's reason).
    Nothing is written on any refusal."""
    if programme.state != ProgrammeState.PUBLISHED:
        raise Conflict(_("该政策未在受理期"), code="programme_not_open")
    if programme.kind not in (
        ProgrammeKind.INTEREST,
        ProgrammeKind.GUARANTEE_FEE,
        ProgrammeKind.AWARD,
    ):
        raise Conflict(_("该政策不通过申请拨付"), code="not_an_application_programme")
    enterprise, institution_id = _applicant(actor, programme, data)
    claim = _parse_claim(programme, data)
    item = (
        check(programme).params.item(claim.award_item)
        if programme.kind == ProgrammeKind.AWARD
        else None
    )
    needs_loan = programme.kind != ProgrammeKind.AWARD or (
        item is not None and item.rate is not None
    )
    if item is not None and (item.recipient == "institution") != (institution_id is not None):
        raise ValidationFailed({"award_item": _("该奖励事项的申请对象不是您所在的机构类型")})
    if needs_loan:
        if loan is None:
            raise ValidationFailed({"loan": _("请选择贷款")})
        owner_ok = (enterprise is not None and loan.enterprise_id == enterprise.pk) or (
            institution_id is not None and loan.institution_id == institution_id
        )
        if not owner_ok:
            raise NotAllowed(_("只能就本企业的贷款申请"))
    if enterprise is not None:
        result = evaluate(programme, enterprise, loan if needs_loan else None)
        if not result.eligible:
            raise ValidationFailed(
                [FieldError("eligibility", m) for m in result.messages],
                message=_("不符合申请条件"),
            )
    result = compute(
        programme,
        claim,
        loan=loan if needs_loan else None,
        enterprise_id=enterprise.pk if enterprise else None,
    )
    if result.blocked and not result.estimate:
        raise ValidationFailed(
            [FieldError("amount", result.blocked)], message=_("按政策计算无可申请金额")
        )
    needs_bank = (
        programme.requires_bank_confirmation
        and needs_loan
        and (not loan.confirmed or programme.kind != ProgrammeKind.AWARD)
    )
    state = ApplicationState.BANK_PENDING if needs_bank else ApplicationState.SUBMITTED
    application = Application(
        programme=programme,
        enterprise=enterprise,
        institution_id=institution_id
        if institution_id
        else (loan.institution_id if loan else None),
        loan=loan if needs_loan else None,
        year=claim.year or timezone.localdate().year,
        period_start=claim.period_start,
        period_end=claim.period_end,
        paid_cost=claim.paid_cost,
        award_item=claim.award_item,
        amount=result.amount,
        calculation=result.as_json(),
        state=state,
        auto_built=auto_built,
        submitted_by=actor,
        submitted_at=timezone.now(),
    )
    try:
        with transaction.atomic():
            # The loan's row lock orders two applications on one loan, so the
            # overlap check below cannot be raced past; awards without a loan
            # lock the programme row instead.
            if needs_loan:
                Loan.objects.select_for_update().filter(pk=loan.pk).first()
            else:
                Programme.objects.select_for_update().filter(pk=programme.pk).first()
            _refuse_duplicates(programme, application)
            application.save()
            audit.record(
                "policy.application.submit",
                actor=actor,
                obj=application,
                changes={"state": [None, state], "amount": str(result.amount)},
            )
            if state == ApplicationState.BANK_PENDING:
                _request_bank_confirmation(application)
            else:
                _notify_reviewers(application)
    except IntegrityError as exc:
        raise Conflict(
            _("该笔贷款在该期间已有申请，不能重复申请"), code="duplicate_application"
        ) from exc
    return application


def _link(application: Application) -> str:
    return reverse("policy:application", args=[application.pk])


def _request_bank_confirmation(application: Application) -> None:
    loan = application.loan
    notify.send(
        User.objects.filter(institution_id=loan.institution_id, is_active=True),
        "policy.confirmation_requested",
        _("%(ent)s 就贷款 %(no)s 申请「%(p)s」，请确认贷款信息和期间实付金额")
        % {
            "ent": application.enterprise.name if application.enterprise else "",
            "no": loan.contract_no,
            "p": application.programme.name,
        },
        _link(application),
    )
    signals.institution_events.send_in_transaction(
        events=[
            (
                loan.institution_id,
                "policy.confirmation_requested",
                {
                    "application_id": application.pk,
                    "programme_id": application.programme_id,
                    "programme": application.programme.name,
                    "loan_id": loan.pk,
                    "contract_no": loan.contract_no,
                    "period_start": str(application.period_start)
                    if application.period_start
                    else None,
                    "period_end": str(application.period_end) if application.period_end else None,
                    "paid_cost": None
                    if application.paid_cost is None
                    else str(application.paid_cost),
                },
            )
        ]
    )


def _programme_officials(application: Application, *, finance_only: bool = False):
    """The 财政 (and, unless finance_only, 工信) officials of the programme's own region."""
    from chanrong.accounts.models import AgencyFunction

    functions = [AgencyFunction.FINANCE] if finance_only else list(perms.PROGRAMME_FUNCTIONS)
    return User.objects.filter(
        is_active=True,
        agency__region_id=application.programme.region_id,
        agency__function__in=functions,
    )


def _notify_reviewers(application: Application, *, finance_only: bool = False) -> None:
    notify.send(
        _programme_officials(application, finance_only=finance_only),
        "policy.application.review",
        _("「%(p)s」有待审核的申请：%(who)s，%(amount)s 元")
        % {
            "p": application.programme.name,
            "who": _applicant_name(application),
            "amount": f"{application.amount:,.2f}",
        },
        _link(application),
        email=False,
    )


def _applicant_name(application: Application) -> str:
    if application.enterprise_id:
        return application.enterprise.name
    return application.institution.name if application.institution_id else ""


def _applicant_users(application: Application):
    if application.enterprise_id:
        return User.objects.filter(enterprise_id=application.enterprise_id, is_active=True)
    return User.objects.filter(institution_id=application.institution_id, is_active=True)


def _tell_applicant(message: str):
    def notifier(application: Application, transition, actor) -> None:
        notify.send(
            _applicant_users(application),
            f"policy.application.{transition.name}",
            message % {"p": application.programme.name, "amount": f"{application.amount:,.2f}"},
            _link(application),
        )

    return notifier


# --- transitions ---------------------------------------------------------------------


def confirm(actor, application: Application) -> Application:
    """免申即享: the enterprise confirms the application the platform built;
    it then goes to the bank (when the programme needs its confirmation) or
    straight to review."""
    # A built application knows no interest actually paid yet: only the
    # lender can confirm it, whatever the programme says about confirmation.
    needs_bank = bool(application.loan_id) and (
        application.programme.requires_bank_confirmation or application.paid_cost is None
    )
    name = "confirm" if needs_bank else "confirm_direct"
    with transaction.atomic():
        application = apply_transition(
            APPLICATION,
            application,
            name,
            actor,
            changes={"submitted_by": actor, "submitted_at": timezone.now()},
        )
        if needs_bank:
            _request_bank_confirmation(application)
        else:
            _notify_reviewers(application)
    return application


def bank_confirm(actor, application: Application, paid_cost: Any = None) -> Application:
    """The lending bank confirms the loan and the interest (or fee) actually
    paid in the period; the amount is computed again with the confirmed figure."""
    if not perms.is_lender(actor, application):
        raise NotAllowed(_("只有贷款银行可以确认"))
    if application.programme.kind != ProgrammeKind.AWARD:
        claim = _parse_claim(
            application.programme,
            {
                "period_start": application.period_start,
                "period_end": application.period_end,
                "paid_cost": paid_cost if paid_cost not in (None, "") else application.paid_cost,
            },
        )
        if claim.paid_cost is None:
            raise ValidationFailed({"paid_cost": _("请确认期间内实际支付的金额")})
    else:
        claim = Claim(
            application.period_start, application.period_end, None, application.award_item
        )
    with transaction.atomic():
        loan = Loan.objects.select_for_update().get(pk=application.loan_id)
        if loan.confirmed_at is None:
            loan.confirmed_at, loan.confirmed_by = timezone.now(), actor
            loan.save(update_fields=["confirmed_at", "confirmed_by"])
        result = compute(
            application.programme,
            claim,
            loan=loan,
            enterprise_id=application.enterprise_id,
            exclude=application.pk,
        )
        application = apply_transition(
            APPLICATION,
            application,
            "bank_confirm",
            actor,
            changes={
                "paid_cost": claim.paid_cost,
                "amount": result.amount,
                "calculation": result.as_json(),
                "bank_confirmed_at": timezone.now(),
                "bank_confirmed_by": actor,
            },
            notify=lambda a, t, who: _notify_reviewers(a),
        )
    return application


def verify(actor, application: Application) -> Application:
    """主管部门初审."""
    return apply_transition(
        APPLICATION,
        application,
        "verify",
        actor,
        changes={"verified_by": actor},
        notify=lambda a, t, who: _notify_reviewers(a, finance_only=True),
    )


def approve(actor, application: Application, *, today: date | None = None) -> Application:
    """财政复核: compute again under the budget lock, commit the amount and
    open the 公示. Refused with 409 — and nothing written — when the budget
    or the enterprise's annual cap has no room, or a fact is unconfirmed."""
    if not perms.can_approve(actor, application):
        if perms.can_pay(actor, application) and actor.pk == application.verified_by_id:
            raise NotAllowed(_("初审与复核须由不同人员办理"))
        raise NotAllowed(_("只有财政部门可以复核"))
    day = today or timezone.localdate()
    with transaction.atomic():
        current = Application.objects.select_for_update().get(pk=application.pk)
        if current.state != ApplicationState.VERIFIED:
            raise Conflict(
                _("当前状态为「%(s)s」，不能复核") % {"s": current.get_state_display()},
                code="invalid_transition",
            )
        budget = ledger.lock_budget(current.programme_id, current.year)
        holding = None
        if current.enterprise_id:
            holding = ledger.lock_enterprise_year(
                current.programme_id, current.year, current.enterprise_id
            )
        loan = Loan.objects.select_for_update().get(pk=current.loan_id) if current.loan_id else None
        claim = Claim(
            current.period_start, current.period_end, current.paid_cost, current.award_item
        )
        result = compute(
            current.programme,
            claim,
            loan=loan,
            enterprise_id=current.enterprise_id,
            exclude=current.pk,
        )
        if result.estimate:
            raise Conflict(_("实付利息/担保费尚未经银行确认，不能复核"), code="unconfirmed")
        if result.amount <= 0:
            raise Conflict(result.blocked or _("按政策计算的金额为零"), code="cap_reached")
        current.amount = result.amount
        ledger.commit(actor, current, budget, holding)
        ends = add_workdays(day, current.programme.notice_days)
        return apply_transition(
            APPLICATION,
            current,
            "approve",
            actor,
            changes={
                "amount": result.amount,
                "calculation": result.as_json(),
                "approved_by": actor,
                "notice_starts_on": day,
                "notice_ends_on": ends,
            },
            notify=_tell_applicant(_("「%(p)s」申请已通过复核，核定 %(amount)s 元，进入公示")),
        )


def conclude(actor, application: Application, *, today: date | None = None) -> Application:
    """公示期满: no objection left open. `actor` None is the scheduler."""
    day = today or timezone.localdate()
    if application.notice_ends_on and day <= application.notice_ends_on:
        raise Conflict(
            _("公示期至 %(d)s，期满后方可办理") % {"d": application.notice_ends_on},
            code="notice_running",
        )
    if application.objections.filter(handled_at__isnull=True).exists():
        raise Conflict(_("尚有未处理的公示异议"), code="open_objections")
    return apply_transition(APPLICATION, application, "conclude", actor)


def pay(actor, application: Application, voucher_no: str, paid_on: Any = None) -> Application:
    """拨付 with the payment voucher's number; the commitment becomes a payment."""
    voucher = str(voucher_no or "").strip()
    errors = []
    if not voucher:
        errors.append(FieldError("voucher_no", _("请填写拨付凭证号")))
    elif len(voucher) > 64:
        errors.append(FieldError("voucher_no", _("不超过 64 个字符")))
    when = timezone.localdate()
    if paid_on not in (None, ""):
        try:
            when = paid_on if isinstance(paid_on, date) else date.fromisoformat(str(paid_on))
        except ValueError:
            errors.append(FieldError("paid_on", _("日期格式应为 YYYY-MM-DD")))
        else:
            if when > timezone.localdate():
                errors.append(FieldError("paid_on", _("拨付日期不能晚于今天")))
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        current = Application.objects.select_for_update().get(pk=application.pk)
        if current.state != ApplicationState.APPROVED:
            return apply_transition(APPLICATION, current, "pay", actor)  # raises the right 409/403
        if not perms.can_pay(actor, current):
            raise NotAllowed(_("只有财政部门可以拨付"))
        ledger.pay(actor, current)
        return apply_transition(
            APPLICATION,
            current,
            "pay",
            actor,
            changes={"voucher_no": voucher, "paid_on": when, "decided_at": timezone.now()},
            notify=_tell_applicant(_("「%(p)s」资金 %(amount)s 元已拨付")),
        )


def _close(actor, application: Application, name: str, reason: str) -> Application:
    reason = str(reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": _("请说明原因")})
    if len(reason) > 500:
        raise ValidationFailed({"reason": _("不超过 500 个字符")})
    with transaction.atomic():
        current = Application.objects.select_for_update().get(pk=application.pk)
        held = current.state in COMMITTED_STATES
        transitioned = apply_transition(
            APPLICATION,
            current,
            name,
            actor,
            changes={"reason": reason, "decided_at": timezone.now()},
            notify=_tell_applicant(_("「%(p)s」申请已驳回：") + reason.replace("%", "%%"))
            if name == "reject"
            else None,
        )
        if held:
            ledger.release(actor, transitioned)
    return transitioned


def reject(actor, application: Application, reason: str) -> Application:
    return _close(actor, application, "reject", reason)


def withdraw(actor, application: Application, reason: str) -> Application:
    return _close(actor, application, "withdraw", reason)


# --- 公示 and objections --------------------------------------------------------------


def raise_objection(application: Application, data: dict[str, Any]) -> Objection:
    """Anyone may object during the 公示 (the public page has no login)."""
    if application.state != ApplicationState.NOTICE:
        raise Conflict(_("该申请不在公示期"), code="not_in_notice")
    errors = []
    clean = {}
    for name, limit in (("name", 64), ("contact", 64), ("text", 2000)):
        value = str(data.get(name) or "").strip()
        if not value:
            errors.append(FieldError(name, _("必填")))
        elif len(value) > limit:
            errors.append(FieldError(name, _("不超过 %(n)s 个字符") % {"n": limit}))
        clean[name] = value
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        objection = Objection.objects.create(application=application, **clean)
        audit.record(
            "policy.objection.raise",
            actor=None,
            obj=application,
            changes={"objection": objection.pk},
        )
        notify.send(
            _programme_officials(application),
            "policy.objection",
            _("「%(p)s」公示收到异议，请处理") % {"p": application.programme.name},
            _link(application),
        )
    return objection


def handle_objection(actor, objection: Objection, resolution: str, *, uphold: bool) -> Objection:
    """Record how an objection was handled; upholding it rejects the application."""
    application = objection.application
    if not perms.can_verify(actor, application):
        raise NotAllowed()
    resolution = str(resolution or "").strip()
    if not resolution:
        raise ValidationFailed({"resolution": _("请填写处理意见")})
    with transaction.atomic():
        locked = Objection.objects.select_for_update().get(pk=objection.pk)
        if locked.handled_at is not None:
            raise Conflict(_("该异议已处理"), code="already_handled")
        locked.handled_at, locked.handled_by, locked.resolution = (
            timezone.now(),
            actor,
            resolution[:500],
        )
        locked.save(update_fields=["handled_at", "handled_by", "resolution"])
        audit.record(
            "policy.objection.handle",
            actor=actor,
            obj=application,
            changes={"objection": locked.pk, "uphold": uphold},
        )
        if uphold:
            reject(actor, application, _("公示异议成立：") + resolution[:400])
    return locked


def close_notices(today: date | None = None) -> int:
    """Move every application whose 公示 has ended without open objections
    to 待拨付 (the scheduler runs this daily). Returns how many moved."""
    day = today or timezone.localdate()
    moved = 0
    due = Application.objects.filter(state=ApplicationState.NOTICE, notice_ends_on__lt=day).exclude(
        objections__handled_at__isnull=True, objections__isnull=False
    )
    for application in due.select_related("programme"):
        try:
            conclude(None, application, today=day)
            moved += 1
        except Conflict:
            continue
    return moved
