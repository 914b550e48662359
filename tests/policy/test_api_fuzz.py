"""Schemathesis over the policy operations only, against a live server with
policy data in it (the whole-schema run in tests/api/test_schemathesis.py
covers these operations too, but on an empty policy app, so that nearly
every id it tries is a 404).

Sequences restart at 1 for each operation, so the ids schemathesis tries
first (1, 2 …) name real rows: a published programme, a draft, a loan, an
application in 公示 with an objection. Callers: a 财政 administrator, the
enterprise, its bank, and nobody (the public operations). No 5xx, answers
as documented, bad input refused.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import schemathesis
from django.core.cache import cache
from hypothesis import HealthCheck, settings

from chanrong.accounts.services import create_token
from chanrong.policy import services
from tests import fuzzing
from tests.api.test_schemathesis import CHECKS, openapi_document

from .conftest import make_loan, make_programme

#: The policy operations of chanrong/policy/api.py (the pools, /policy/pools, are api_pools.py's).
POLICY = r"^/api/v1/policy/(?!pools)"

schema = schemathesis.openapi.from_dict(openapi_document()).include(path_regex=POLICY)
fuzzing.configure(schema, 25)  # phases per database: tests/fuzzing.py

pytestmark = [
    pytest.mark.django_db(transaction=True, reset_sequences=True),
    fuzzing.ON_POSTGRES_ONLY,
]


@pytest.fixture
def headers(live_server, policy_world) -> list[dict[str, str]]:
    pw = policy_world
    cache.clear()  # the anonymous-objection throttle
    admin = pw.user("fin_admin")
    published = make_programme(pw, requires_bank_confirmation=False)
    make_programme(pw, publish=False, name="草稿")
    loan = make_loan(pw)
    application = services.apply(
        pw.user("ent_user"),
        published,
        {"period_start": "2026-01-10", "period_end": "2026-06-30", "paid_cost": Decimal(80000)},
        loan=loan,
    )
    services.verify(pw.user("gov_jiashan"), application)
    application = services.approve(admin, application)
    services.raise_objection(application, {"name": "张三", "contact": "1", "text": "异议"})
    return [
        {"Authorization": f"Bearer {create_token(None, pw.user(name), 'fuzz').raw}"}
        for name in ("fin_admin", "ent_user", "bank_staff")
    ] + [{}]


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_policy_operations_never_fail(case, live_server, headers):
    for caller in headers:
        case.call_and_validate(base_url=live_server.url, headers=caller, checks=CHECKS, timeout=30)
