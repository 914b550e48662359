"""The webhook pages: managers of the institution only; secret shown once."""

from __future__ import annotations

import pytest
from django.urls import reverse

from chanrong.api.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.webhooks.urls")]


@pytest.fixture
def manager_client(client, world):
    client.force_login(world.user("bank_manager"))
    return client


def test_list_shows_the_institutions_endpoints(manager_client, issued):
    response = manager_client.get(reverse("webhooks:list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert issued.endpoint.url in body
    assert issued.secret not in body
    assert f"whsec_…{issued.secret[-4:]}" in body


@pytest.mark.parametrize("username", ["bank_staff", "bank2_staff", "ent_user", "gov_jiashan"])
def test_others_get_404(client, world, issued, username):
    client.force_login(world.user(username))
    assert client.get(reverse("webhooks:list")).status_code == 404
    assert client.get(reverse("webhooks:detail", args=[issued.endpoint.pk])).status_code == 404
    assert client.post(reverse("webhooks:deactivate", args=[issued.endpoint.pk])).status_code == 404


def test_create_shows_the_secret_once(manager_client, world):
    response = manager_client.get(reverse("webhooks:create"))
    assert response.status_code == 200
    response = manager_client.post(
        reverse("webhooks:create"),
        {"url": "https://bank.example/hook", "events": ["dispatch.created"], "description": "核心"},
    )
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    endpoint = WebhookEndpoint.objects.get()
    secret = response.context["secret"]
    assert secret.startswith("whsec_") and secret in response.content.decode()
    detail = manager_client.get(reverse("webhooks:detail", args=[endpoint.pk]))
    assert secret not in detail.content.decode()


def test_create_with_bad_input_shows_errors(manager_client):
    response = manager_client.post(
        reverse("webhooks:create"), {"url": "gopher://127.0.0.1/", "events": ["dispatch.created"]}
    )
    assert response.status_code == 200
    assert "只支持 http:// 或 https:// 地址" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()
    response = manager_client.post(reverse("webhooks:create"), {"url": "https://b.example/h"})
    assert response.status_code == 200
    assert not WebhookEndpoint.objects.exists()


def test_platform_admin_sees_but_cannot_create(client, world, issued):
    client.force_login(world.user("admin"))
    assert client.get(reverse("webhooks:list")).status_code == 200
    assert client.get(reverse("webhooks:create")).status_code == 403


def test_deactivate_ping_and_delivery_log(manager_client, issued):
    pk = issued.endpoint.pk
    response = manager_client.post(reverse("webhooks:ping", args=[pk]))
    assert response.status_code == 302
    ping = WebhookDelivery.objects.get(event="ping")
    detail = manager_client.get(reverse("webhooks:detail", args=[pk])).content.decode()
    assert f'data-delivery="{ping.pk}"' in detail
    page = manager_client.get(reverse("webhooks:delivery", args=[ping.pk]))
    assert page.status_code == 200
    assert str(ping.idempotency_key) in page.content.decode()

    WebhookDelivery.objects.filter(pk=ping.pk).update(
        status=DeliveryStatus.FAILED, attempts=1, last_status_code=500
    )
    response = manager_client.post(reverse("webhooks:redeliver", args=[ping.pk]))
    assert response.status_code == 302
    again = WebhookDelivery.objects.exclude(pk=ping.pk).get()
    assert response["Location"] == reverse("webhooks:delivery", args=[again.pk])

    manager_client.post(reverse("webhooks:deactivate", args=[pk]))
    issued.endpoint.refresh_from_db()
    assert not issued.endpoint.active
    filtered = manager_client.get(reverse("webhooks:detail", args=[pk]) + "?status=failed")
    assert f'data-delivery="{ping.pk}"' in filtered.content.decode()


def test_rotate_shows_the_new_secret_once(manager_client, issued):
    response = manager_client.post(reverse("webhooks:rotate", args=[issued.endpoint.pk]))
    assert response.status_code == 200
    assert response.context["secret"] != issued.secret


def test_actions_are_post_only(manager_client, issued):
    pk = issued.endpoint.pk
    for name in ["deactivate", "activate", "ping", "rotate"]:
        assert manager_client.get(reverse(f"webhooks:{name}", args=[pk])).status_code == 405


def test_escaping(manager_client, issued, world):
    WebhookEndpoint.objects.filter(pk=issued.endpoint.pk).update(description="<script>x</script>")
    body = manager_client.get(reverse("webhooks:list")).content.decode()
    assert "<script>x</script>" not in body
    assert "&lt;script&gt;" in body
