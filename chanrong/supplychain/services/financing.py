"""Financing on confirmed receivables, and the double-financing guard.

A bank (only a bank) finances a confirmed receivable by pledge (质押) or
factoring (保理, with or without recourse). The rule, precisely:

    available = confirmed_amount − financed − vouchered      (read under the row lock)
    backing   = the part of the receivable pledged or assigned to this bank;
                0 < backing ≤ available (default: all of available)
    amount    = what the bank lends; 0 < amount ≤ ⌊backing × advance_ratio / 100⌋ (to the fen)

and `financed += backing`. So across all banks the backing of every
financing on a receivable (plus the vouchers issued against it) never
exceeds what its debtor confirmed, and no bank ever lends more than its
advance ratio of the part it holds. Each invoice belongs to exactly one live
receivable, so the same holds per invoice.

Why it holds under any concurrency: every financing first locks the
receivable's row (SELECT … FOR UPDATE; SQLite has a single writer), reads
`available` under the lock, and writes `financed` back in the same
transaction; a second bank asking at the same moment waits for the lock,
then reads the new total and is refused with 409. Should any code path ever
skip the lock, the check constraint `receivable_financed_within_confirmed`
refuses the row. `financed` only grows: a repaid financing does not free its
backing (the debtor's payment extinguished that part of the receivable).

The platform records the bank's registration number from the 动产融资统一
登记公示系统 (中登网), unique across financings: the same registration
cannot be reported for two.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from chanrong.core import audit, notify
from chanrong.core.errors import Conflict, FieldError, NotAllowed, ValidationFailed
from chanrong.core.money import to_halfwidth
from chanrong.core.workflow import apply_transition
from chanrong.registry.models import DataAuthorisation

from .. import signals
from ..models import (
    CONFIRMED_STATES,
    Financing,
    FinancingMode,
    FinancingState,
    Receivable,
    ReceivableKind,
)
from ..permissions import bank_of
from ..workflows import FINANCING
from .common import (
    enterprise_users,
    floor_fen,
    guard,
    institution_users,
    lock_receivable,
    read_choice,
    read_day,
    read_money,
    read_rate,
    read_text,
    today_or,
    yuan,
)

#: 中登网 registration numbers are digits (the initial registration's
#: 登记证明编号, 20 to 22 digits today); letters and hyphens are accepted for
#: older and amendment numbers, nothing else.
REGISTRATION_NO = re.compile(r"^[0-9A-Z][0-9A-Z\-]{7,31}$")
HUNDRED = 100


def _read_registration(raw: Any, errors: list[FieldError]) -> str:
    text = re.sub(r"\s+", "", to_halfwidth(str(raw or ""))).upper()
    if not text:
        errors.append(FieldError("registration_no", _("请填写动产融资统一登记公示系统的登记编号")))
    elif not REGISTRATION_NO.match(text):
        errors.append(FieldError("registration_no", _("登记编号应为 8–32 位数字或字母")))
    return text


def finance(
    actor, receivable: Receivable, data: dict[str, Any], *, today: date | None = None
) -> Financing:
    """A bank records its financing on a confirmed receivable, under the
    double-financing guard (module docstring).

    data: mode (pledge | factoring_recourse | factoring_non_recourse),
    advance_ratio (%), amount (元), backing (元, default all of the
    unfinanced confirmed balance), registration_no (中登网), contract_no,
    financed_on (default today), matures_on (default the receivable's due
    date), repayment_account (回款账户; required for a 政采 contract, whose
    purchasing body pays into it).

    Refusals, nothing written: not a bank (403); the supplier has not
    authorised this bank (403); field errors (422), including a backing above
    the confirmed amount and an amount above backing × ratio; the receivable
    not confirmed, matured, fully financed, or `backing` above what is left
    unfinanced — another bank got there first (409); a registration number
    already recorded (409)."""
    day = today_or(today)
    bank_id = bank_of(actor)
    if bank_id is None:
        raise NotAllowed(_("只有银行可以办理应收账款融资"))
    if receivable.due_on < day:  # checked again under the lock
        raise Conflict(_("应收账款已到期，不能再融资"), code="receivable_matured")
    errors: list[FieldError] = []
    mode = read_choice(data.get("mode"), "mode", errors, FinancingMode)
    ratio = read_rate(data.get("advance_ratio"), "advance_ratio", errors, upper=HUNDRED)
    amount = read_money(data.get("amount"), "amount", errors)
    backing = read_money(data.get("backing"), "backing", errors, required=False)
    registration_no = _read_registration(data.get("registration_no"), errors)
    contract_no = read_text(data.get("contract_no"), "contract_no", errors, limit=64, required=True)
    financed_on = read_day(data.get("financed_on"), "financed_on", errors, default=day)
    matures_on = read_day(data.get("matures_on"), "matures_on", errors, default=receivable.due_on)
    account = read_text(
        data.get("repayment_account"),
        "repayment_account",
        errors,
        limit=100,
        required=receivable.kind == ReceivableKind.GOV_PROCUREMENT,
    )
    if financed_on is not None and financed_on > day:
        errors.append(FieldError("financed_on", _("不能晚于今天")))
    if financed_on is not None and matures_on is not None and matures_on < financed_on:
        errors.append(FieldError("matures_on", _("到期日期不能早于放款日期")))
    ceiling = receivable.confirmed_amount or receivable.amount
    if backing is not None and backing > ceiling:
        errors.append(FieldError("backing", _("不能超过确权金额 %(c)s 元") % {"c": yuan(ceiling)}))
    elif backing is not None and amount is not None and ratio is not None:
        limit = floor_fen(backing * ratio / HUNDRED)
        if amount > limit:
            errors.append(
                FieldError(
                    "amount",
                    _("融资金额不能超过质押/转让金额 × 融资比例，即 %(l)s 元") % {"l": yuan(limit)},
                )
            )
    if errors:
        raise ValidationFailed(errors)
    authorised = DataAuthorisation.objects.filter(
        enterprise_id=receivable.creditor_id, institution_id=bank_id, revoked_at__isnull=True
    ).exists()
    if not authorised:
        raise NotAllowed(_("该供应商尚未向贵行授权，不能办理融资"))
    with transaction.atomic():
        # The guard: one financing at a time per receivable, re-checked under the lock.
        locked = lock_receivable(receivable.pk)
        if locked.state not in CONFIRMED_STATES:
            raise Conflict(
                _("应收账款当前为「%(s)s」，确权后才能融资") % {"s": locked.get_state_display()},
                code="receivable_unconfirmed",
            )
        if locked.due_on < day:
            raise Conflict(_("应收账款已到期，不能再融资"), code="receivable_matured")
        available = locked.available
        if available <= 0:
            raise Conflict(_("该应收账款的确权金额已全部用于融资或开立凭证"), code="fully_financed")
        take = backing if backing is not None else available
        if take > available:
            raise Conflict(
                _("重复融资：该应收账款尚未融资的确权余额为 %(a)s 元，本笔需占用 %(t)s 元")
                % {"a": yuan(available), "t": yuan(take)},
                code="exceeds_unfinanced",
            )
        limit = floor_fen(take * ratio / HUNDRED)
        if amount > limit:
            raise ValidationFailed(
                {
                    "amount": _("融资金额不能超过未融资确权余额 × 融资比例，即 %(l)s 元")
                    % {"l": yuan(limit)}
                }
            )
        used = Conflict(
            _("登记编号 %(n)s 已用于另一笔融资") % {"n": registration_no},
            code="registration_used",
        )
        if Financing.objects.filter(registration_no=registration_no).exists():
            raise used
        try:
            with transaction.atomic():
                financing = Financing.objects.create(
                    receivable=locked,
                    bank_id=bank_id,
                    mode=mode,
                    backing=take,
                    amount=amount,
                    advance_ratio=ratio,
                    registration_no=registration_no,
                    contract_no=contract_no,
                    financed_on=financed_on,
                    matures_on=matures_on,
                    repayment_account=account,
                    created_by=actor,
                )
        except IntegrityError as exc:
            if "registration_no" in str(exc):
                raise used from exc
            raise
        locked.financed += take
        locked.save(update_fields=["financed", "updated_at"])
        audit.record(
            "supplychain.financing.create",
            actor=actor,
            obj=financing,
            changes={
                "state": [None, financing.state],
                "receivable": locked.pk,
                "mode": mode,
                "backing": str(take),
                "amount": str(amount),
                "advance_ratio": str(ratio),
                "registration_no": registration_no,
                "financed": [str(locked.financed - take), str(locked.financed)],
            },
        )
        words = {
            "b": actor.institution.name,
            "no": locked.contract_no,
            "m": FinancingMode(mode).label,
            "t": yuan(take),
            "a": yuan(amount),
        }
        notify.send(
            enterprise_users(locked.creditor_id),
            "supplychain.financing.create",
            _("%(b)s 已就应收账款（合同 %(no)s）办理%(m)s，占用 %(t)s 元，融资 %(a)s 元") % words,
        )
        if locked.debtor_id is not None and mode != FinancingMode.PLEDGE:
            # A factoring assigns the receivable: the debtor must now pay the bank.
            notify.send(
                enterprise_users(locked.debtor_id),
                "supplychain.financing.assigned",
                _("应收账款（合同 %(no)s）%(t)s 元已转让给 %(b)s（%(m)s），请向其付款") % words,
            )
        signals.institution_events.send_in_transaction(
            events=[(bank_id, "supplychain.financing_created", financing_payload(financing))]
        )
        signals.receivables_changed.send_after_commit([locked.creditor_id])
    return financing


def financing_payload(financing: Financing) -> dict[str, Any]:
    return {
        "financing_id": financing.pk,
        "receivable_id": financing.receivable_id,
        "mode": financing.mode,
        "backing": str(financing.backing),
        "amount": str(financing.amount),
        "advance_ratio": str(financing.advance_ratio),
        "registration_no": financing.registration_no,
        "contract_no": financing.contract_no,
        "financed_on": financing.financed_on.isoformat(),
        "matures_on": financing.matures_on.isoformat(),
        "state": financing.state,
        "repaid_on": financing.repaid_on.isoformat() if financing.repaid_on else None,
    }


def repay(
    actor, financing: Financing, *, repaid_on: Any = None, today: date | None = None
) -> Financing:
    """The financing bank reports that the financing was repaid (the debtor
    paid at the due date, or later). 403 for anyone else; 409 once repaid;
    422 for a date in the future or before the financing."""
    day = today_or(today)
    guard(FINANCING, "repay", financing, actor)
    errors: list[FieldError] = []
    when = read_day(repaid_on, "repaid_on", errors, default=day)
    if when is not None and when > day:
        errors.append(FieldError("repaid_on", _("不能晚于今天")))
    elif when is not None and when < financing.financed_on:
        errors.append(
            FieldError("repaid_on", _("不能早于放款日期 %(d)s") % {"d": financing.financed_on})
        )
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        done = apply_transition(
            FINANCING,
            financing,
            "repay",
            actor,
            changes={"repaid_on": when},
            notify=lambda f, t, who: notify.send(
                enterprise_users(f.receivable.creditor_id),
                "supplychain.financing.repay",
                _("应收账款融资（合同 %(no)s）%(a)s 元已于 %(d)s 还款")
                % {"no": f.contract_no, "a": yuan(f.amount), "d": when},
            ),
        )
        signals.institution_events.send_in_transaction(
            events=[(done.bank_id, "supplychain.financing_repaid", financing_payload(done))]
        )
    return done


def mark_overdue(*, today: date | None = None) -> int:
    """Move financings past their maturity and not repaid to `overdue`, and
    tell the bank and the supplier. Idempotent (the periodic job runs it
    hourly); a financing repaid meanwhile is left alone. Returns how many
    were marked."""
    day = today_or(today)
    marked = 0
    due = Financing.objects.filter(state=FinancingState.ACTIVE, matures_on__lt=day).select_related(
        "receivable"
    )
    for financing in due.iterator(chunk_size=500):
        try:
            with transaction.atomic():
                done = apply_transition(
                    FINANCING,
                    financing,
                    "overdue",
                    None,
                    changes={"overdue_on": day},
                    notify=lambda f, t, who: notify.send(
                        [
                            *institution_users(f.bank_id),
                            *enterprise_users(f.receivable.creditor_id),
                        ],
                        "supplychain.financing.overdue",
                        _("应收账款融资（合同 %(no)s）%(a)s 元已于 %(m)s 到期，尚未还款")
                        % {"no": f.contract_no, "a": yuan(f.amount), "m": f.matures_on},
                    ),
                )
                signals.institution_events.send_in_transaction(
                    events=[
                        (done.bank_id, "supplychain.financing_overdue", financing_payload(done))
                    ]
                )
        except Conflict:
            continue  # repaid between the query and the lock
        marked += 1
    return marked
