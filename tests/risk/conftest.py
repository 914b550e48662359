"""Loan-book fixtures: a platform loan disbursed through the real demand
lifecycle, and off-platform loans reported by a bank."""

from __future__ import annotations

import pytest
from django.utils import timezone

from chanrong.demands import services as demand_services
from chanrong.risk.models import LoanAccount
from chanrong.risk.services import loanbook
from tests.demands.conftest import bank_products, dispatch_of, make_demand  # noqa: F401


@pytest.fixture
def platform_loan(world, bank_products, make_demand) -> LoanAccount:  # noqa: F811
    """ent's demand, claimed, offered, accepted and disbursed (180 万) by bank."""
    demand = make_demand()
    staff = world.user("bank_staff")
    dispatch = dispatch_of(demand, world.bank)
    demand_services.claim_dispatch(staff, dispatch)
    offer = demand_services.make_offer(staff, dispatch, {"amount_wan": 200, "term_months": 12})
    demand_services.accept_offer(world.user("ent_user"), offer)
    demand_services.record_result(
        staff,
        dispatch,
        "disbursed",
        {
            "amount_wan": 180,
            "rate": "4.1",
            "term_months": 12,
            "disbursed_on": timezone.localdate().isoformat(),
        },
    )
    return LoanAccount.objects.get(demand=demand)


def reported(world, user="bank_staff", **fields) -> LoanAccount:
    today = timezone.localdate()
    data = {
        "uscc": world.ent.uscc,
        "contract_no": "JS-2026-0001",
        "principal": "1000000.00",
        "rate": "3.85",
        "disbursed_on": today.replace(year=today.year - 1).isoformat(),
        "maturity_on": today.replace(year=today.year + 1).isoformat(),
        **fields,
    }
    return loanbook.report_loan(world.user(user), data)
