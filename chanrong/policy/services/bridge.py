"""转贷应急: the revolving fund that repays a maturing loan for an enterprise
against its bank's written renewal commitment, and is repaid from the
renewed loan.

    request (enterprise, or its bank on its behalf; the bank confirms its
             renewal commitment on the platform)
      ─approve→ (政策主管部门) ─draw→ 出款: pool.outstanding += amount, refused
      with 409 when the pool's balance cannot cover it
      ─repay→ from the renewed loan: outstanding −= amount, fee income +=
      calculator.bridge_fee (amount × daily rate × days)
    requested | approved ─reject→ (reason); requested ─withdraw→ (enterprise)

Every transition goes through the BRIDGE table (policy.workflows); every
movement of money locks the pool row first, so the pool's balance is never
below zero however many draws race for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
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
    BridgeDraw,
    BridgeState,
    Loan,
    PoolMovementKind,
    Programme,
    ProgrammeKind,
    ProgrammeState,
)
from ..workflows import BRIDGE
from .applications import evaluate
from .pools import (
    agency_users,
    enterprise_users,
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

#: A draw in these states holds the loan: a second request for it is refused.
LIVE = (BridgeState.REQUESTED, BridgeState.APPROVED, BridgeState.DRAWN)


def link(draw: BridgeDraw) -> str:
    return reverse("policy:pool_draw", args=[draw.pk])


def _tell(users, verb: str, message: str, draw: BridgeDraw) -> None:
    notify.send(users, f"policy.bridge.{verb}", message, link(draw))


def _parties(draw: BridgeDraw) -> list:
    """The enterprise and its bank."""
    return [
        *enterprise_users(draw.enterprise_id),
        *institution_users(draw.loan.institution_id),
    ]


# --- request ---------------------------------------------------------------------------


def request_draw(
    actor, programme: Programme, loan: Loan, data: dict[str, Any], *, today: date | None = None
) -> BridgeDraw:
    """An enterprise (or its bank on its behalf) asks the fund to repay a
    maturing loan. Refusals, nothing written on any: the programme not open
    (409); a loan not the enterprise's or not the bank's (403); the loan not
    confirmed by its bank (409) or not maturing within the programme's
    maximum days (422); an amount above the loan's principal or the
    programme's maximum per draw (422); conditions not met (422 with every
    reason); a live draw on the same loan (409)."""
    day = today or timezone.localdate()
    open_programme(programme, ProgrammeKind.BRIDGE, day)
    scope = scope_of(actor)
    if scope.kind == ScopeKind.ENTERPRISE:
        if loan.enterprise_id != scope.enterprise_id:
            raise NotAllowed(_("只能就本企业的贷款申请转贷应急"))
        by_bank = False
    elif scope.kind == ScopeKind.INSTITUTION:
        if loan.institution_id != scope.institution_id:
            raise NotAllowed(_("只能代本行贷款的借款企业申请"))
        by_bank = True
    else:
        raise NotAllowed(_("只有借款企业或其贷款银行可以申请转贷应急"))
    if not loan.confirmed:
        raise Conflict(_("该笔贷款尚未经贷款银行确认"), code="loan_unconfirmed")
    params = check(programme).params
    errors: list[FieldError] = []
    amount = read_money(data.get("amount"), "amount", errors)
    commitment_no = read_text(
        data.get("commitment_no"), "commitment_no", errors, limit=64, required=True
    )
    if amount is not None:
        if amount > loan.principal:
            errors.append(
                FieldError(
                    "amount",
                    _("不能超过到期贷款金额 %(p)s 元") % {"p": yuan(loan.principal)},
                )
            )
        elif params.max_amount is not None and amount > params.max_amount:
            errors.append(
                FieldError("amount", _("单笔最多 %(m)s 元") % {"m": yuan(params.max_amount)})
            )
    if not (day <= loan.maturity_date <= day + timedelta(days=params.max_days)):
        errors.append(
            FieldError(
                "loan",
                _("贷款到期日 %(m)s 应在今天起 %(n)s 天内（%(a)s 至 %(b)s）")
                % {
                    "m": loan.maturity_date,
                    "n": params.max_days,
                    "a": day,
                    "b": day + timedelta(days=params.max_days),
                },
            )
        )
    if errors:
        raise ValidationFailed(errors)
    enterprise = Enterprise.objects.select_related("region", "industry").get(pk=loan.enterprise_id)
    result = evaluate(programme, enterprise, loan, today=day)
    if not result.eligible:
        raise ValidationFailed(
            [FieldError("eligibility", m) for m in result.messages],
            message=_("不符合申请条件"),
        )
    with transaction.atomic():
        # The loan's row serialises requests for it: two at once cannot both
        # pass the "no live draw" check.
        Loan.objects.select_for_update().get(pk=loan.pk)
        live = BridgeDraw.objects.filter(loan=loan, state__in=LIVE).first()
        if live is not None:
            raise Conflict(
                _("该笔贷款已有转贷应急申请（%(s)s），不能重复申请")
                % {"s": live.get_state_display()},
                code="duplicate_draw",
            )
        draw = BridgeDraw.objects.create(
            programme=programme,
            enterprise_id=loan.enterprise_id,
            loan=loan,
            amount=amount,
            commitment_no=commitment_no,
            commitment_confirmed_at=timezone.now() if by_bank else None,
            commitment_confirmed_by=actor if by_bank else None,
            state=BridgeState.REQUESTED,
            created_by=actor,
        )
        audit.record(
            "policy.bridge.request",
            actor=actor,
            obj=draw,
            changes={
                "state": [None, BridgeState.REQUESTED],
                "amount": str(amount),
                "loan": loan.contract_no,
                "commitment_no": commitment_no,
            },
        )
        words = {
            "ent": enterprise.name,
            "p": programme.name,
            "a": yuan(amount),
            "no": loan.contract_no,
        }
        _tell(
            agency_users(programme),
            "request",
            _("%(ent)s 申请「%(p)s」转贷应急 %(a)s 元（到期贷款 %(no)s）") % words,
            draw,
        )
        if by_bank:
            _tell(
                enterprise_users(loan.enterprise_id),
                "request",
                _("贷款银行已代为申请「%(p)s」转贷应急 %(a)s 元（到期贷款 %(no)s）") % words,
                draw,
            )
        else:
            _tell(
                institution_users(loan.institution_id),
                "commitment",
                _("%(ent)s 申请转贷应急 %(a)s 元归还贷款 %(no)s，请确认贵行的续贷承诺") % words,
                draw,
            )
    return draw


def confirm_commitment(actor, draw: BridgeDraw) -> BridgeDraw:
    """The lending bank confirms its written renewal commitment (编号 as
    filed); the agency may approve only after that. Confirming twice is a
    no-op."""
    scope = scope_of(actor)
    if scope.kind != ScopeKind.INSTITUTION or scope.institution_id != draw.loan.institution_id:
        raise NotAllowed(_("只有贷款银行可以确认续贷承诺"))
    with transaction.atomic():
        current = BridgeDraw.objects.select_for_update().get(pk=draw.pk)
        if current.commitment_confirmed_at is not None:
            return current
        if current.state != BridgeState.REQUESTED:
            raise Conflict(
                _("当前状态为「%(s)s」，不能确认") % {"s": current.get_state_display()},
                code="invalid_transition",
            )
        current.commitment_confirmed_at, current.commitment_confirmed_by = timezone.now(), actor
        current.save(update_fields=["commitment_confirmed_at", "commitment_confirmed_by"])
        audit.record(
            "policy.bridge.confirm_commitment",
            actor=actor,
            obj=current,
            changes={"commitment_no": current.commitment_no, "confirmed": [False, True]},
        )
        _tell(
            agency_users(current.programme),
            "commitment",
            _("贷款银行已确认续贷承诺 %(no)s，转贷应急申请 %(a)s 元待审核")
            % {"no": current.commitment_no, "a": yuan(current.amount)},
            current,
        )
    return current


# --- transitions -----------------------------------------------------------------------


def approve(actor, draw: BridgeDraw) -> BridgeDraw:
    """同意转贷 — once the bank has confirmed its renewal commitment (409 before)."""
    guard(BRIDGE, "approve", draw, actor)
    if draw.commitment_confirmed_at is None:
        raise Conflict(_("贷款银行尚未确认续贷承诺，不能审核通过"), code="commitment_unconfirmed")
    return apply_transition(
        BRIDGE,
        draw,
        "approve",
        actor,
        notify=lambda d, t, who: _tell(
            _parties(d),
            "approve",
            _("转贷应急申请 %(a)s 元已同意，待出款") % {"a": yuan(d.amount)},
            d,
        ),
    )


def draw_funds(
    actor, draw: BridgeDraw, *, drawn_on: Any = None, today: date | None = None
) -> BridgeDraw:
    """出款: the pool pays the maturing loan. Locks the pool row, refuses
    with 409 "资金池余额不足" — writing nothing — when the balance cannot
    cover the draw, else outstanding += amount, a `draw` movement, and the
    due date drawn_on + the programme's maximum days."""
    day = today or timezone.localdate()
    errors: list[FieldError] = []
    when = read_day(drawn_on, "drawn_on", errors, default=day, not_after=day)
    if errors:
        raise ValidationFailed(errors)
    if draw.programme.state != ProgrammeState.PUBLISHED:
        raise Conflict(_("政策已结束，不能再出款"), code="programme_not_open")
    params = check(draw.programme).params
    with transaction.atomic():
        pool = lock_pool(draw.programme_id)
        current = BridgeDraw.objects.select_for_update().get(pk=draw.pk)
        guard(BRIDGE, "draw", current, actor)
        if pool.balance < current.amount:
            raise Conflict(
                _("资金池余额不足：可用 %(b)s 元，本笔需 %(a)s 元")
                % {"b": yuan(pool.balance), "a": yuan(current.amount)},
                code="pool_exhausted",
            )
        pool.outstanding += current.amount
        pool.save(update_fields=["outstanding"])
        record(
            pool,
            PoolMovementKind.DRAW,
            current.amount,
            when,
            actor,
            bridge=current,
            note=_("%(ent)s 转贷出款，归还贷款 %(no)s")
            % {"ent": current.enterprise.name, "no": current.loan.contract_no},
        )
        due = when + timedelta(days=params.max_days)
        return apply_transition(
            BRIDGE,
            current,
            "draw",
            actor,
            changes={"drawn_on": when, "due_on": due},
            notify=lambda d, t, who: _tell(
                _parties(d),
                "draw",
                _("转贷应急资金 %(a)s 元已于 %(d)s 出款，请于 %(due)s 前以续贷资金归还")
                % {"a": yuan(d.amount), "d": when, "due": due},
                d,
            ),
        )


def _renewed_loan_errors(draw: BridgeDraw, renewed: Loan | None) -> list[FieldError]:
    if renewed is None:
        return [FieldError("renewed_loan", _("请选择续贷贷款"))]
    problems = []
    if renewed.pk == draw.loan_id:
        problems.append(_("续贷贷款不能是到期的原贷款"))
    if renewed.enterprise_id != draw.enterprise_id:
        problems.append(_("续贷贷款应为同一企业的贷款"))
    if renewed.institution_id != draw.loan.institution_id:
        problems.append(_("续贷贷款应由出具续贷承诺的银行发放"))
    if not renewed.confirmed:
        problems.append(_("续贷贷款尚未经银行确认"))
    if draw.drawn_on and renewed.loan_date < draw.drawn_on:
        problems.append(_("续贷放款日期不能早于转贷出款日 %(d)s") % {"d": draw.drawn_on})
    return [FieldError("renewed_loan", p) for p in problems]


def repay(
    actor,
    draw: BridgeDraw,
    renewed_loan: Loan | None,
    *,
    repaid_on: Any = None,
    today: date | None = None,
) -> BridgeDraw:
    """归还 from the renewed loan: the fee is calculator.bridge_fee (amount ×
    daily rate × days used, at least one), explained line by line;
    outstanding −= amount, fee income += fee; movements `repay` and `fee`."""
    day = today or timezone.localdate()
    errors: list[FieldError] = []
    when = read_day(repaid_on, "repaid_on", errors, default=day, not_after=day)
    if when is not None and draw.drawn_on is not None and when < draw.drawn_on:
        errors.append(
            FieldError("repaid_on", _("归还日期不能早于出款日期 %(d)s") % {"d": draw.drawn_on})
        )
    if draw.state == BridgeState.DRAWN:
        errors.extend(_renewed_loan_errors(draw, renewed_loan))
    guard(BRIDGE, "repay", draw, actor)
    if errors:
        raise ValidationFailed(errors)
    params = check(draw.programme).params
    with transaction.atomic():
        pool = lock_pool(draw.programme_id)
        current = BridgeDraw.objects.select_for_update().get(pk=draw.pk)
        guard(BRIDGE, "repay", current, actor)
        used = BridgeDraw.objects.filter(renewed_loan=renewed_loan).exclude(pk=current.pk).first()
        if used is not None:
            raise Conflict(_("该续贷贷款已用于归还另一笔转贷应急资金"), code="renewed_loan_used")
        result = calc.bridge_fee(params, current.amount, current.drawn_on, when)
        fee = result.amount
        pool.outstanding -= current.amount
        pool.fee_income += fee
        pool.save(update_fields=["outstanding", "fee_income"])
        record(
            pool,
            PoolMovementKind.REPAY,
            current.amount,
            when,
            actor,
            bridge=current,
            note=_("%(ent)s 以续贷 %(no)s 归还")
            % {"ent": current.enterprise.name, "no": renewed_loan.contract_no},
        )
        if fee > 0:
            record(
                pool,
                PoolMovementKind.FEE,
                fee,
                when,
                actor,
                bridge=current,
                note=_("转贷使用费（不计入资金池余额）"),
            )
        return apply_transition(
            BRIDGE,
            current,
            "repay",
            actor,
            changes={
                "repaid_on": when,
                "renewed_loan": renewed_loan,
                "fee": fee,
                "calculation": result.as_json(),
            },
            notify=lambda d, t, who: _tell(
                _parties(d),
                "repay",
                _("转贷应急资金 %(a)s 元已于 %(d)s 归还，使用费 %(f)s 元")
                % {"a": yuan(d.amount), "d": when, "f": yuan(fee)},
                d,
            ),
        )


def reject(actor, draw: BridgeDraw, reason: Any) -> BridgeDraw:
    """驳回, with the reason the enterprise and its bank are told."""
    errors: list[FieldError] = []
    text = read_text(reason, "reason", errors, limit=500, required=True)
    if errors:
        raise ValidationFailed(errors)
    return apply_transition(
        BRIDGE,
        draw,
        "reject",
        actor,
        changes={"reason": text},
        notify=lambda d, t, who: _tell(
            _parties(d),
            "reject",
            _("转贷应急申请 %(a)s 元已驳回：%(r)s") % {"a": yuan(d.amount), "r": text},
            d,
        ),
    )


def withdraw(actor, draw: BridgeDraw, reason: Any = "") -> BridgeDraw:
    """The enterprise withdraws its request before approval."""
    errors: list[FieldError] = []
    text = read_text(reason, "reason", errors, limit=500, required=False)
    if errors:
        raise ValidationFailed(errors)
    return apply_transition(
        BRIDGE,
        draw,
        "withdraw",
        actor,
        changes={"reason": text},
        notify=lambda d, t, who: _tell(
            agency_users(d.programme),
            "withdraw",
            _("%(ent)s 撤回了转贷应急申请 %(a)s 元")
            % {"ent": d.enterprise.name, "a": yuan(d.amount)},
            d,
        ),
    )


# --- timing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """Days the money is (or was) out, and how many of them past due."""

    days: int | None
    overdue_days: int

    @property
    def overdue(self) -> bool:
        return self.overdue_days > 0


def timing(draw: BridgeDraw, today: date | None = None) -> Timing:
    """For pages and the API: a drawn draw counts up to today, a repaid one
    up to its repayment; overdue = still drawn and past its due date."""
    day = today or timezone.localdate()
    if draw.drawn_on is None:
        return Timing(None, 0)
    end = draw.repaid_on or day
    days = max((end - draw.drawn_on).days, 0)
    overdue = 0
    if draw.state == BridgeState.DRAWN and draw.due_on and day > draw.due_on:
        overdue = (day - draw.due_on).days
    return Timing(days, overdue)


def overdue_draws(today: date | None = None):
    day = today or timezone.localdate()
    return BridgeDraw.objects.filter(state=BridgeState.DRAWN, due_on__lt=day)


def notify_overdue(today: date | None = None) -> int:
    """Tell the agency and the enterprise about each draw past its due date,
    once a day per draw (the job runs hourly). Returns how many draws."""
    day = today or timezone.localdate()
    due = (
        overdue_draws(day)
        .filter(Q(overdue_notified_on__isnull=True) | Q(overdue_notified_on__lt=day))
        .select_related("programme", "enterprise", "loan")
    )
    told = 0
    for draw in due:
        with transaction.atomic():
            claimed = BridgeDraw.objects.filter(pk=draw.pk, state=BridgeState.DRAWN).filter(
                Q(overdue_notified_on__isnull=True) | Q(overdue_notified_on__lt=day)
            )
            if not claimed.update(overdue_notified_on=day):
                continue  # another run got there first
            late = (day - draw.due_on).days
            words = {
                "ent": draw.enterprise.name,
                "a": yuan(draw.amount),
                "due": draw.due_on,
                "n": late,
            }
            _tell(
                agency_users(draw.programme),
                "overdue",
                _("%(ent)s 的转贷应急资金 %(a)s 元应于 %(due)s 归还，已逾期 %(n)s 天") % words,
                draw,
            )
            _tell(
                enterprise_users(draw.enterprise_id),
                "overdue",
                _("贵企业的转贷应急资金 %(a)s 元应于 %(due)s 归还，已逾期 %(n)s 天，请尽快归还")
                % words,
                draw,
            )
        told += 1
    return told
