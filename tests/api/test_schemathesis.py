"""Property-based run of the WHOLE OpenAPI schema against a real HTTP server.

Schemathesis generates requests for every operation of the schema (valid
and invalid ones: schema examples, boundary values, then random fuzzing)
and sends them over HTTP to pytest-django's live server, once with a
government user's bearer token and once with an enterprise user's. No
response may be a 5xx, and every response must match what the schema
documents (status code, content type, body schema); and requests that
break the schema must be refused with a 4xx.

The schema document is taken from the app at collection time, so that
pytest can make one test per operation (schemathesis's lazy
`from_fixture` loader does not work with pytest 9); the first test checks
that the live server serves exactly this document at /api/v1/openapi.json.

Bounded and derandomised so that CI is stable and quick: 25 random examples
per operation, deterministic generation, no example database; the coverage
phase only on request (tests/fuzzing.py).

The policy and supply-chain operations are fuzzed by their own files
(tests/policy/test_api_fuzz.py, test_pool_api_fuzz.py,
tests/supplychain/test_api_fuzz.py), against a database holding their
programmes, loans, receivables and vouchers and as every role that acts on
them, which reaches deeper than this run's empty world; they are left out
here so that each operation is fuzzed once per suite. The first test
checks that together the files cover every operation of the document.
"""

from __future__ import annotations

import json

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from ninja.responses import NinjaJSONEncoder
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from chanrong.accounts.services import create_token
from chanrong.api.api import api
from tests import fuzzing

MAX_EXAMPLES = 25
CALLERS = ("gov_jiashan", "ent_user")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

pytestmark = [pytest.mark.django_db(transaction=True), fuzzing.ON_POSTGRES_ONLY]


def openapi_document() -> dict:
    """The document exactly as /api/v1/openapi.json serves it (JSON keys are strings)."""
    return json.loads(
        json.dumps(api.get_openapi_schema(path_prefix="/api/v1/"), cls=NinjaJSONEncoder)
    )


#: Fuzzed by their own apps' files (see the module docstring).
FUZZED_ELSEWHERE = r"^/api/v1/(policy|supplychain)/"

schema = schemathesis.openapi.from_dict(openapi_document()).exclude(path_regex=FUZZED_ELSEWHERE)
fuzzing.configure(schema, MAX_EXAMPLES)  # tests/fuzzing.py


@pytest.fixture
def bearer_headers(live_server, world) -> dict[str, dict[str, str]]:
    return {
        name: {"Authorization": f"Bearer {create_token(None, world.user(name), 'fuzz').raw}"}
        for name in CALLERS
    }


def test_live_server_serves_the_fuzzed_document(live_server):
    response = requests.get(f"{live_server.url}/api/v1/openapi.json", timeout=30)
    assert response.status_code == 200
    assert response.json() == openapi_document()


def test_every_operation_is_fuzzed_by_one_file():
    """The paths left out here are exactly those the app fuzz files include."""
    import re

    from tests.policy.test_api_fuzz import POLICY
    from tests.policy.test_pool_api_fuzz import POOLS
    from tests.supplychain.test_api_fuzz import SUPPLYCHAIN

    for path in openapi_document()["paths"]:
        owners = [p for p in (POLICY, POOLS, SUPPLYCHAIN) if re.search(p, path)]
        if re.search(FUZZED_ELSEWHERE, path):
            assert len(owners) == 1, path
        else:
            assert owners == [], path


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_api_never_fails_and_matches_its_schema(case, live_server, bearer_headers):
    for headers in bearer_headers.values():
        case.call_and_validate(base_url=live_server.url, headers=headers, checks=CHECKS, timeout=30)
