"""风险监测's summary and breakdowns from one statement (monitoring.book_figures,
GROUPING SETS on PostgreSQL) against the four statements they replace
(`summary`, `breakdown` by region, industry and institution), for every
kind of viewer, with limits that cut the lists."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chanrong.risk.models import LoanAccount
from chanrong.risk.services import loanbook, monitoring
from tests.demands.conftest import bank_products, make_demand  # noqa: F401
from tests.risk.test_groups_split import VIEWERS, book  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def classified(world, book):  # noqa: F811
    """One of the bank's loans reported 次级 with an overdue amount."""
    loan = LoanAccount.objects.get(contract_no="H-1")
    loanbook.report_status(
        world.user("bank_staff"),
        loan,
        {
            "as_of": (book.today - timedelta(days=1)).isoformat(),
            "classification": "substandard",
            "days_overdue": 40,
            "overdue_amount": "50000.50",
        },
    )
    return loan


@pytest.mark.parametrize("limits", [(20, 12, 12), (1, 1, 1)])
def test_book_figures_match_the_four_statements(world, classified, limits):
    for viewer in (*VIEWERS, "ent_user"):
        loans = LoanAccount.objects.visible_to(world.user(viewer))
        expected = monitoring.BookFigures(
            monitoring.summary(loans),
            *(
                monitoring.breakdown(loans, by, limit=n)
                for by, n in zip(monitoring.BREAKDOWNS, limits, strict=True)
            ),
        )
        # repr: the same Decimals to the place (0 is not 0.00), in the same order
        assert repr(monitoring.book_figures(loans, limits=limits)) == repr(expected), viewer
    assert monitoring.book_figures(LoanAccount.objects.none()).summary.loans == 0


@pytest.mark.postgres
def test_book_figures_are_one_statement_on_postgresql(world, classified):
    loans = LoanAccount.objects.visible_to(world.user("gov_national"))  # H-1 is in 苏州
    with CaptureQueriesContext(connection) as captured:
        figures = monitoring.book_figures(loans)
    assert len(captured) == 1
    assert figures.summary.non_performing > 0
