"""Schemathesis over the matching operations only (the whole-schema run in
tests/api/test_schemathesis.py covers them too, but cannot be narrowed to
them): no 5xx, answers as documented, bad input refused — for a government
user, an enterprise user and an institution user."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from chanrong.accounts.services import create_token
from tests import fuzzing
from tests.api.test_schemathesis import CHECKS, openapi_document

MATCHING = r"^/api/v1/(demands/\{id\}/matches|institutions/me/|policy-weights/)"

schema = schemathesis.openapi.from_dict(openapi_document()).include(path_regex=MATCHING)
fuzzing.configure(schema, 25)  # phases per database: tests/fuzzing.py

pytestmark = [pytest.mark.django_db(transaction=True), fuzzing.ON_POSTGRES_ONLY]


@pytest.fixture
def bearer_headers(live_server, world) -> list[dict[str, str]]:
    return [
        {"Authorization": f"Bearer {create_token(None, world.user(name), 'fuzz').raw}"}
        for name in ("gov_jiashan", "ent_user", "bank_staff")
    ]


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_matching_operations_never_fail(case, live_server, bearer_headers):
    for headers in bearer_headers:
        case.call_and_validate(base_url=live_server.url, headers=headers, checks=CHECKS, timeout=30)
