"""The budget ledger (专款专用、专账核算): appropriation, commitment,
release and payment, per programme and year.

The invariant — commitments plus payments never exceed the appropriation,
and no enterprise holds more than the programme's annual cap — holds under
any number of concurrent approvals because every movement first locks the
programme-year row (SELECT … FOR UPDATE; SQLite has one writer anyway), then
the enterprise-year row, always in that order, reads the totals under the
lock and writes them back in the same transaction. The database's check
constraint (`budget_never_overrun`) would refuse a row that broke the rule
should any path ever skip the lock. A commitment that does not fit raises
`Conflict` (409) and writes nothing.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.errors import Conflict, NotAllowed, ValidationFailed

from .. import permissions as perms
from ..models import Application, BudgetYear, EnterpriseYear, LedgerEntry, LedgerKind, Programme


def yuan(value: Decimal) -> str:
    return f"{value:,.2f}"


def set_appropriation(actor, programme: Programme, year: int, amount: Decimal) -> BudgetYear:
    """Set (or change) a year's appropriation. Lowering it below what is
    already committed and paid is refused. Only the programme's own agencies
    (and the platform admin; `actor` None is the demo builder) may do it."""
    if actor is not None and not perms.can_manage_programme(actor, programme):
        raise NotAllowed(_("只有政策的主管部门可以安排预算"))
    if amount is None or amount < 0:
        raise ValidationFailed({"appropriation": _("年度预算不能为负数")})
    if not (programme.starts_on.year <= year <= programme.ends_on.year):
        raise ValidationFailed({"year": _("年度不在政策期内")})
    with transaction.atomic():
        budget, _created = BudgetYear.objects.select_for_update().get_or_create(
            programme=programme, year=year, defaults={"appropriation": Decimal(0)}
        )
        if amount < budget.committed + budget.paid:
            raise Conflict(
                _("年度预算不能低于已承诺和已拨付合计 %(held)s 元")
                % {"held": yuan(budget.committed + budget.paid)},
                code="budget_below_held",
            )
        change = amount - budget.appropriation
        budget.appropriation = amount
        budget.save(update_fields=["appropriation"])
        LedgerEntry.objects.create(
            budget=budget,
            kind=LedgerKind.APPROPRIATE,
            amount=change,
            committed_after=budget.committed,
            paid_after=budget.paid,
            note=_("%(year)s 年度预算 %(amount)s 元") % {"year": year, "amount": yuan(amount)},
            actor=actor if getattr(actor, "pk", None) else None,
        )
        audit.record(
            "policy.budget.appropriate",
            actor=actor,
            obj=programme,
            changes={"year": year, "appropriation": [str(amount - change), str(amount)]},
        )
    return budget


def lock_budget(programme_id: int, year: int) -> BudgetYear:
    """The programme-year row, locked for this transaction. No appropriation
    for the year is a 409: nothing can be committed against it."""
    budget = (
        BudgetYear.objects.select_for_update().filter(programme_id=programme_id, year=year).first()
    )
    if budget is None:
        raise Conflict(_("%(year)s 年度尚未安排预算") % {"year": year}, code="no_budget")
    return budget


def lock_enterprise_year(programme_id: int, year: int, enterprise_id: int) -> EnterpriseYear:
    """The enterprise's holdings for the year, locked. Called only while the
    programme-year row is locked, so creating it cannot race."""
    row = (
        EnterpriseYear.objects.select_for_update()
        .filter(programme_id=programme_id, year=year, enterprise_id=enterprise_id)
        .first()
    )
    if row is None:
        row = EnterpriseYear.objects.create(
            programme_id=programme_id, year=year, enterprise_id=enterprise_id
        )
    return row


def enterprise_held(programme_id: int, year: int, enterprise_id: int) -> Decimal:
    row = EnterpriseYear.objects.filter(
        programme_id=programme_id, year=year, enterprise_id=enterprise_id
    ).first()
    return (row.committed + row.paid) if row else Decimal(0)


def commit(
    actor, application: Application, budget: BudgetYear, holding: EnterpriseYear | None
) -> None:
    """Hold `application.amount` against the locked budget (and enterprise
    year). Raises Conflict when it does not fit; the caller's transaction
    then writes nothing."""
    amount = application.amount
    if amount > budget.available:
        raise Conflict(
            _("预算不足：%(year)s 年度可用 %(available)s 元，本笔需 %(amount)s 元")
            % {"year": budget.year, "available": yuan(budget.available), "amount": yuan(amount)},
            code="budget_exhausted",
        )
    budget.committed += amount
    budget.save(update_fields=["committed"])
    if holding is not None:
        holding.committed += amount
        holding.save(update_fields=["committed"])
    _entry(budget, application, LedgerKind.COMMIT, amount, actor)


def release(actor, application: Application) -> None:
    """Give back a commitment (rejection or withdrawal after 财政复核)."""
    budget = lock_budget(application.programme_id, application.year)
    amount = application.amount
    budget.committed -= amount
    budget.save(update_fields=["committed"])
    if application.enterprise_id:
        holding = lock_enterprise_year(
            application.programme_id, application.year, application.enterprise_id
        )
        holding.committed -= amount
        holding.save(update_fields=["committed"])
    _entry(budget, application, LedgerKind.RELEASE, -amount, actor)


def pay(actor, application: Application) -> None:
    """Turn a commitment into a payment."""
    budget = lock_budget(application.programme_id, application.year)
    amount = application.amount
    budget.committed -= amount
    budget.paid += amount
    budget.save(update_fields=["committed", "paid"])
    if application.enterprise_id:
        holding = lock_enterprise_year(
            application.programme_id, application.year, application.enterprise_id
        )
        holding.committed -= amount
        holding.paid += amount
        holding.save(update_fields=["committed", "paid"])
    _entry(budget, application, LedgerKind.PAY, amount, actor)


def _entry(budget: BudgetYear, application: Application, kind: str, amount: Decimal, actor) -> None:
    LedgerEntry.objects.create(
        budget=budget,
        application=application,
        kind=kind,
        amount=amount,
        committed_after=budget.committed,
        paid_after=budget.paid,
        actor=actor if getattr(actor, "pk", None) else None,
    )
