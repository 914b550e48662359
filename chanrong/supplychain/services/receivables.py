"""Receivables: registration by the supplier, confirmation (确权) or dispute
by the debtor, withdrawal.

A supplier registers what a debtor owes it under a contract, with the
invoices behind it. Every invoice is registered once on the whole platform —
whoever registers it — so the same invoice can never back two receivables
(and, through them, two financings): checked before the insert, and held by
a unique constraint should two registrations race.

Only the debtor's own users confirm: the debtor is named by USCC, so
confirmation needs the debtor's account on the platform (or, for a 政采
contract with an agency as purchasing body, an official of that agency). The
debtor confirms the full amount, a part of it (部分确权), or disputes it with
a reason. A confirmed amount never changes afterwards: no transition leaves
the confirmed states, and what banks lend against is exactly what the debtor
confirmed.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.accounts.models import GovernmentAgency
from chanrong.core import audit, notify
from chanrong.core.codes import CodeError, validate_uscc
from chanrong.core.errors import Conflict, FieldError, NotAllowed, ValidationFailed
from chanrong.core.workflow import apply_transition
from chanrong.registry.models import DataAuthorisation, Enterprise

from .. import signals
from ..invoices import InvoiceError, InvoiceRef, parse_invoice
from ..models import Invoice, Receivable, ReceivableKind
from ..permissions import enterprise_of, is_debtor
from ..workflows import RECEIVABLE
from .common import (
    agency_users,
    enterprise_users,
    guard,
    is_listed_core,
    read_choice,
    read_day,
    read_money,
    read_text,
    today_or,
    yuan,
)

MAX_INVOICES = 500
MAX_INSTALMENTS = 120


def debtor_users(receivable: Receivable):
    """Who confirms: the purchasing agency's officials, or the users of the
    enterprise carrying the debtor's USCC (none while it has no account)."""
    if receivable.purchaser_agency_id is not None:
        return agency_users(receivable.purchaser_agency_id)
    if receivable.debtor_id is not None:
        return enterprise_users(receivable.debtor_id)
    debtor = Enterprise.objects.filter(uscc=receivable.debtor_uscc).only("pk").first()
    return enterprise_users(debtor.pk if debtor else None)


def _tell(users, verb: str, message: str) -> None:
    notify.send(users, f"supplychain.receivable.{verb}", message)


# --- registration ----------------------------------------------------------------------


def register_receivable(actor, data: dict[str, Any], *, today: date | None = None) -> Receivable:
    """A supplier's enterprise user registers a receivable of its own
    enterprise (403 for anyone else).

    data: kind ("ordinary" | "gov_procurement"), debtor_uscc (or, 政采 only,
    purchaser_agency: a GovernmentAgency or its id), debtor_name (when the
    debtor has no account yet), contract_no, amount (元), issued_on, due_on,
    invoices ([{"code", "number"}] or strings; at least one for an ordinary
    receivable), payment_schedule (政采: [{"due_on", "amount"}], summing to
    the amount).

    Refusals, nothing written: field errors (422) for a malformed USCC or
    invoice, an amount ≤ 0, a due date before the issue date, an issue date
    in the future, the debtor being the supplier itself, an invoice twice in
    the same request, a schedule that does not add up; 409
    "invoice_registered" when an invoice is already registered by anyone.
    """
    day = today_or(today)
    creditor_id = enterprise_of(actor)
    if creditor_id is None:
        raise NotAllowed(_("只有供应商（债权人）的企业用户可以登记应收账款"))
    creditor = Enterprise.objects.get(pk=creditor_id)
    errors: list[FieldError] = []
    kind = read_choice(data.get("kind"), "kind", errors, ReceivableKind, default="ordinary")
    amount = read_money(data.get("amount"), "amount", errors)
    contract_no = read_text(data.get("contract_no"), "contract_no", errors, limit=64, required=True)
    issued_on = read_day(data.get("issued_on"), "issued_on", errors)
    due_on = read_day(data.get("due_on"), "due_on", errors)
    if issued_on is not None and issued_on > day:
        errors.append(FieldError("issued_on", _("不能晚于今天")))
    if issued_on is not None and due_on is not None and due_on < issued_on:
        errors.append(FieldError("due_on", _("到期日期不能早于债权发生日期")))
    elif due_on is not None and due_on < day:
        errors.append(FieldError("due_on", _("已到期的应收账款不能登记")))
    agency, debtor_uscc, debtor = _read_debtor(data, kind, creditor, errors)
    if agency is not None:
        debtor_name = agency.name
    elif debtor is not None:
        debtor_name = debtor.name
    elif debtor_uscc:
        debtor_name = read_text(
            data.get("debtor_name"), "debtor_name", errors, limit=100, required=True
        )
    else:
        debtor_name = ""  # the debtor itself was refused: one error for it is enough
    invoices = _read_invoices(data.get("invoices"), errors)
    if kind == ReceivableKind.ORDINARY and not invoices and not _has_error(errors, "invoices"):
        errors.append(FieldError("invoices", _("请至少登记一张发票")))
    schedule = _read_schedule(data.get("payment_schedule"), amount, issued_on, due_on, errors)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        _refuse_registered(invoices)
        try:
            with transaction.atomic():
                receivable = Receivable.objects.create(
                    kind=kind,
                    creditor=creditor,
                    debtor_uscc=debtor_uscc,
                    debtor_name=debtor_name,
                    debtor=debtor,
                    purchaser_agency=agency,
                    contract_no=contract_no,
                    amount=amount,
                    issued_on=issued_on,
                    due_on=due_on,
                    payment_schedule=schedule,
                    created_by=actor,
                )
                Invoice.objects.bulk_create(
                    Invoice(receivable=receivable, code=ref.code, number=ref.number)
                    for ref in invoices
                )
        except IntegrityError as exc:
            # Another registration of one of these invoices committed between
            # the check and the insert: the same answer as the check's.
            if _is_invoice_clash(exc):
                _refuse_registered(invoices)
                raise Conflict(_("发票已被登记"), code="invoice_registered") from exc
            raise
        audit.record(
            "supplychain.receivable.register",
            actor=actor,
            obj=receivable,
            changes={
                "state": [None, receivable.state],
                "kind": kind,
                "debtor": debtor_uscc or (agency.name if agency else ""),
                "amount": str(amount),
                "contract_no": contract_no,
                "invoices": [str(ref) for ref in invoices],
            },
        )
        _tell(
            debtor_users(receivable),
            "register",
            _("%(c)s 登记了对贵单位的应收账款 %(a)s 元（合同 %(no)s），请确权或提出异议")
            % {"c": creditor.name, "a": yuan(amount), "no": contract_no},
        )
    return receivable


def _has_error(errors: list[FieldError], prefix: str) -> bool:
    return any(e.field.startswith(prefix) for e in errors)


def _read_debtor(data, kind, creditor: Enterprise, errors: list[FieldError]):
    """(purchasing agency, debtor USCC, registered debtor) from the input."""
    raw_agency = data.get("purchaser_agency")
    if raw_agency not in (None, ""):
        if kind != ReceivableKind.GOV_PROCUREMENT:
            errors.append(
                FieldError("purchaser_agency", _("只有政府采购合同可以以政府部门为采购人"))
            )
            return None, "", None
        if data.get("debtor_uscc"):
            errors.append(
                FieldError("debtor_uscc", _("采购人为政府部门时不再填写统一社会信用代码"))
            )
        if isinstance(raw_agency, GovernmentAgency):
            return raw_agency, "", None
        try:
            agency = GovernmentAgency.objects.filter(pk=int(raw_agency)).first()
        except (TypeError, ValueError):
            agency = None
        if agency is None:
            errors.append(FieldError("purchaser_agency", _("无效的政府部门")))
        return agency, "", None
    try:
        uscc = validate_uscc(data.get("debtor_uscc"))
    except CodeError as exc:
        errors.append(FieldError("debtor_uscc", str(exc)))
        return None, "", None
    if uscc == creditor.uscc:
        errors.append(FieldError("debtor_uscc", _("债务人不能是本企业")))
        return None, "", None
    return None, uscc, Enterprise.objects.filter(uscc=uscc).first()


def _read_invoices(raw: Any, errors: list[FieldError]) -> list[InvoiceRef]:
    if raw in (None, ""):
        return []
    if isinstance(raw, str | dict) or not hasattr(raw, "__iter__"):
        raw = [raw]
    items = list(raw)
    if len(items) > MAX_INVOICES:
        errors.append(FieldError("invoices", _("一次最多登记 %(n)s 张发票") % {"n": MAX_INVOICES}))
        return []
    refs: list[InvoiceRef] = []
    seen: set[InvoiceRef] = set()
    for index, item in enumerate(items):
        field = f"invoices[{index}]"
        try:
            ref = parse_invoice(item)
        except InvoiceError as exc:
            errors.append(FieldError(field, str(exc)))
            continue
        if ref in seen:
            errors.append(FieldError(field, _("发票 %(i)s 重复填写") % {"i": ref}))
            continue
        seen.add(ref)
        refs.append(ref)
    return refs


def _read_schedule(raw, amount, issued_on, due_on, errors: list[FieldError]) -> list[dict]:
    """A 政采 payment schedule: instalments in date order, within the
    contract's dates, summing exactly to the amount."""
    if raw in (None, "", []):
        return []
    if isinstance(raw, str | dict) or not hasattr(raw, "__iter__"):
        errors.append(FieldError("payment_schedule", _("付款计划应为分期列表")))
        return []
    items = list(raw)
    if len(items) > MAX_INSTALMENTS:
        errors.append(
            FieldError("payment_schedule", _("付款计划最多 %(n)s 期") % {"n": MAX_INSTALMENTS})
        )
        return []
    out: list[dict] = []
    total = Decimal(0)
    previous: date | None = None
    ok = True
    for index, item in enumerate(items):
        field = f"payment_schedule[{index}]"
        if not isinstance(item, dict):
            errors.append(FieldError(field, _("每期应含付款日期和金额")))
            ok = False
            continue
        before = len(errors)
        when = read_day(item.get("due_on"), f"{field}.due_on", errors)
        value = read_money(item.get("amount"), f"{field}.amount", errors)
        if when is not None:
            if previous is not None and when <= previous:
                errors.append(FieldError(f"{field}.due_on", _("付款日期应逐期递增")))
            elif issued_on is not None and when < issued_on:
                errors.append(FieldError(f"{field}.due_on", _("不能早于债权发生日期")))
            elif due_on is not None and when > due_on:
                errors.append(FieldError(f"{field}.due_on", _("不能晚于到期日期")))
            previous = when
        if len(errors) > before:
            ok = False
            continue
        total += value
        out.append({"due_on": when.isoformat(), "amount": str(value)})
    if ok and amount is not None and total != amount:
        errors.append(
            FieldError(
                "payment_schedule",
                _("各期金额合计 %(t)s 元，应等于合同金额 %(a)s 元")
                % {"t": yuan(total), "a": yuan(amount)},
            )
        )
    return out


def _refuse_registered(invoices: list[InvoiceRef]) -> None:
    """409 naming the invoices already registered (by anyone) on the platform."""
    if not invoices:
        return
    from django.db.models import Q

    wanted = Q()
    for ref in invoices:
        wanted |= Q(code=ref.code, number=ref.number)
    taken = sorted(
        InvoiceRef(code, number)
        for code, number in Invoice.objects.filter(wanted, active=True).values_list(
            "code", "number"
        )
    )
    if taken:
        raise Conflict(
            _("以下发票已在平台登记，不能重复登记：%(list)s")
            % {"list": "、".join(str(ref) for ref in taken[:20])},
            code="invoice_registered",
        )


def _is_invoice_clash(exc: IntegrityError) -> bool:
    text = str(exc)
    return "invoice_registered_once" in text or "supplychain_invoice.code" in text


# --- confirmation ----------------------------------------------------------------------


def confirm(
    actor, receivable: Receivable, amount: Any = None, *, today: date | None = None
) -> Receivable:
    """确权 by the debtor: the full amount (amount omitted or equal to it),
    or a part (部分确权). Refusals, nothing written: not the debtor's own
    user (403 — confirming someone else's receivable); an amount ≤ 0 or above
    the receivable's (422); not awaiting confirmation (409: a confirmed
    amount never changes).

    Records whether the debtor was on a 应收账款核心企业名单 in force that
    day (`debtor_listed`: a platform-level confirmation), tells the supplier,
    and offers the receivable to the banks the supplier has authorised."""
    day = today_or(today)
    if not is_debtor(actor, receivable):
        raise NotAllowed(_("只有债务人可以确权"))
    errors: list[FieldError] = []
    value = (
        receivable.amount
        if amount in (None, "")
        else read_money(amount, "confirmed_amount", errors)
    )
    if value is not None and value > receivable.amount:
        errors.append(
            FieldError(
                "confirmed_amount",
                _("确权金额不能超过应收账款金额 %(a)s 元") % {"a": yuan(receivable.amount)},
            )
        )
    if errors:
        raise ValidationFailed(errors)
    name = "confirm" if value == receivable.amount else "confirm_part"
    guard(RECEIVABLE, name, receivable, actor)
    debtor_id = enterprise_of(actor)
    changes: dict[str, Any] = {
        "confirmed_amount": value,
        "confirmed_at": timezone.now(),
        "confirmed_by": actor,
        "debtor_listed": bool(debtor_id) and is_listed_core(debtor_id, day),
    }
    if debtor_id is not None:
        changes["debtor_id"] = debtor_id
    with transaction.atomic():
        locked = apply_transition(
            RECEIVABLE,
            receivable,
            name,
            actor,
            changes=changes,
            audit_extra={"confirmed_amount": str(value)},
            notify=lambda r, t, who: _tell(
                enterprise_users(r.creditor_id),
                "confirm",
                _("%(d)s 已确权应收账款（合同 %(no)s）%(v)s 元")
                % {
                    "d": r.debtor_name,
                    "no": r.contract_no,
                    "v": yuan(value),
                },
            ),
        )
        _offer_to_banks(locked)
        signals.receivables_changed.send_after_commit([locked.creditor_id])
    return locked


def _offer_to_banks(receivable: Receivable) -> None:
    """ "supplychain.receivable_confirmed" to each bank the supplier has
    authorised to see its data: they are who the receivable is offered to."""
    banks = DataAuthorisation.objects.filter(
        enterprise_id=receivable.creditor_id, revoked_at__isnull=True
    ).values_list("institution_id", flat=True)
    payload = receivable_payload(receivable)
    events = [(bank_id, "supplychain.receivable_confirmed", payload) for bank_id in banks]
    if events:
        signals.institution_events.send_in_transaction(events=events)


def receivable_payload(receivable: Receivable) -> dict[str, Any]:
    """What a bank's system is told about a receivable (no personal data)."""
    return {
        "receivable_id": receivable.pk,
        "kind": receivable.kind,
        "creditor_uscc": receivable.creditor.uscc,
        "debtor_uscc": receivable.debtor_uscc,
        "debtor_name": receivable.debtor_name,
        "contract_no": receivable.contract_no,
        "amount": str(receivable.amount),
        "confirmed_amount": (
            str(receivable.confirmed_amount) if receivable.confirmed_amount is not None else None
        ),
        "available": str(receivable.available),
        "due_on": receivable.due_on.isoformat(),
        "debtor_listed": receivable.debtor_listed,
        "state": receivable.state,
    }


def dispute(actor, receivable: Receivable, reason: Any) -> Receivable:
    """The debtor disputes the receivable (异议), with the reason the
    supplier is told. 403 for anyone but the debtor, 422 without a reason,
    409 once confirmed or already disputed."""
    if not is_debtor(actor, receivable):
        raise NotAllowed(_("只有债务人可以提出异议"))
    errors: list[FieldError] = []
    text = read_text(reason, "reason", errors, limit=500, required=True)
    if errors:
        raise ValidationFailed(errors)
    guard(RECEIVABLE, "dispute", receivable, actor)
    return apply_transition(
        RECEIVABLE,
        receivable,
        "dispute",
        actor,
        changes={"dispute_reason": text},
        notify=lambda r, t, who: _tell(
            enterprise_users(r.creditor_id),
            "dispute",
            _("%(d)s 对应收账款（合同 %(no)s）提出异议：%(why)s")
            % {"d": r.debtor_name, "no": r.contract_no, "why": text},
        ),
    )


def withdraw(actor, receivable: Receivable) -> Receivable:
    """The supplier withdraws a receivable not (or no longer) awaiting
    confirmation — registered or disputed, so never one that could back
    financing — and its invoices are freed to be registered again (for
    example, corrected). 403 for anyone but the supplier, 409 once confirmed."""
    guard(RECEIVABLE, "withdraw", receivable, actor)
    with transaction.atomic():
        locked = apply_transition(
            RECEIVABLE,
            receivable,
            "withdraw",
            actor,
            notify=lambda r, t, who: _tell(
                debtor_users(r),
                "withdraw",
                _("%(c)s 已撤回应收账款（合同 %(no)s）")
                % {"c": r.creditor.name, "no": r.contract_no},
            ),
        )
        Invoice.objects.filter(receivable=locked).update(active=False)
    return locked
