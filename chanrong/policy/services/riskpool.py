"""风险补偿: a pool that shares banks' losses on loans they registered in it.

    register (备案: the lending bank; the loan meets the programme's
              conditions; once per programme and loan; share = params.share)
    file a claim (the bank, on a loss) ─pay→ (政策主管部门) compensation =
      calculator.compensation: loss × share, capped per loan (less what the
      loan already got) and by the pool's balance; paid_out += it
                                     ─reject→ (reason)
    report a recovery (the bank, on a paid claim): the pool's part comes
      back in the ratio it bore the loss (calculator.recovery_back)

Every figure is the calculator's, kept line by line in the claim's
`calculation` (Result.as_json(); recoveries under "recoveries"). Paying and
recovering lock the pool row first, so the balance is never below zero.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import audit, notify
from chanrong.core.errors import Conflict, FieldError, NotAllowed, ValidationFailed
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.core.workflow import apply_transition
from chanrong.registry.models import Enterprise

from .. import calculator as calc
from ..models import (
    ClaimState,
    Loan,
    LossClaim,
    PoolMovement,
    PoolMovementKind,
    PoolRegistration,
    Programme,
    ProgrammeKind,
)
from ..workflows import CLAIM
from .applications import evaluate
from .pools import (
    FEN,
    agency_users,
    guard,
    institution_users,
    lock_pool,
    open_programme,
    read_day,
    read_money,
    read_text,
    record,
    yuan,
)
from .programmes import check


def claim_link(claim: LossClaim) -> str:
    return reverse("policy:pool_claim", args=[claim.pk])


def registration_link(registration: PoolRegistration) -> str:
    return reverse("policy:pool", args=[registration.programme_id])


def visible_claims(user):
    """Claims on the registrations `user` may see (the registration family's
    one visibility rule)."""
    return LossClaim.objects.filter(
        registration__in=PoolRegistration.objects.visible_to(user).values("pk")
    )


def _is_lender(actor, loan: Loan) -> bool:
    scope = scope_of(actor)
    return scope.kind == ScopeKind.INSTITUTION and scope.institution_id == loan.institution_id


# --- 备案 ------------------------------------------------------------------------------


def register(
    actor, programme: Programme, loan: Loan, *, today: date | None = None
) -> PoolRegistration:
    """备案: the lending bank registers one of its loans into the pool.
    Refusals, nothing written: not the lender (403), programme not open or
    the loan unconfirmed (409), conditions not met (422 with every reason),
    the loan already registered in this programme (409)."""
    day = today or timezone.localdate()
    open_programme(programme, ProgrammeKind.RISK_POOL, day)
    if not _is_lender(actor, loan):
        raise NotAllowed(_("只有贷款银行可以将贷款备案入池"))
    if not loan.confirmed:
        raise Conflict(_("请先确认该笔贷款的信息"), code="loan_unconfirmed")
    params = check(programme).params
    if PoolRegistration.objects.filter(programme=programme, loan=loan).exists():
        raise Conflict(_("该笔贷款已在本资金池备案"), code="duplicate_registration")
    enterprise = Enterprise.objects.select_related("region", "industry").get(pk=loan.enterprise_id)
    result = evaluate(programme, enterprise, loan, today=day)
    if not result.eligible:
        raise ValidationFailed(
            [FieldError("eligibility", m) for m in result.messages],
            message=_("该笔贷款不符合入池条件"),
        )
    try:
        with transaction.atomic():
            registration = PoolRegistration.objects.create(
                programme=programme,
                loan=loan,
                registered_on=day,
                share=params.share,
                registered_by=actor,
            )
            audit.record(
                "policy.pool.register",
                actor=actor,
                obj=registration,
                changes={
                    "programme": programme.pk,
                    "loan": loan.contract_no,
                    "share": str(params.share),
                },
            )
            notify.send(
                agency_users(programme),
                "policy.pool.register",
                _("%(bank)s 将 %(ent)s 的贷款 %(no)s（%(p)s 元）备案入「%(prog)s」")
                % {
                    "bank": loan.institution.name,
                    "ent": enterprise.name,
                    "no": loan.contract_no,
                    "p": yuan(loan.principal),
                    "prog": programme.name,
                },
                registration_link(registration),
                email=False,
            )
    except IntegrityError as exc:
        raise Conflict(_("该笔贷款已在本资金池备案"), code="duplicate_registration") from exc
    return registration


# --- claims ----------------------------------------------------------------------------


def _held_on_loan(registration: PoolRegistration, exclude: int | None = None) -> Decimal:
    """What the pool already paid on this registration's loan (other claims)."""
    paid = LossClaim.objects.filter(registration=registration, state=ClaimState.PAID)
    if exclude:
        paid = paid.exclude(pk=exclude)
    return _fen(paid.aggregate(s=Sum("compensation"))["s"])


def _fen(total) -> Decimal:
    """A database sum back to the fen (SQLite adds decimals as floats)."""
    return Decimal(str(total or 0)).quantize(FEN)


def preview(claim_or_registration, loss: Decimal, *, exclude: int | None = None) -> calc.Result:
    """What the pool would pay now for `loss` (an estimate: the balance and
    the loan's other claims may change before payment)."""
    registration = getattr(claim_or_registration, "registration", claim_or_registration)
    programme = registration.programme
    pool = programme.pool
    result = calc.compensation(
        check(programme).params,
        loss,
        share=registration.share,
        pool_balance=pool.balance,
        held_on_loan=_held_on_loan(registration, exclude),
    )
    result.estimate = True
    return result


def file_claim(
    actor, registration: PoolRegistration, data: dict[str, Any], *, today: date | None = None
) -> LossClaim:
    """The bank reports a loss on a registered loan. Refusals, nothing
    written: not the lender (403), a loss not positive or above the loan's
    principal (422), a claim on the loan still waiting for review (409)."""
    day = today or timezone.localdate()
    loan = registration.loan
    if not _is_lender(actor, loan):
        raise NotAllowed(_("只有贷款银行可以申请风险补偿"))
    errors: list[FieldError] = []
    loss = read_money(data.get("loss"), "loss", errors)
    if loss is not None and loss > loan.principal:
        errors.append(
            FieldError("loss", _("不能超过贷款金额 %(p)s 元") % {"p": yuan(loan.principal)})
        )
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        PoolRegistration.objects.select_for_update().get(pk=registration.pk)
        if LossClaim.objects.filter(registration=registration, state=ClaimState.CLAIMED).exists():
            raise Conflict(_("该笔贷款已有待审核的补偿申请"), code="claim_open")
        estimate = preview(registration, loss)
        claim = LossClaim.objects.create(
            registration=registration,
            loss=loss,
            calculation=estimate.as_json(),
            state=ClaimState.CLAIMED,
            claimed_on=day,
            created_by=actor,
        )
        audit.record(
            "policy.claim.file",
            actor=actor,
            obj=claim,
            changes={"state": [None, ClaimState.CLAIMED], "loss": str(loss)},
        )
        notify.send(
            agency_users(registration.programme),
            "policy.claim.file",
            _("%(bank)s 就贷款 %(no)s 申请风险补偿，损失 %(l)s 元")
            % {"bank": loan.institution.name, "no": loan.contract_no, "l": yuan(loss)},
            claim_link(claim),
        )
    return claim


def pay_claim(actor, claim: LossClaim, *, paid_on: Any = None, today: date | None = None):
    """代偿: under the pool's lock, compensation = loss × share, at most the
    per-loan cap less what the loan already got, at most the pool's balance;
    paid_out += it and a `compensate` movement. A claim for which the pool
    can pay nothing (empty pool, cap reached) is refused with 409."""
    day = today or timezone.localdate()
    errors: list[FieldError] = []
    when = read_day(paid_on, "paid_on", errors, default=day, not_after=day)
    if errors:
        raise ValidationFailed(errors)
    registration = claim.registration
    programme = registration.programme
    guard(CLAIM, "pay", claim, actor)
    with transaction.atomic():
        pool = lock_pool(programme.pk)
        current = LossClaim.objects.select_for_update().get(pk=claim.pk)
        guard(CLAIM, "pay", current, actor)
        result = calc.compensation(
            check(programme).params,
            current.loss,
            share=registration.share,
            pool_balance=pool.balance,
            held_on_loan=_held_on_loan(registration, exclude=current.pk),
        )
        if result.amount <= 0:
            if pool.balance <= 0:
                raise Conflict(_("资金池余额不足"), code="pool_exhausted")
            raise Conflict(result.blocked or _("本贷款已达补偿上限"), code="cap_reached")
        amount = result.amount
        pool.paid_out += amount
        pool.save(update_fields=["paid_out"])
        record(
            pool,
            PoolMovementKind.COMPENSATE,
            amount,
            when,
            actor,
            claim=current,
            note=_("代偿 %(bank)s 贷款 %(no)s 的损失")
            % {"bank": registration.loan.institution.name, "no": registration.loan.contract_no},
        )
        return apply_transition(
            CLAIM,
            current,
            "pay",
            actor,
            changes={"compensation": amount, "calculation": result.as_json(), "paid_on": when},
            notify=lambda c, t, who: notify.send(
                institution_users(registration.loan.institution_id),
                "policy.claim.pay",
                _("贷款 %(no)s 的风险补偿 %(a)s 元已代偿")
                % {"no": registration.loan.contract_no, "a": yuan(amount)},
                claim_link(c),
            ),
        )


def reject_claim(actor, claim: LossClaim, reason: Any) -> LossClaim:
    errors: list[FieldError] = []
    text = read_text(reason, "reason", errors, limit=500, required=True)
    if errors:
        raise ValidationFailed(errors)
    loan = claim.registration.loan
    return apply_transition(
        CLAIM,
        claim,
        "reject",
        actor,
        changes={"reason": text},
        notify=lambda c, t, who: notify.send(
            institution_users(loan.institution_id),
            "policy.claim.reject",
            _("贷款 %(no)s 的风险补偿申请已驳回：%(r)s") % {"no": loan.contract_no, "r": text},
            claim_link(c),
        ),
    )


# --- recoveries ------------------------------------------------------------------------


def returned_to_pool(claim: LossClaim) -> Decimal:
    return _fen(
        PoolMovement.objects.filter(claim=claim, kind=PoolMovementKind.RECOVER).aggregate(
            s=Sum("amount")
        )["s"]
    )


def report_recovery(
    actor, claim: LossClaim, amount: Any, *, on: Any = None, today: date | None = None
) -> LossClaim:
    """The bank recovered `amount` of a compensated loss (追偿); the pool's
    part flows back in the ratio it bore the loss. Computed on the claim's
    cumulative recoveries and less what already flowed back, so the pool
    never gets back more (or less) than compensation × recovered ÷ loss,
    rounded once. Refusals: not the lender (403), the claim not paid (409),
    an amount not positive or taking recoveries above the loss (422)."""
    day = today or timezone.localdate()
    loan = claim.registration.loan
    if not _is_lender(actor, loan):
        raise NotAllowed(_("只有贷款银行可以报告追偿回收"))
    errors: list[FieldError] = []
    value = read_money(amount, "amount", errors)
    when = read_day(on, "on", errors, default=day, not_after=day)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        pool = lock_pool(claim.registration.programme_id)
        current = LossClaim.objects.select_for_update().get(pk=claim.pk)
        if current.state != ClaimState.PAID:
            raise Conflict(_("只有已代偿的补偿申请才能报告回收"), code="claim_not_paid")
        total = current.recovered + value
        if total > current.loss:
            raise ValidationFailed(
                {
                    "amount": _("累计回收 %(t)s 元不能超过损失金额 %(l)s 元")
                    % {"t": yuan(total), "l": yuan(current.loss)}
                }
            )
        result = calc.recovery_back(current.compensation, current.loss, total)
        before = returned_to_pool(current)
        back = result.amount - before
        if before:
            result.add(
                _("扣除此前已回流"),
                _("累计应回流 %(c)s 元 − 此前已回流 %(b)s 元 = 本次回流 %(a)s 元")
                % {"c": yuan(result.amount), "b": yuan(before), "a": yuan(back)},
                back,
            )
            result.amount = back
        if back > 0:
            pool.recovered += back
            pool.save(update_fields=["recovered"])
            record(
                pool,
                PoolMovementKind.RECOVER,
                back,
                when,
                actor,
                claim=current,
                note=_("贷款 %(no)s 追偿回收 %(r)s 元，按代偿比例回流")
                % {"no": loan.contract_no, "r": yuan(value)},
            )
        calculation = dict(current.calculation)
        calculation["recoveries"] = [
            *calculation.get("recoveries", []),
            {"on": str(when), "recovered": str(value), **result.as_json()},
        ]
        old = current.recovered
        current.recovered = total
        current.calculation = calculation
        current.save(update_fields=["recovered", "calculation"])
        audit.record(
            "policy.claim.recover",
            actor=actor,
            obj=current,
            changes={
                "recovered": [str(old), str(total)],
                "back_to_pool": str(back),
                "on": str(when),
            },
        )
        notify.send(
            agency_users(claim.registration.programme),
            "policy.claim.recover",
            _("%(bank)s 报告贷款 %(no)s 追偿回收 %(r)s 元，回流资金池 %(b)s 元")
            % {
                "bank": loan.institution.name,
                "no": loan.contract_no,
                "r": yuan(value),
                "b": yuan(back),
            },
            claim_link(current),
            email=False,
        )
    return current
