"""The request path of bench/request_path.py (issue 20), through the whole
middleware stack: the statements the authenticated floor (a bearer token and
a 404) and the dispatch list make once warm, the 404 not resolved twice, and
the API's renderer writing what ninja's and Django's encoders would."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from unittest import mock
from uuid import UUID

import orjson
import pytest
from django.db import connection
from django.middleware import common
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.translation import gettext_lazy
from ninja.responses import NinjaJSONEncoder

from chanrong.accounts.services import create_token
from chanrong.api.api import Renderer
from chanrong.demands import services
from chanrong.demands.models import DemandState
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
    time(9, 30, 15, 123456),
    timedelta(days=2, hours=3),
    Decimal("4.3500"),
    Decimal("-0.000001"),
    Decimal("1E+3"),
    {"nested": [datetime(2000, 1, 1, tzinfo=UTC), date(2000, 2, 29), Decimal("1")]},
    {1: "int keys", 2: ("a", "tuple")},
    UUID("12345678-1234-5678-1234-567812345678"),
    DemandState.PUBLISHED,
    gettext_lazy("待认领"),
    '嘉善 \u2028 "quoted"',
    1.5,
    2**62,
    {"beyond 64 bits": 2**70},
    None,
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_the_renderer_writes_what_ninja_and_django_write(value):
    """orjson writes every value as ninja's encoder (Django's) would: the
    same JSON, only without the spaces after separators."""
    mine = Renderer().render(None, {"v": value}, response_status=200)
    theirs = json.dumps({"v": value}, cls=NinjaJSONEncoder, ensure_ascii=False)
    assert json.loads(mine) == json.loads(theirs)
    if isinstance(value, datetime | date | time | Decimal):
        assert mine.decode() == theirs.replace(": ", ":")


def test_a_fragment_is_copied_in_unread():
    body = Renderer().render(None, {"v": orjson.Fragment("[14, 18]")}, response_status=200)
    assert body == b'{"v":[14, 18]}'
