"""Refused object access (403/404) is audited for signed-in users, coalesced
per (user, route, status) so that a flood writes one entry with a count."""

from __future__ import annotations

import pytest
from django.test import Client

from chanrong.accounts.services import create_token
from chanrong.core import counters
from chanrong.core.models import AuditEntry
from chanrong.core.refusals import ACTION, _keys

pytestmark = pytest.mark.django_db


def _refusals():
    return list(AuditEntry.objects.filter(action=ACTION).order_by("pk"))


def _signed_in(world, username: str) -> Client:
    client = Client()
    client.force_login(world.user(username))
    return client


def test_a_flood_of_404s_on_a_page_writes_one_entry_and_then_its_count(world):
    client = _signed_in(world, "ent_user")
    foreign = f"/enterprises/{world.ent_js.pk}/"
    for _ in range(5):
        assert client.get(foreign).status_code == 404
    (entry,) = _refusals()
    assert entry.actor_id == world.user("ent_user").pk
    assert entry.changes["path"] == foreign
    assert entry.changes["method"] == "GET"
    assert entry.changes["status"] == 404
    assert entry.changes["route"] == "enterprises/<int:pk>/"
    assert entry.changes["repeated"] == 0
    # The window ends (its mark expires): the next refusal writes an entry
    # carrying the four that were only counted.
    mark, _counter = _keys(world.user("ent_user").pk, "enterprises/<int:pk>/", 404)
    counters.delete(mark)
    assert client.get(f"/enterprises/{world.ent2.pk}/").status_code == 404
    assert [e.changes["repeated"] for e in _refusals()] == [0, 4]


def test_api_refusals_by_token_are_audited_per_status(world):
    token = create_token(None, world.user("ent_user"), "tests").raw
    client = Client(headers={"Authorization": f"Bearer {token}"})
    assert client.get(f"/api/v1/enterprises/{world.ent_js.pk}").status_code == 404
    assert client.get(f"/api/v1/enterprises/{world.ent_js.pk}").status_code == 404
    (entry,) = _refusals()
    assert entry.changes["route"].startswith("api/v1/enterprises/<")
    assert entry.actor_id == world.user("ent_user").pk


def test_each_user_is_coalesced_separately(world):
    for username in ("ent_user", "ent2_user"):
        client = _signed_in(world, username)
        client.get(f"/enterprises/{world.ent_js.pk}/")
        client.get(f"/enterprises/{world.ent_js.pk}/")
    assert sorted(e.actor_id for e in _refusals()) == sorted(
        [world.user("ent_user").pk, world.user("ent2_user").pk]
    )


def test_no_entry_for_anonymous_callers_unknown_urls_or_success(world):
    Client().get(f"/api/v1/enterprises/{world.ent_js.pk}")  # 401, anonymous
    client = _signed_in(world, "ent_user")
    assert client.get("/no-such-page/42/").status_code == 404  # matches no route
    assert client.get("/api/v1/no-such-thing/42").status_code == 404
    assert client.get(f"/enterprises/{world.ent.pk}/").status_code == 200  # own
    assert _refusals() == []


def test_a_403_on_an_object_the_user_may_see_is_audited_under_its_status(world):
    """The bank sees the enterprise that authorised it, but may not edit it."""
    token = create_token(None, world.user("bank_staff"), "tests").raw
    client = Client(headers={"Authorization": f"Bearer {token}"})
    assert client.get(f"/api/v1/enterprises/{world.ent.pk}").status_code == 200
    response = client.patch(
        f"/api/v1/enterprises/{world.ent.pk}", {"employees": 5}, content_type="application/json"
    )
    assert response.status_code == 403
    (entry,) = _refusals()
    assert (entry.changes["status"], entry.changes["method"]) == (403, "PATCH")
    assert entry.actor_id == world.user("bank_staff").pk
