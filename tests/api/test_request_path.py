"""The request path of bench/request_path.py (issue 20), through the whole
middleware stack: the statements the authenticated floor (a bearer token and
a 404) and the dispatch list make once warm, the 404 not resolved twice, and
the API's JSON encoder writing exactly what ninja's and Django's would."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.middleware import common
from django.test import Client
from django.test.utils import CaptureQueriesContext
from ninja.responses import NinjaJSONEncoder

from chanrong.accounts.services import create_token
from chanrong.api.api import Encoder
from chanrong.demands import services
from tests.demands.conftest import demand_data, publish

pytestmark = pytest.mark.django_db

FLOOR = "/api/v1/demands/2000000000"
LIST = "/api/v1/dispatches"


def _statements(client: Client, path: str, status: int) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == status
    return [q["sql"] for q in queries.captured_queries]


@pytest.fixture
def bank(world, settings) -> Client:
    settings.CHANRONG_API_RATE_PER_TOKEN = "1000/min"
    settings.CHANRONG_API_RATE_PER_ADDRESS = "1000/min"
    token = create_token(None, world.user("bank_staff"), "tests").raw
    return Client(headers={"Authorization": f"Bearer {token}"})


def test_the_floor_is_four_statements_once_warm(bank):
    """Both rate windows (one upsert), the token with its user, the demand as
    the bank may see it, and the refusal's mark-or-count (one statement on
    PostgreSQL, SQLite's two)."""
    _statements(bank, FLOOR, 404)  # the first refusal writes its audit entry
    statements = _statements(bank, FLOOR, 404)
    refusal = 1 if connection.vendor == "postgresql" else 2
    assert len(statements) == 3 + refusal, statements
    assert statements[0].lstrip().upper().startswith("INSERT INTO")  # the rate windows
    assert "accounts_apitoken" in statements[1]
    assert "demands_demand" in statements[2]


def test_the_dispatch_list_is_four_statements_whatever_its_length(world, bank):
    publish(world.user("bank_staff"))
    user = world.user("ent_user")
    _statements(bank, LIST, 200)
    for amount in (100, 200, 300):
        services.publish_demand(user, services.create_demand(user, demand_data(amount_wan=amount)))
    statements = _statements(bank, LIST, 200)
    assert len(statements) == 4, statements
    assert "accounts_apitoken" in statements[1]
    assert "COUNT(" in statements[2].upper()
    assert "LIMIT" in statements[3].upper()
    assert len(bank.get(LIST).json()["results"]) == 3


def test_an_api_404_resolves_its_path_once(bank):
    with mock.patch.object(common, "is_valid_path", wraps=common.is_valid_path) as check:
        response = bank.get(FLOOR)
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert check.call_count == 0


def test_a_path_without_its_slash_is_still_redirected(world):
    client = Client()
    client.force_login(world.user("ent_user"))
    response = client.get("/enterprises")
    assert response.status_code == 301 and response["Location"] == "/enterprises/"
    assert client.get("/no-such-page-at-all").status_code == 404


SHANGHAI = timezone(timedelta(hours=8))
VALUES = [
    datetime(2026, 12, 6, 9, 55, 29, 123456, tzinfo=UTC),
    datetime(2026, 12, 6, 9, 55, 29, tzinfo=UTC),
    datetime(2026, 12, 6, 17, 55, 29, 999, tzinfo=SHANGHAI),
    datetime(2026, 12, 6, 17, 55, 29),
    date(2026, 12, 6),
    Decimal("4.3500"),
    Decimal("-0.000001"),
    Decimal("1E+3"),
    {"nested": [datetime(2000, 1, 1, tzinfo=UTC), date(2000, 2, 29), Decimal("1")]},
    "嘉善",
    None,
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_the_encoder_writes_what_ninja_and_django_write(value):
    mine = json.dumps({"v": value}, cls=Encoder, ensure_ascii=False)
    theirs = json.dumps({"v": value}, cls=NinjaJSONEncoder, ensure_ascii=False)
    assert mine == theirs
