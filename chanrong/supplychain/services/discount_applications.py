"""The holder's side of discounting: a supplier holding a voucher node asks
a bank to discount (part of) it, and the bank accepts or declines.

Before this a bank could only record a discount on a node offered to it
(`vouchers.discount_voucher`); the holder had no way to say which bank,
how much, and when. Now:

- `apply_for_discount`: the holder (403 for anyone else) names one of the
  banks it has authorised (DataAuthorisation, the same consent the bank's
  discount needs; 422 for any other) and an amount up to the node's amount
  (the node must be held — not split, discounted or paid — and not matured:
  409). One pending application per node and bank (409 `already_applied`).
  The bank's users are notified and its systems get the webhook event
  `supplychain.discount_applied`.
- `accept_discount_application`: the bank records the discount with its rate
  and contract number through `discount_voucher` (the part split off first
  when the application is for less than the node), in the same transaction
  as the application's move to `accepted`; if the node is no longer held
  (the holder split it, another bank accepted first) it is a 409 and nothing
  is written. The holder is notified (by `discount_voucher`).
- `decline_discount_application`: the bank, with a reason; the holder is told.
- `withdraw_discount_application`: the holder, while pending; the bank is
  told and its systems get `supplychain.discount_withdrawn`.

Every move goes through `workflows.DISCOUNT_APPLICATION` (checked, audited).
The application row is locked before the voucher node (always in that
order), so an acceptance and a withdrawal of the same application serialise.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import audit, notify
from chanrong.core.errors import Conflict, FieldError, NotAllowed, ValidationFailed
from chanrong.core.workflow import apply_transition
from chanrong.finance.models import FinancialInstitution, InstitutionKind
from chanrong.registry.models import DataAuthorisation

from .. import signals
from ..models import DiscountApplication, DiscountApplicationState, Voucher, VoucherState
from ..permissions import is_holder
from ..workflows import DISCOUNT_APPLICATION
from .common import (
    enterprise_users,
    guard,
    institution_users,
    read_money,
    read_text,
    today_or,
    yuan,
)
from .vouchers import discount_voucher


def _tell(users, verb: str, message: str) -> None:
    notify.send(users, f"supplychain.discount_application.{verb}", message)


def authorised_banks(enterprise_id: int):
    """The banks (银行) an enterprise has authorised: those it may apply to."""
    ids = DataAuthorisation.objects.filter(
        enterprise_id=enterprise_id, revoked_at__isnull=True
    ).values("institution_id")
    return FinancialInstitution.objects.filter(pk__in=ids, kind=InstitutionKind.BANK).order_by(
        "name"
    )


def application_payload(application: DiscountApplication) -> dict[str, Any]:
    voucher = application.voucher
    return {
        "application_id": application.pk,
        "voucher_id": application.voucher_id,
        "number": voucher.number,
        "holder_id": application.holder_id,
        "issuer_id": voucher.issuer_id,
        "amount": str(application.amount),
        "voucher_amount": str(voucher.amount),
        "due_on": voucher.due_on.isoformat(),
        "state": application.state,
        "discounted_id": application.discounted_id,
    }


def _event(application: DiscountApplication, name: str) -> None:
    signals.institution_events.send_in_transaction(
        events=[(application.bank_id, name, application_payload(application))]
    )


def apply_for_discount(
    actor, voucher: Voucher, data: dict[str, Any], *, today: date | None = None
) -> DiscountApplication:
    """The holder applies to discount `amount` (元, default all) of a held
    node at `bank` (an institution or its id), with an optional `note`.
    Refusals, nothing written: module docstring."""
    day = today_or(today)
    if not is_holder(actor, voucher):
        raise NotAllowed(_("只有凭证持有企业可以申请贴现"))
    errors: list[FieldError] = []
    amount = read_money(data.get("amount"), "amount", errors, required=False)
    note = read_text(data.get("note"), "note", errors, limit=500, required=False)
    raw_bank = data.get("bank")
    bank_id = raw_bank.pk if isinstance(raw_bank, FinancialInstitution) else raw_bank
    bank = None
    if bank_id in (None, ""):
        errors.append(FieldError("bank", _("请选择贴现银行")))
    else:
        try:
            bank = authorised_banks(voucher.holder_id).filter(pk=int(bank_id)).first()
        except (TypeError, ValueError):
            bank = None
        if bank is None:
            errors.append(FieldError("bank", _("只能向贵企业已授权的银行申请贴现")))
    if amount is not None and amount > voucher.amount:
        errors.append(
            FieldError("amount", _("不能超过凭证金额 %(a)s 元") % {"a": yuan(voucher.amount)})
        )
    if errors:
        raise ValidationFailed(errors)
    already = Conflict(_("已向该银行申请贴现，请等待银行受理"), code="already_applied")
    try:
        with transaction.atomic():
            node = Voucher.objects.select_for_update().get(pk=voucher.pk)
            if node.state != VoucherState.HELD:
                raise Conflict(
                    _("凭证当前为「%(s)s」，不能申请贴现") % {"s": node.get_state_display()},
                    code="invalid_transition",
                )
            if node.due_on <= day:
                raise Conflict(_("凭证已到期，待核心企业兑付"), code="voucher_matured")
            if DiscountApplication.objects.filter(
                voucher=node, bank=bank, state=DiscountApplicationState.PENDING
            ).exists():
                raise already
            application = DiscountApplication.objects.create(
                voucher=node,
                holder_id=node.holder_id,
                bank=bank,
                amount=amount if amount is not None else node.amount,
                note=note,
                created_by=actor,
            )
            audit.record(
                "supplychain.discount_application.create",
                actor=actor,
                obj=application,
                changes={
                    "state": [None, DiscountApplicationState.PENDING],
                    "voucher": node.pk,
                    "bank": bank.pk,
                    "amount": str(application.amount),
                },
            )
            _tell(
                institution_users(bank.pk),
                "create",
                _("%(h)s 申请贴现数字债权凭证 %(n)s，金额 %(a)s 元，%(d)s 到期")
                % {
                    "h": node.holder.name,
                    "n": node.number,
                    "a": yuan(application.amount),
                    "d": node.due_on,
                },
            )
            _event(application, "supplychain.discount_applied")
    except IntegrityError as exc:  # a concurrent application to the same bank
        if "discount_app_one_pending_per_bank" in str(exc) or "UNIQUE" in str(exc).upper():
            raise already from exc
        raise
    return application


def _locked_pending(application: DiscountApplication, name: str, actor) -> DiscountApplication:
    locked = (
        DiscountApplication.objects.select_for_update()
        .select_related("voucher", "holder", "bank")
        .get(pk=application.pk)
    )
    guard(DISCOUNT_APPLICATION, name, locked, actor)
    return locked


def accept_discount_application(
    actor, application: DiscountApplication, data: dict[str, Any], *, today: date | None = None
) -> DiscountApplication:
    """The chosen bank accepts: data discount_rate (annual %) and
    contract_no, as `discount_voucher`; the amount is the application's.
    403 another bank or anyone else; 409 no longer pending, or the node no
    longer held or matured; 422 the rate or contract number."""
    guard(DISCOUNT_APPLICATION, "accept", application, actor)
    with transaction.atomic():
        locked = _locked_pending(application, "accept", actor)
        done = discount_voucher(
            actor,
            locked.voucher,
            {
                "amount": locked.amount,
                "discount_rate": data.get("discount_rate"),
                "contract_no": data.get("contract_no"),
            },
            today=today,
        )
        accepted = apply_transition(
            DISCOUNT_APPLICATION,
            locked,
            "accept",
            actor,
            changes={
                "discounted_id": done.pk,
                "decided_by_id": actor.pk,
                "decided_at": timezone.now(),
            },
            audit_extra={"proceeds": str(done.discount_proceeds)},
        )
    application.state = accepted.state
    return accepted


def decline_discount_application(
    actor, application: DiscountApplication, reason: Any
) -> DiscountApplication:
    """The chosen bank declines, with a reason (422 without one)."""
    guard(DISCOUNT_APPLICATION, "decline", application, actor)
    errors: list[FieldError] = []
    text = read_text(reason, "reason", errors, limit=500, required=True)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        locked = _locked_pending(application, "decline", actor)
        declined = apply_transition(
            DISCOUNT_APPLICATION,
            locked,
            "decline",
            actor,
            changes={
                "decline_reason": text,
                "decided_by_id": actor.pk,
                "decided_at": timezone.now(),
            },
            notify=lambda a, t, who: _tell(
                enterprise_users(a.holder_id),
                "decline",
                _("%(b)s 拒绝了数字债权凭证 %(n)s 的贴现申请：%(r)s")
                % {"b": a.bank.name, "n": a.voucher.number, "r": text},
            ),
        )
    application.state = declined.state
    return declined


def withdraw_discount_application(actor, application: DiscountApplication) -> DiscountApplication:
    """The holder withdraws a pending application; the bank is told."""
    guard(DISCOUNT_APPLICATION, "withdraw", application, actor)
    with transaction.atomic():
        locked = _locked_pending(application, "withdraw", actor)
        withdrawn = apply_transition(
            DISCOUNT_APPLICATION,
            locked,
            "withdraw",
            actor,
            notify=lambda a, t, who: _tell(
                institution_users(a.bank_id),
                "withdraw",
                _("%(h)s 撤回了数字债权凭证 %(n)s 的贴现申请")
                % {"h": a.holder.name, "n": a.voucher.number},
            ),
        )
        _event(withdrawn, "supplychain.discount_withdrawn")
    application.state = withdrawn.state
    return withdrawn
