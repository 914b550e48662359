"""The loan book: platform loans open themselves, banks report on their own
loans only, and impossible reports are field errors that write nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from chanrong.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from chanrong.core.models import AuditEntry
from chanrong.risk.models import (
    Classification,
    LoanAccount,
    LoanEvent,
    LoanEventKind,
    LoanOrigin,
    LoanStatus,
    Repayment,
)
from chanrong.risk.services import loanbook, repayments

from .conftest import reported

pytestmark = pytest.mark.django_db


def fields_of(exc: ValidationFailed) -> set[str]:
    return {e.field for e in exc.errors}


def test_a_platform_disbursement_opens_its_loan(world, platform_loan):
    loan = platform_loan
    assert loan.source == LoanOrigin.PLATFORM
    assert loan.enterprise == world.ent and loan.institution == world.bank
    assert loan.principal == loan.outstanding == Decimal("1800000.00")
    assert loan.rate == Decimal("4.1")
    assert (loan.maturity_on - loan.disbursed_on).days in range(365, 367)
    assert loan.status == LoanStatus.ACTIVE and loan.classification == Classification.NORMAL
    assert loan.events.get().kind == LoanEventKind.OPENED
    assert AuditEntry.objects.filter(action="risk.loan.open", object_id=str(loan.pk)).exists()
    # Idempotent: the same demand never opens two loans.
    assert loanbook.open_platform_loan(loan.demand) == loan
    assert LoanAccount.objects.count() == 1


def test_visibility_follows_the_family_rule(world, platform_loan):
    other = reported(world, user="bank2_staff", contract_no="ICBC-1")
    seen = {
        name: set(LoanAccount.objects.visible_to(world.user(name)).values_list("pk", flat=True))
        for name in [
            "ent_user",
            "ent2_user",
            "bank_staff",
            "bank2_staff",
            "gov_jiashan",
            "gov_jiangsu",
            "admin",
        ]
    }
    both = {platform_loan.pk, other.pk}
    assert seen["ent_user"] == both  # both are ent's loans
    assert seen["ent2_user"] == set()
    assert seen["bank_staff"] == {platform_loan.pk}
    assert seen["bank2_staff"] == {other.pk}
    assert seen["gov_jiashan"] == both
    assert seen["gov_jiangsu"] == set()
    assert seen["admin"] == both


def test_another_banks_loan_is_not_found_and_a_government_view_is_not_the_lender(
    world, platform_loan
):
    with pytest.raises(NotFound):
        loanbook.loan_for_report(world.user("bank2_staff"), platform_loan.pk)
    with pytest.raises(NotAllowed):
        loanbook.loan_for_report(world.user("gov_jiashan"), platform_loan.pk)
    with pytest.raises(NotFound):
        loanbook.loan_for_report(world.user("ent2_user"), platform_loan.pk)
    assert loanbook.loan_for_report(world.user("bank_staff"), platform_loan.pk) == platform_loan
    with pytest.raises(NotAllowed):
        loanbook.report_status(
            world.user("bank2_staff"),
            platform_loan,
            {"as_of": timezone.localdate(), "classification": "loss"},
        )
    platform_loan.refresh_from_db()
    assert platform_loan.classification == Classification.NORMAL


def test_reporting_an_off_platform_loan_checks_every_field(world):
    today = timezone.localdate()
    with pytest.raises(ValidationFailed) as caught:
        loanbook.report_loan(
            world.user("bank_staff"),
            {
                "uscc": "91330421MA0000000X",
                "contract_no": "",
                "principal": "-5",
                "rate": "48",
                "disbursed_on": (today + timedelta(days=3)).isoformat(),
                "maturity_on": "2020-13-01",
            },
        )
    assert fields_of(caught.value) == {
        "uscc",
        "contract_no",
        "principal",
        "rate",
        "disbursed_on",
        "maturity_on",
    }
    with pytest.raises(ValidationFailed) as caught:
        reported(world, maturity_on=(today - timedelta(days=400)).isoformat())
    assert fields_of(caught.value) == {"maturity_on"}
    with pytest.raises(NotAllowed):
        reported(world, user="ent_user")
    assert not LoanAccount.objects.exists()
    loan = reported(world)
    assert loan.source == LoanOrigin.REPORTED and loan.institution == world.bank
    with pytest.raises(Conflict):
        reported(world)  # the same contract number twice at one bank
    reported(world, user="bank2_staff")  # another bank may use the same number
    assert LoanAccount.objects.count() == 2


def test_bulk_report_names_rows_and_writes_nothing_on_error(world):
    today = timezone.localdate()
    good = {
        "uscc": world.ent.uscc,
        "principal": "500000",
        "disbursed_on": (today - timedelta(days=30)).isoformat(),
        "maturity_on": (today + timedelta(days=335)).isoformat(),
    }
    rows = [
        {**good, "contract_no": "A-1"},
        {**good, "contract_no": "A-2", "principal": "0"},
        {**good, "contract_no": "A-1"},
    ]
    with pytest.raises(ValidationFailed) as caught:
        loanbook.report_loans(world.user("bank_staff"), rows)
    assert fields_of(caught.value) == {"rows.1.principal", "rows.2.contract_no"}
    assert not LoanAccount.objects.exists()
    loans = loanbook.report_loans(
        world.user("bank_staff"), [rows[0], {**good, "contract_no": "A-3"}]
    )
    assert [loan.contract_no for loan in loans] == ["A-1", "A-3"]


def test_schedule_must_add_up_and_fit_the_term(world):
    loan = reported(world)
    staff = world.user("bank_staff")
    start, end = loan.disbursed_on, loan.maturity_on
    with pytest.raises(ValidationFailed) as caught:
        repayments.set_schedule(
            staff,
            loan,
            [
                {"due_on": start.isoformat(), "principal_due": "100"},
                {"due_on": (end + timedelta(days=1)).isoformat(), "principal_due": "-1"},
            ],
        )
    assert fields_of(caught.value) == {
        "items.0.due_on",
        "items.1.due_on",
        "items.1.principal_due",
    }
    with pytest.raises(ValidationFailed) as caught:
        repayments.set_schedule(
            staff, loan, [{"due_on": end.isoformat(), "principal_due": "999999.99"}]
        )
    assert fields_of(caught.value) == {"items"}
    assert not loan.schedule.exists()
    middle = start + (end - start) / 2
    rows = repayments.set_schedule(
        staff,
        loan,
        [
            {"due_on": end.isoformat(), "principal_due": "600000", "interest_due": "1000"},
            {"due_on": middle.isoformat(), "principal_due": "400000"},
        ],
    )
    assert [r.due_on for r in rows] == [middle, end]
    # Replaced as a whole, never merged.
    repayments.set_schedule(staff, loan, [{"due_on": end.isoformat(), "principal_due": "1000000"}])
    assert loan.schedule.count() == 1


def test_repayments_never_exceed_the_principal_and_the_last_one_settles(world):
    loan = reported(world)
    staff = world.user("bank_staff")
    today = timezone.localdate()
    with pytest.raises(ValidationFailed) as caught:
        repayments.record_repayment(staff, loan, {"paid_on": today, "principal": "1000000.01"})
    assert fields_of(caught.value) == {"principal"}
    with pytest.raises(ValidationFailed) as caught:
        repayments.record_repayment(
            staff, loan, {"paid_on": loan.disbursed_on - timedelta(days=1), "principal": "1.001"}
        )
    assert fields_of(caught.value) == {"paid_on", "principal"}
    repayments.record_repayment(
        staff, loan, {"paid_on": today, "principal": "400000", "interest": "3000"}
    )
    loan.refresh_from_db()
    assert (loan.repaid_principal, loan.outstanding) == (Decimal("400000"), Decimal("600000"))
    with pytest.raises(ValidationFailed):
        repayments.record_repayment(staff, loan, {"paid_on": today, "principal": "600000.01"})
    repayments.record_repayment(staff, loan, {"paid_on": today, "principal": "600000"})
    loan.refresh_from_db()
    assert loan.status == LoanStatus.SETTLED and loan.outstanding == 0 and loan.closed_on == today
    assert Repayment.objects.filter(loan=loan).count() == 2
    with pytest.raises(Conflict):
        repayments.record_repayment(staff, loan, {"paid_on": today, "interest": "1"})
    # The database refuses it too, whatever path a write takes.
    with pytest.raises(IntegrityError), transaction.atomic():
        LoanAccount.objects.filter(pk=loan.pk).update(repaid_principal=Decimal("1000000.01"))


def test_status_reports_keep_history_and_move_forward(world):
    loan = reported(world)
    staff = world.user("bank_staff")
    today = timezone.localdate()
    with pytest.raises(ValidationFailed) as caught:
        loanbook.report_status(
            staff,
            loan,
            {"as_of": today, "classification": "bad", "days_overdue": -1, "overdue_amount": "5"},
        )
    assert fields_of(caught.value) == {"classification", "days_overdue"}
    with pytest.raises(ValidationFailed) as caught:
        loanbook.report_status(
            staff, loan, {"as_of": today, "classification": "normal", "days_overdue": 10}
        )
    assert fields_of(caught.value) == {"overdue_amount"}
    with pytest.raises(ValidationFailed) as caught:
        loanbook.report_status(
            staff,
            loan,
            {
                "as_of": today,
                "classification": "normal",
                "days_overdue": 10,
                "overdue_amount": "2000000",
            },
        )
    assert fields_of(caught.value) == {"overdue_amount"}
    earlier = today - timedelta(days=30)
    loanbook.report_status(
        staff,
        loan,
        {
            "as_of": earlier,
            "classification": "special_mention",
            "days_overdue": 35,
            "overdue_amount": "80000",
        },
    )
    event = loanbook.report_status(
        staff,
        loan,
        {
            "as_of": today,
            "classification": "substandard",
            "days_overdue": 95,
            "overdue_amount": "80000",
        },
    )
    assert event.is_downgrade and event.previous_classification == "special_mention"
    loan.refresh_from_db()
    assert loan.is_non_performing and loan.days_overdue == 95
    with pytest.raises(ValidationFailed) as caught:
        loanbook.report_status(staff, loan, {"as_of": earlier, "classification": "normal"})
    assert fields_of(caught.value) == {"as_of"}
    kinds = list(LoanEvent.objects.filter(loan=loan).values_list("kind", "classification"))
    assert kinds == [("opened", "normal"), ("status", "special_mention"), ("status", "substandard")]
    assert AuditEntry.objects.filter(action="risk.loan.status").count() == 2


def test_recall_renew_and_write_off(world):
    staff, manager = world.user("bank_staff"), world.user("bank_manager")
    today = timezone.localdate()
    loan = reported(world)
    repayments.record_repayment(staff, loan, {"paid_on": today, "principal": "200000"})
    new = loanbook.renew(
        staff,
        loan,
        {
            "contract_no": "JS-2026-0001-XD",
            "on": today,
            "maturity_on": (today + timedelta(days=365)).isoformat(),
        },
    )
    loan.refresh_from_db()
    assert loan.status == LoanStatus.RENEWED
    assert (
        new.renewed_from == loan
        and new.principal == Decimal("800000")
        and new.status == LoanStatus.ACTIVE
    )
    with pytest.raises(ValidationFailed):
        loanbook.recall(staff, new, {"on": today})  # no reason
    loanbook.recall(staff, new, {"on": today, "reason": "企业经营恶化，提前收回"})
    new.refresh_from_db()
    assert new.status == LoanStatus.RECALLED
    with pytest.raises(NotAllowed):
        loanbook.write_off(staff, new, {"on": today, "note": "核销"})  # a manager's decision
    loanbook.write_off(manager, new, {"on": today, "note": "经审批核销"})
    new.refresh_from_db()
    assert new.status == LoanStatus.WRITTEN_OFF and new.classification == Classification.LOSS
    assert AuditEntry.objects.filter(action="risk.loan.write_off").exists()
