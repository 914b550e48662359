"""Managing endpoints: who may, what is validated, what is audited, where the secret goes."""

from __future__ import annotations

import pytest
from django.test import override_settings

from chanrong.api import services, webhooks
from chanrong.api.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from chanrong.core import secretbox
from chanrong.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from chanrong.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_a_manager_creates_an_endpoint_for_their_institution(issued, world):
    endpoint = issued.endpoint
    assert endpoint.institution == world.bank
    assert endpoint.events == ["dispatch.created", "offer.accepted"]
    assert issued.secret.startswith("whsec_") and len(issued.secret) > 40
    # Stored encrypted, never in clear; the hint is the last four characters.
    assert issued.secret not in endpoint.secret_encrypted
    assert endpoint.secret_hint == issued.secret[-4:]
    assert webhooks.endpoint_secret(endpoint) == issued.secret
    entry = AuditEntry.objects.get(action="webhook.create")
    assert issued.secret not in str(entry.changes)
    assert entry.changes["url"] == endpoint.url


@pytest.mark.parametrize("username", ["bank_staff", "ent_user", "gov_jiashan", "admin"])
def test_only_institution_managers_create_endpoints(world, username):
    with pytest.raises(NotAllowed):
        services.create_endpoint(
            world.user(username), url="https://x.example/h", events=["dispatch.created"]
        )


@pytest.mark.parametrize(
    ("url", "events", "field"),
    [
        ("", ["dispatch.created"], "url"),
        ("javascript:alert(1)", ["dispatch.created"], "url"),
        ("file:///etc/passwd", ["dispatch.created"], "url"),
        ("https://not a url", ["dispatch.created"], "url"),
        ("https://bank.example/" + "x" * 500, ["dispatch.created"], "url"),
        ("https://bank.example/h", [], "events"),
        ("https://bank.example/h", ["no.such_event"], "events"),
    ],
)
def test_bad_input_is_refused_field_by_field(world, url, events, field):
    with pytest.raises(ValidationFailed) as info:
        services.create_endpoint(world.user("bank_manager"), url=url, events=events)
    assert field in {e.field for e in info.value.errors}
    assert not WebhookEndpoint.objects.exists()


def test_the_same_url_twice_is_refused(issued, world, receiver):
    with pytest.raises(ValidationFailed):
        services.create_endpoint(
            world.user("bank_manager"), url=receiver.url, events=["dispatch.created"]
        )


def test_endpoints_per_institution_are_bounded(world, monkeypatch):
    monkeypatch.setattr(services, "MAX_ENDPOINTS", 2)
    manager = world.user("bank_manager")
    for n in range(2):
        services.create_endpoint(manager, url=f"https://b.example/{n}", events=["offer.accepted"])
    with pytest.raises(Conflict):
        services.create_endpoint(manager, url="https://b.example/3", events=["offer.accepted"])


def test_visibility(issued, world):
    visible = {
        name: WebhookEndpoint.objects.visible_to(world.user(name)).exists() for name in world.users
    }
    assert visible == {name: name in {"bank_manager", "admin"} for name in world.users}
    with pytest.raises(NotFound):
        services.get_visible_endpoint(world.user("bank_staff"), issued.endpoint.pk)


def test_deactivate_and_reactivate_are_audited(issued, world):
    manager = world.user("bank_manager")
    services.set_active(manager, issued.endpoint, False)
    assert issued.endpoint.deactivated_at is not None
    services.set_active(manager, issued.endpoint, True)
    actions = list(
        AuditEntry.objects.filter(action__startswith="webhook.")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["webhook.create", "webhook.deactivate", "webhook.activate"]


def test_another_institutions_manager_cannot_touch_it(issued, world):
    from chanrong.accounts.models import Role, User

    other = User.objects.create(
        username="bank2_manager", role=Role.INSTITUTION_MANAGER, institution=world.bank2
    )
    with pytest.raises(NotAllowed):
        services.set_active(other, issued.endpoint, False)
    with pytest.raises(NotFound):
        services.get_visible_endpoint(other, issued.endpoint.pk)


def test_rotating_the_secret(issued, world):
    new = services.rotate_secret(world.user("bank_manager"), issued.endpoint)
    assert new != issued.secret
    issued.endpoint.refresh_from_db()
    assert webhooks.endpoint_secret(issued.endpoint) == new
    with pytest.raises(NotAllowed):
        services.rotate_secret(world.user("admin"), issued.endpoint)


def test_secrets_survive_a_secret_key_rotation_through_fallbacks(issued, settings):
    old_key = settings.SECRET_KEY
    with override_settings(
        SECRET_KEY="a-brand-new-key-" + "x" * 40, SECRET_KEY_FALLBACKS=[old_key]
    ):
        assert webhooks.endpoint_secret(issued.endpoint) == issued.secret
    with (
        override_settings(SECRET_KEY="a-brand-new-key-" + "x" * 40, SECRET_KEY_FALLBACKS=[]),
        pytest.raises(secretbox.InvalidToken),
    ):
        webhooks.endpoint_secret(issued.endpoint)


def test_ping_and_redeliver(issued, world):
    manager = world.user("bank_manager")
    ping = services.send_ping(manager, issued.endpoint)
    assert ping.event == "ping" and ping.status == DeliveryStatus.PENDING
    with pytest.raises(Conflict):
        services.redeliver(manager, ping)  # not sent yet
    WebhookDelivery.objects.filter(pk=ping.pk).update(status=DeliveryStatus.GIVING_UP)
    ping.refresh_from_db()
    again = services.redeliver(manager, ping)
    assert again.pk != ping.pk
    assert again.idempotency_key == ping.idempotency_key
    assert again.redelivery_of == ping
    assert again.payload == ping.payload
    services.set_active(manager, issued.endpoint, False)
    with pytest.raises(Conflict):
        services.send_ping(manager, issued.endpoint)
