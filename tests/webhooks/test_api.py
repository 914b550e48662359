"""/webhooks in the REST API."""

from __future__ import annotations

import pytest
from django.test import Client

from chanrong.accounts.services import create_token
from chanrong.api.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

from .urls import API_PREFIX

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.webhooks.urls")]


@pytest.fixture
def call(world):
    def make(username: str):
        token = create_token(None, world.user(username), "tests").raw
        client = Client(headers={"Authorization": f"Bearer {token}"})

        def request(method: str, path: str = "", data=None):
            kwargs = {"content_type": "application/json", "data": data} if data is not None else {}
            return getattr(client, method)(API_PREFIX + path, **kwargs)

        return request

    return make


def _error(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "errors"}
    return body


def test_create_list_get_delete(call, world):
    api = call("bank_manager")
    response = api("post", "", {"url": "https://bank.example/h", "events": ["dispatch.created"]})
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["secret"].startswith("whsec_")
    assert created["secret_hint"] == created["secret"][-4:]
    assert created["institution_id"] == world.bank.pk

    listed = api("get").json()
    assert listed["count"] == 1
    assert "secret" not in listed["results"][0]
    detail = api("get", f"/{created['id']}").json()
    assert "secret" not in detail and detail["active"] is True

    assert api("delete", f"/{created['id']}").status_code == 204
    assert api("get", f"/{created['id']}").json()["active"] is False


def test_events_catalogue(call):
    names = {e["name"] for e in call("bank_staff")("get", "/events").json()}
    assert {"dispatch.created", "demand.status_changed", "offer.accepted"} <= names


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://x.example/", "events": ["dispatch.created"]}, "url"),
        ({"url": "https://x.example/", "events": []}, "events"),
        ({"url": "https://x.example/", "events": ["bogus.event"]}, "events"),
        ({"url": "https://x.example/", "events": ["dispatch.created"], "secret": "mine"}, "secret"),
        ({"events": ["dispatch.created"]}, "url"),
    ],
)
def test_bad_input_is_a_422(call, body, field):
    error = _error(call("bank_manager")("post", "", body), 422)
    assert field in {e["field"] for e in error["errors"]}
    assert not WebhookEndpoint.objects.exists()


def test_others_cannot_create_or_see(call, issued):
    for username in ["bank_staff", "ent_user", "gov_jiashan"]:
        api = call(username)
        _error(api("post", "", {"url": "https://x.example/", "events": ["offer.accepted"]}), 403)
        assert api("get").json()["count"] == 0
        _error(api("get", f"/{issued.endpoint.pk}"), 404)
        _error(api("delete", f"/{issued.endpoint.pk}"), 404)
        _error(api("get", f"/{issued.endpoint.pk}/deliveries"), 404)


def test_deliveries_ping_and_redeliver(call, issued):
    api = call("bank_manager")
    pk = issued.endpoint.pk
    ping = api("post", f"/{pk}/ping")
    assert ping.status_code == 202, ping.content
    delivery_id = ping.json()["id"]
    listed = api("get", f"/{pk}/deliveries").json()
    assert [d["id"] for d in listed["results"]] == [delivery_id]
    assert listed["results"][0]["payload"]["message"] == "ping"
    assert api("get", f"/{pk}/deliveries?status=succeeded").json()["count"] == 0
    _error(api("post", f"/deliveries/{delivery_id}/redeliver"), 409)  # still pending
    WebhookDelivery.objects.filter(pk=delivery_id).update(status=DeliveryStatus.GIVING_UP)
    again = api("post", f"/deliveries/{delivery_id}/redeliver")
    assert again.status_code == 202
    assert again.json()["idempotency_key"] == ping.json()["idempotency_key"]
    assert again.json()["redelivery_of_id"] == delivery_id
    assert api("get", f"/deliveries/{delivery_id}").status_code == 200
    _error(call("bank_staff")("get", f"/deliveries/{delivery_id}"), 404)
