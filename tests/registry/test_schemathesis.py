"""Property-based run of the registry routers' OpenAPI operations (profile,
grades, qualifications, operating data, projects, lists) against a live
server, as in tests/api/test_schemathesis.py: no 5xx, responses as
documented, schema-breaking requests refused with a 4xx. The routers are
mounted on the throwaway API of tests/registry/urls.py until the lead
mounts them under /api/v1 (then tests/api covers them too)."""

from __future__ import annotations

import json

import pytest
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
from chanrong.registry import services
from tests import fuzzing

from .urls import api

MAX_EXAMPLES = 12
CALLERS = ("gov_jiashan", "ent_user")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
MINE = (
    "/testapi/lists",
    "/testapi/projects",
    "/testapi/operating-data",
    "/testapi/enterprises/{id}/",
)

pytestmark = [pytest.mark.django_db(transaction=True), fuzzing.ON_POSTGRES_ONLY]


def openapi_document() -> dict:
    document = json.loads(
        json.dumps(api.get_openapi_schema(path_prefix="/testapi/"), cls=NinjaJSONEncoder)
    )
    document["paths"] = {
        path: item for path, item in document["paths"].items() if path.startswith(MINE)
    }
    return document


schema = schemathesis.openapi.from_dict(openapi_document())
fuzzing.configure(schema, MAX_EXAMPLES)  # phases per database: tests/fuzzing.py


@pytest.fixture
def bearer_headers(live_server, world, settings) -> dict[str, dict[str, str]]:
    settings.ROOT_URLCONF = "tests.registry.urls"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Something to find: a published list with a member, a project, a record.
    gov = world.user("gov_jiashan")
    lst = services.create_list(gov, {"list_type": "key_enterprises", "name": "白名单"})
    version = services.start_version(gov, lst)
    services.add_list_entry(gov, version, enterprise=world.ent, reason="亩均 A 类")
    services.submit_version(gov, version)
    services.publish_version(gov, version)
    services.start_version(gov, lst)
    services.create_project(
        gov,
        {"owner_id": world.ent.pk, "name": "技改项目", "kind": "tech_upgrade", "total_investment_wan": 100, "stage": "planning"},
    )  # fmt: skip
    services.record_operating_data(gov, world.ent, "2025-01", {"revenue_wan": -1})
    return {
        name: {"Authorization": f"Bearer {create_token(None, world.user(name), 'fuzz').raw}"}
        for name in CALLERS
    }


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_registry_api_never_fails_and_matches_its_schema(case, live_server, bearer_headers):
    for headers in bearer_headers.values():
        case.call_and_validate(base_url=live_server.url, headers=headers, checks=CHECKS, timeout=30)
