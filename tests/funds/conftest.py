"""Funds on the shared `world`: a fund company in 嘉善 with its staff
(`fund_staff`), and helpers that register funds and investments through the
services with `today=TODAY`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from chanrong.accounts.models import Role
from chanrong.finance.models import FinancialInstitution, InstitutionKind
from chanrong.funds.services import funds as fund_service
from tests.conftest import JIASHAN, _user

TODAY = date(2026, 6, 1)


def fund_data(manager, **overrides) -> dict:
    data = {
        "name": "嘉善县产业引导基金",
        "kind": "guidance",
        "target_size": "1000000000",
        "paid_in_size": "100000000",
        "manager": manager.pk,
        "region": JIASHAN,
        "focus_industries": ["C34", "C39"],
        "focus_stages": ["startup", "growth"],
        "ticket_min": "5000000",
        "ticket_max": "50000000",
        "inception_date": "2020-03-01",
    }
    data.update(overrides)
    return data


@pytest.fixture
def fund_co(world) -> FinancialInstitution:
    company = FinancialInstitution.objects.create(
        name="嘉善县产业投资基金有限公司",
        short_name="嘉善产业基金",
        kind=InstitutionKind.FUND,
        region_id=JIASHAN,
    )
    world.users["fund_staff"] = _user("fund_staff", Role.INSTITUTION_STAFF, institution=company)
    return company


@pytest.fixture
def fund(world, fund_co):
    return fund_service.create_fund(world.user("fund_staff"), fund_data(fund_co), today=TODAY)


def invest(actor, fund, enterprise, amount, on="2025-05-01", **extra):
    from chanrong.funds.services.investments import record_investment

    data = {
        "enterprise_uscc": enterprise.uscc,
        "round": "a",
        "amount": str(Decimal(amount)),
        "invested_on": on,
        **extra,
    }
    return record_investment(actor, fund, data, today=TODAY)
