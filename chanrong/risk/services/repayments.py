"""Schedules and repayments of the loan book: the checks the page, the API and
the import share (`check_instalment`, `check_schedule`, `check_repayment`),
and the writes under the loan's lock (`set_schedule`, `apply_repayment`).
Split from loanbook.py, which opens and reports loans and their status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.errors import FieldError, ValidationFailed
from chanrong.core.workflow import apply_transition

from ..models import LoanAccount, LoanEventKind, Repayment, ScheduleItem
from ..workflows import LOAN
from .fields import parse_date, parse_money
from .loanbook import _actor, _event, _locked


@dataclass(frozen=True)
class Instalment:
    due_on: date
    principal_due: Decimal
    interest_due: Decimal


def check_instalment(
    loan: LoanAccount, item: dict[str, Any], prefix: str = ""
) -> tuple[Instalment | None, list[FieldError]]:
    """One instalment's own checks (an import runs them row by row before the
    whole schedule is checked): a due date within the term, amounts ≥ 0."""
    errors: list[FieldError] = []
    due_on = parse_date(item, "due_on", errors, prefix, required=True)
    principal = parse_money(item, "principal_due", errors, prefix, required=True)
    interest = parse_money(item, "interest_due", errors, prefix) or Decimal(0)
    if due_on and not (loan.disbursed_on < due_on <= loan.maturity_on):
        errors.append(FieldError(f"{prefix}due_on", _("应还日期应在放款日期之后、到期日期之前")))
    if errors or due_on is None or principal is None:
        return None, errors
    return Instalment(due_on, principal, interest), []


def check_schedule(
    loan: LoanAccount, items: list[dict[str, Any]]
) -> tuple[list[Instalment], list[FieldError]]:
    """The checks of a whole schedule (the page, the API and the import share
    them): each instalment's, one per day, and the instalments' principal
    adds up to the loan's principal, so a schedule is always complete."""
    if not isinstance(items, list) or not items:
        return [], [FieldError("items", _("还款计划至少一期"))]
    errors: list[FieldError] = []
    parsed: list[Instalment] = []
    days: set[date] = set()
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            errors.append(FieldError(f"items.{i}", _("格式无效")))
            continue
        instalment, item_errors = check_instalment(loan, item, f"items.{i}.")
        errors.extend(item_errors)
        if instalment is None:
            continue
        if instalment.due_on in days:
            errors.append(FieldError(f"items.{i}.due_on", _("同一天只能有一期")))
        days.add(instalment.due_on)
        parsed.append(instalment)
    if not errors:
        total = sum((p.principal_due for p in parsed), Decimal(0))
        if total != loan.principal:
            errors.append(
                FieldError(
                    "items",
                    _("各期应还本金合计 %(t)s 元，应等于贷款金额 %(p)s 元")
                    % {"t": total, "p": loan.principal},
                )
            )
    return parsed, errors


def set_schedule(actor, loan: LoanAccount, items: list[dict[str, Any]]) -> list[ScheduleItem]:
    """Replace the repayment schedule as a whole (never merged), after
    `check_schedule`; all or nothing under the loan's lock."""
    parsed, errors = check_schedule(loan, items)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        locked = _locked(actor, loan)
        locked.schedule.all().delete()
        rows = ScheduleItem.objects.bulk_create(
            ScheduleItem(loan=locked, due_on=p.due_on, principal_due=p.principal_due,
                         interest_due=p.interest_due)
            for p in sorted(parsed, key=lambda p: p.due_on)
        )  # fmt: skip
        _event(locked, LoanEventKind.SCHEDULE, timezone.localdate(), actor, note=f"{len(rows)}")
        audit.record(
            "risk.loan.schedule", actor=actor, obj=locked, changes={"items": [None, len(rows)]}
        )
    return rows


@dataclass(frozen=True)
class RepaymentFacts:
    paid_on: date
    principal: Decimal
    interest: Decimal
    reference: str = ""


def check_repayment(
    loan: LoanAccount, data: dict[str, Any], prefix: str = ""
) -> tuple[RepaymentFacts | None, list[FieldError]]:
    """The checks of a repayment that need no lock (the page, the API and the
    import share them); the outstanding balance is checked under the lock by
    `apply_repayment`, since earlier repayments change it."""
    errors: list[FieldError] = []
    paid_on = parse_date(data, "paid_on", errors, prefix, required=True)
    principal = parse_money(data, "principal", errors, prefix) or Decimal(0)
    interest = parse_money(data, "interest", errors, prefix) or Decimal(0)
    if not errors and principal == 0 and interest == 0:
        errors.append(FieldError(f"{prefix}principal", _("本金和利息不能都为 0")))
    if paid_on and paid_on < loan.disbursed_on:
        errors.append(FieldError(f"{prefix}paid_on", _("还款日期不能早于放款日期")))
    if paid_on and paid_on > timezone.localdate():
        errors.append(FieldError(f"{prefix}paid_on", _("还款日期不能晚于今天")))
    reference = str(data.get("reference") or "").strip()
    if len(reference) > 64 or any(ord(c) < 32 for c in reference):
        errors.append(FieldError(f"{prefix}reference", _("流水号最多 64 个字符，不能含控制字符")))
    if errors or paid_on is None:
        return None, errors
    return RepaymentFacts(paid_on, principal, interest, reference), []


def record_repayment(actor, loan: LoanAccount, data: dict[str, Any]) -> Repayment:
    """One repayment, checked by `check_repayment` and written by `apply_repayment`."""
    facts, errors = check_repayment(loan, data)
    if errors:
        raise ValidationFailed(errors)
    assert facts is not None
    return apply_repayment(actor, loan, facts)


def apply_repayment(actor, loan: LoanAccount, facts: RepaymentFacts) -> Repayment:
    """Write a checked repayment under the loan's lock. Principal above what is
    outstanding is refused (a repayment above the principal is impossible);
    the last principal settles the loan. A repayment with a transaction
    number already recorded for the loan is that repayment: the same facts
    return it unchanged (a retry, a file imported again), other facts are
    refused."""
    paid_on, principal, interest = facts.paid_on, facts.principal, facts.interest
    with transaction.atomic():
        locked = _locked(actor, loan)
        if facts.reference:
            known = locked.repayments.filter(reference=facts.reference).first()
            if known is not None:
                if (known.paid_on, known.principal, known.interest) == (
                    paid_on,
                    principal,
                    interest,
                ):
                    return known
                raise ValidationFailed(
                    {"reference": _("流水号 %(r)s 已登记为另一笔还款") % {"r": facts.reference}}
                )
        if principal > locked.outstanding:
            raise ValidationFailed(
                {
                    "principal": _("归还本金 %(p)s 元超过贷款余额 %(o)s 元")
                    % {"p": principal, "o": locked.outstanding}
                }
            )
        repayment = Repayment.objects.create(
            loan=locked, paid_on=paid_on, principal=principal, interest=interest,
            reference=facts.reference, reported_by=_actor(actor),
        )  # fmt: skip
        locked.repaid_principal += principal
        locked.outstanding = locked.principal - locked.repaid_principal
        locked.overdue_amount = min(locked.overdue_amount, locked.outstanding)
        locked.reported_on = max(filter(None, [locked.reported_on, paid_on]))
        locked.save(
            update_fields=[
                "repaid_principal",
                "outstanding",
                "overdue_amount",
                "reported_on",
                "updated_at",
            ]
        )
        _event(locked, LoanEventKind.REPAYMENT, paid_on, actor, note=f"{principal}/{interest}")
        audit.record(
            "risk.loan.repayment",
            actor=actor,
            obj=locked,
            changes={"principal": [None, principal], "interest": [None, interest]},
        )
        if locked.outstanding == 0:
            apply_transition(
                LOAN, locked, "settle", actor,
                changes={"closed_on": paid_on, "days_overdue": 0, "overdue_amount": Decimal(0)},
            )  # fmt: skip
            locked.refresh_from_db()
            _event(locked, LoanEventKind.SETTLED, paid_on, actor)
    loan.refresh_from_db()
    return repayment
