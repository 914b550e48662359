"""A page view or an API read writes nothing to the database, on either
engine: no session rewrite per request, no token write more than once a
minute, nothing from middleware (docs/architecture.md, "Reads under a busy
database"). A write that is due (a token's last use, a session's expiry)
is the only statement of its request, and a small one."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chanrong.accounts import services as accounts
from chanrong.accounts.models import ApiToken
from chanrong.core.context_processors import nav_entries

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _api_rate_limits_off(settings):
    """With the database cache, the API's rate limiter writes its counters (one
    row per caller and window, best-effort on SQLite: docs/deployment.md); with
    Redis it writes nothing to the database. These tests are about the app's own
    writes, so the limiter is off here; tests/core/test_ratelimit.py covers it."""
    settings.CHANRONG_API_RATE_PER_TOKEN = "off"
    settings.CHANRONG_API_RATE_PER_ADDRESS = "off"


WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


def _writes(queries) -> list[str]:
    return [q["sql"] for q in queries if WRITE.match(q["sql"])]


@pytest.mark.parametrize("username", ["admin", "gov_jiashan", "bank_manager", "ent_user"])
def test_menu_pages_write_nothing(world, username):
    user = world.user(username)
    client = Client()
    client.force_login(user)
    pages = [path for key, _label, path in nav_entries(user) if key != "admin"]
    assert len(pages) > 3
    for path in pages:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        assert response.status_code == 200, path
        assert _writes(queries) == [], path


def test_a_due_session_expiry_is_one_small_update_then_nothing(world, settings):
    client = Client()
    client.force_login(world.user("gov_jiashan"))
    key = client.session.session_key
    # Due: the stored expiry is more than a minute behind now + the idle age.
    earlier = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE) - timedelta(minutes=5)
    Session.objects.filter(session_key=key).update(expire_date=earlier)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    writes = _writes(queries)
    assert len(writes) == 1 and "django_session" in writes[0] and "session_data" not in writes[0]
    assert Session.objects.get(session_key=key).expire_date > earlier
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    assert _writes(queries) == []


def test_an_api_read_by_token_writes_its_last_use_at_most_once_a_minute(world):
    issued = accounts.create_token(None, world.user("bank_staff"), "reads")
    due = timezone.now() - timedelta(minutes=5)
    ApiToken.objects.filter(pk=issued.token.pk).update(last_used_at=due)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {issued.raw}")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/enterprises").status_code == 200
    writes = _writes(queries)
    assert len(writes) == 1 and "accounts_apitoken" in writes[0]
    for path in ("/api/v1/enterprises", "/api/v1/institutions", "/api/v1/demands"):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        assert _writes(queries) == [], path
