"""The authorisation matrix, generated from the OpenAPI document (issue 15).

Every operation of /api/v1 × every role (anonymous, enterprise user,
institution staff and manager, government staff and admin, platform admin)
× an own and a foreign object: anonymous callers get 401 (the documented
public operations excepted); an own object is readable (2xx); a foreign
object is 404 (or 403 where the caller may not use the operation at all,
which an id that does not exist must answer the same way), never 2xx, never
a 5xx, and never a 4xx from validating the body before authorising. One test
per operation, each listing all of its failing cells, so a run shows the
whole matrix.

A new endpoint is covered without a new test: its path parameters must be
known to the resolver table (tests/api/authz/resolvers.py), or its test fails
and says which parameter to add.

The world (tests/api/authz/world.py: the demo at scale 0.02 plus tenant B in
海宁) is built once for the module inside a transaction that is rolled back
at the end; each request runs in a savepoint rolled back after it.

`AUTHZ_MATRIX_REPORT=/tmp/matrix.jsonl pytest tests/api/test_authz_matrix.py`
writes every cell (operation, role, case, status, problem or why it does not
apply) as one JSON line, to read the whole matrix rather than its failures.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict

import pytest
from django.db import transaction
from django.test import Client, override_settings
from ninja.responses import NinjaJSONEncoder

from chanrong.api.api import api

from .authz import world as authz_world
from .authz.matrix import API, format_failures, operations, run_operation
from .authz.resolvers import NA, resolver_for

DOCUMENT = json.loads(
    json.dumps(api.get_openapi_schema(path_prefix=f"{API}/"), cls=NinjaJSONEncoder)
)
OPERATIONS = operations(DOCUMENT)

#: Raised for the matrix: ~3,000 requests from one address and six tokens.
pytestmark = pytest.mark.django_db  # nested in the module's transaction (see matrix_world)

MATRIX_SETTINGS = {
    "CHANRONG_API_RATE_PER_TOKEN": "100000/s burst 100000",
    "CHANRONG_API_RATE_PER_ADDRESS": "100000/s burst 100000",
    "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
    "CHANRONG_DEMO_PASSWORD": "Authz-matrix-2026",
}


@pytest.fixture(scope="module")
def matrix_settings(tmp_path_factory) -> dict:
    """The receivable attachments the world writes go to a temporary media root."""
    return {**MATRIX_SETTINGS, "MEDIA_ROOT": str(tmp_path_factory.mktemp("authz-media"))}


@pytest.fixture(scope="module")
def matrix_world(django_db_setup, django_db_blocker, matrix_settings):
    """Built once, inside a transaction rolled back when the module ends, so
    the other modules' tests never see it."""
    with override_settings(**matrix_settings), django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield authz_world.build()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def in_world(matrix_world, matrix_settings, db):
    with override_settings(**matrix_settings):
        yield matrix_world


def test_the_served_document_is_the_enumerated_one(in_world):
    response = Client().get(f"{API}/openapi.json")
    assert response.status_code == 200
    served = response.json()
    assert {(m, p) for p, ms in served["paths"].items() for m in ms} == {
        (m, p) for p, ms in DOCUMENT["paths"].items() for m in ms
    }
    assert len(OPERATIONS) == sum(len(ms) for ms in served["paths"].values())


def test_every_path_parameter_has_a_resolver():
    missing = sorted(
        f"{op.id}: {name}"
        for op in OPERATIONS
        for name in op.params
        if resolver_for(op.path, name) is None
    )
    assert not missing, "add these to tests/api/authz/resolvers.py RESOLVERS:\n" + "\n".join(
        missing
    )


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.id)
def test_operation(in_world, op):
    cells = run_operation(op, in_world)
    if path := os.environ.get("AUTHZ_MATRIX_REPORT"):
        # The whole matrix, one JSON line per cell, for a person to read.
        with open(path, "a", encoding="utf-8") as out:
            out.writelines(json.dumps(asdict(c), ensure_ascii=False) + "\n" for c in cells)
    failures = [c for c in cells if c.problem]
    assert not failures, format_failures(cells)


def test_the_matrix_sees_a_leak(in_world, monkeypatch):
    """The matrix can fail: with the demands' visibility rule widened to
    everything, reading a foreign demand must be reported as a leak for every
    role that has a foreign demand."""
    from chanrong.demands.models import DemandQuerySet

    monkeypatch.setattr(DemandQuerySet, "visible_to", lambda self, user: self.all())
    op = next(op for op in OPERATIONS if op.id == "GET /demands/{id}")
    leaks = {c.role for c in run_operation(op, in_world) if c.problem.startswith("LEAK")}
    assert leaks == {
        "enterprise_user",
        "institution_staff",
        "institution_manager",
        "gov_staff",
        "gov_admin",
    }


# -- lists: every row returned to a role is visible to it --------------------


def _models():
    from chanrong.demands.models import Demand, Dispatch
    from chanrong.events.models import Event
    from chanrong.finance.models import Product
    from chanrong.policy.models import Application, BridgeDraw, Loan, Programme
    from chanrong.registry.models import Enterprise, EnterpriseList, Project
    from chanrong.supplychain.models import Chain, Financing, Receivable, Voucher

    return {
        "/enterprises": Enterprise,
        "/projects": Project,
        "/lists": EnterpriseList,
        "/products": Product,
        "/demands": Demand,
        "/dispatches": Dispatch,
        "/events": Event,
        "/policy/programmes": Programme,
        "/policy/loans": Loan,
        "/policy/applications": Application,
        "/policy/pools/draws": BridgeDraw,
        "/supplychain/chains": Chain,
        "/supplychain/receivables": Receivable,
        "/supplychain/financings": Financing,
        "/supplychain/vouchers": Voucher,
    }


#: The detail path whose resolver gives the foreign object for a list.
DETAIL = {
    "/enterprises": "/enterprises/{id}",
    "/projects": "/projects/{id}",
    "/lists": "/lists/{id}",
    "/products": "/products/{id}",
    "/demands": "/demands/{id}",
    "/dispatches": "/dispatches/{id}",
    "/events": "/events/{id}",
    "/policy/programmes": "/policy/programmes/{id}",
    "/policy/loans": "/policy/loans/{id}",
    "/policy/applications": "/policy/applications/{id}",
    "/policy/pools/draws": "/policy/pools/draws/{draw_id}",
    "/supplychain/chains": "/supplychain/chains/{id}",
    "/supplychain/receivables": "/supplychain/receivables/{id}",
    "/supplychain/financings": "/supplychain/financings/{id}",
    "/supplychain/vouchers": "/supplychain/vouchers/{id}",
}


def _all_ids(client: Client, path: str, token: str) -> tuple[int, set[int]]:
    """Every row's id, page by page (200 a page at most)."""
    ids: set[int] = set()
    for page in range(1, 100):
        response = client.get(
            API + path,
            query_params={"page": page, "page_size": 200},
            headers={"Authorization": f"Bearer {token}"},
        )
        if response.status_code != 200:
            return response.status_code, ids
        body = response.json()
        ids |= {row["id"] for row in body["results"]}
        if len(ids) >= body["count"] or not body["results"]:
            break
    return 200, ids


@pytest.mark.parametrize("path", sorted(DETAIL))
def test_list_rows_are_visible_to_the_caller(in_world, path):
    from .authz.world import ROLE_USERS, kind_of

    model = _models()[path]
    detail = DETAIL[path]
    resolve = resolver_for(detail, detail.rsplit("{", 1)[1].rstrip("}"))
    client = Client(raise_request_exception=False)
    problems = []
    for role in ROLE_USERS:
        user = in_world.user(role)
        status, ids = _all_ids(client, path, in_world.tokens[role])
        if status == 403:
            continue  # the role may not list this family at all
        if status != 200:
            problems.append(f"{role}: {status}")
            continue
        visible = set(model.objects.visible_to(user).values_list("pk", flat=True))
        if extra := ids - visible:
            problems.append(f"{role}: rows not visible to it: {sorted(extra)[:10]}")
        foreign = resolve(in_world, kind_of(role), "foreign", {"path": detail})
        if not isinstance(foreign, NA) and foreign in ids:
            problems.append(f"{role}: lists the foreign object {foreign}")
    assert not problems, f"GET {path}:\n" + "\n".join(problems)
