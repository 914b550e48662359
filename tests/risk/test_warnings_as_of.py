"""Evaluating the rules as of a past day judges the overdue rule on the
status report in force that day, not on a later one; loans not yet disbursed
then, or closed since, are read as they stood."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from chanrong.demo.builders.risk_warnings import month_ends
from chanrong.risk.models import Alert, LoanStatus
from chanrong.risk.services import loanbook, warnings

from .conftest import reported

pytestmark = pytest.mark.django_db


def _rule(world, days, severity):
    return warnings.create_rule(
        world.user("gov_jiashan"),
        {"name": f"逾期 {days} 天", "kind": "overdue", "severity": severity,
         "params": {"days": days}},
    )  # fmt: skip


def _status(world, loan, on, days, classification):
    loanbook.report_status(
        world.user("bank_staff"),
        loan,
        {"as_of": on, "classification": classification, "days_overdue": days,
         "overdue_amount": "1"},
    )  # fmt: skip


def test_a_past_day_is_judged_on_the_report_then_in_force(world):
    today = timezone.localdate()
    orange, red = _rule(world, 30, "orange"), _rule(world, 90, "red")
    loan = reported(world)
    first, second = today - timedelta(days=100), today - timedelta(days=40)
    _status(world, loan, first, 35, "special_mention")
    _status(world, loan, second, 95, "substandard")

    # Before the first report: nothing overdue was known.
    assert warnings.evaluate(on=first - timedelta(days=1), notify_users=False) == 0
    # Between the reports: 35 days, the orange rule only, with the days then.
    assert warnings.evaluate(on=second - timedelta(days=1), notify_users=False) == 1
    alert = Alert.objects.get()
    assert alert.rule == orange and "逾期 35 天" in alert.detail
    assert alert.opened_on == second - timedelta(days=1)
    # On the build day the latest report: the red rule too (orange still live).
    assert warnings.evaluate(on=today, notify_users=False) == 1
    assert "逾期 95 天" in Alert.objects.get(rule=red).detail


def test_loans_outside_their_life_are_not_read(world):
    today = timezone.localdate()
    _rule(world, 30, "orange")
    loan = reported(world)
    _status(world, loan, today - timedelta(days=10), 60, "special_mention")
    # Before the loan was disbursed (a year ago) it did not exist.
    before = loan.disbursed_on - timedelta(days=1)
    assert warnings.evaluate(on=before, notify_users=False) == 0
    # Closed since (written off yesterday): on a day before that it was on the books.
    loan.status, loan.closed_on = LoanStatus.WRITTEN_OFF, today - timedelta(days=1)
    loan.save(update_fields=["status", "closed_on"])
    assert warnings.evaluate(on=today, notify_users=False) == 0
    assert warnings.evaluate(on=today - timedelta(days=5), notify_users=False) == 1


def test_month_ends_before_the_build_day():
    assert month_ends(date(2026, 3, 5), 3) == [
        date(2025, 12, 31),
        date(2026, 1, 31),
        date(2026, 2, 28),
    ]
