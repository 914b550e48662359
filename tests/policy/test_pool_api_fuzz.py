"""Schemathesis over the pools operations (/api/v1/policy/pools) against a
live server with pools in it: ids 1, 2 … name real rows (a 转贷应急 fund
and a 风险补偿 pool, draws in each state, a registration, a paid claim), so
the generated calls reach the services, not only the 404. Callers: the 财政
administrator, the enterprise, its bank, and nobody. No 5xx, answers as
documented, bad input refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
import schemathesis
from django.utils import timezone
from hypothesis import HealthCheck, settings

from chanrong.accounts.services import create_token
from chanrong.policy import services
from tests import fuzzing
from tests.api.test_schemathesis import CHECKS, openapi_document

from .conftest import make_loan
from .poolkit import BRIDGE_PARAMS, make_pool

POOLS = r"^/api/v1/policy/pools"

schema = schemathesis.openapi.from_dict(openapi_document()).include(path_regex=POOLS)
fuzzing.configure(schema, 25)  # phases per database: tests/fuzzing.py

pytestmark = [
    pytest.mark.django_db(transaction=True, reset_sequences=True),
    fuzzing.ON_POSTGRES_ONLY,
]


@pytest.fixture
def headers(live_server, policy_world) -> list[dict[str, str]]:
    pw = policy_world
    today = timezone.localdate()
    period = {
        "starts_on": str(today - timedelta(days=400)),
        "ends_on": str(today + timedelta(days=400)),
    }
    fund = make_pool(
        pw, "bridge", BRIDGE_PARAMS, "5000000", on=today - timedelta(days=90), **period
    )
    risk = make_pool(pw, "risk_pool", {"share": "40"}, "2000000", **period)
    bank, admin = pw.user("bank_staff"), pw.user("fin_admin")

    def loan(no, matures_in):
        return make_loan(
            pw,
            no=no,
            loan_date=today - timedelta(days=300),
            maturity_date=today + timedelta(days=matures_in),
            confirmed_at=timezone.now(),
        )

    first = services.request_draw(
        bank, fund, loan("F-1", 3), {"amount": "100000", "commitment_no": "XD-1"}
    )
    services.draw_funds(admin, services.approve_draw(admin, first), today=today - timedelta(days=1))
    services.approve_draw(
        admin,
        services.request_draw(
            bank, fund, loan("F-2", 4), {"amount": "200000", "commitment_no": "XD-2"}
        ),
    )
    services.request_draw(
        pw.user("ent_user"), fund, loan("F-3", 5), {"amount": "300000", "commitment_no": "XD-3"}
    )
    loan("F-RENEWED", 360)
    registration = services.register_in_pool(bank, risk, loan("R-1", 200))
    claim = services.file_claim(bank, registration, {"loss": "100000"})
    services.pay_claim(admin, claim)
    services.file_claim(
        bank, services.register_in_pool(bank, risk, loan("R-2", 200)), {"loss": "1"}
    )
    return [
        {"Authorization": f"Bearer {create_token(None, pw.user(name), 'fuzz').raw}"}
        for name in ("fin_admin", "ent_user", "bank_staff")
    ] + [{}]


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_pool_operations_never_fail(case, live_server, headers):
    for caller in headers:
        case.call_and_validate(base_url=live_server.url, headers=caller, checks=CHECKS, timeout=30)
