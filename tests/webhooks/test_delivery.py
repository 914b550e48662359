"""Sending webhooks to a real HTTP server: signature, headers, retries, giving up."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from chanrong.api import webhooks
from chanrong.api.models import DeliveryStatus, WebhookDelivery
from chanrong.api.services import set_active

from ..tasks.conftest import run_db_worker

pytestmark = pytest.mark.django_db


def _verify(secret: str, received) -> dict:
    """What an institution's receiver does (the docs show the same code)."""
    headers = received.headers
    assert webhooks.verify_signature(
        secret, headers["X-Chanrong-Timestamp"], received.body, headers["X-Chanrong-Signature"]
    )
    return json.loads(received.body)


def test_emit_delivers_a_signed_request_after_commit(
    immediate_tasks, issued, receiver, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        (delivery,) = webhooks.emit(
            world.bank.pk,
            "dispatch.created",
            {"demand_id": 7, "amount_wan": Decimal("500.50"), "enterprise": "嘉善精工"},
        )
        assert receiver.requests == []  # not before the commit
    assert len(receiver.requests) == 1
    received = receiver.requests[0]
    body = _verify(issued.secret, received)
    assert received.path == "/hook"
    assert received.headers["X-Chanrong-Event"] == "dispatch.created"
    assert received.headers["X-Chanrong-Delivery"] == str(delivery.pk)
    assert received.headers["Idempotency-Key"] == str(delivery.idempotency_key)
    assert received.headers["Content-Type"] == "application/json; charset=utf-8"
    assert body["event"] == "dispatch.created"
    assert body["id"] == str(delivery.idempotency_key)
    assert body["institution_id"] == world.bank.pk
    assert body["data"] == {"demand_id": 7, "amount_wan": "500.50", "enterprise": "嘉善精工"}
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.attempts == 1
    assert delivery.last_status_code == 200
    assert delivery.delivered_at is not None


def test_a_tampered_body_or_wrong_secret_fails_verification(
    immediate_tasks, issued, receiver, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        webhooks.emit(world.bank.pk, "offer.accepted", {"offer_id": 1})
    received = receiver.requests[0]
    ts, sig = received.headers["X-Chanrong-Timestamp"], received.headers["X-Chanrong-Signature"]
    assert sig.startswith("sha256=") and len(sig) == 7 + 64
    assert not webhooks.verify_signature(issued.secret, ts, received.body + b" ", sig)
    assert not webhooks.verify_signature("whsec_wrong", ts, received.body, sig)
    # A replay long after the timestamp is refused too.
    assert not webhooks.verify_signature(issued.secret, ts, received.body, sig, now=int(ts) + 3600)


def test_only_subscribed_active_endpoints_of_that_institution_get_events(
    immediate_tasks, issued, receiver, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert webhooks.emit(world.bank.pk, "demand.status_changed", {"x": 1}) == []
        assert webhooks.emit(world.bank2.pk, "dispatch.created", {"x": 1}) == []
    set_active(world.user("bank_manager"), issued.endpoint, False)
    with django_capture_on_commit_callbacks(execute=True):
        assert webhooks.emit(world.bank.pk, "dispatch.created", {"x": 1}) == []
    assert receiver.requests == []


def test_nothing_is_sent_when_the_callers_transaction_rolls_back(
    immediate_tasks, issued, receiver, world, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        webhooks.emit(world.bank.pk, "dispatch.created", {"x": 1})
        raise RuntimeError
    assert receiver.requests == []
    assert not WebhookDelivery.objects.exists()


def _make_due(delivery: WebhookDelivery) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(minutes=10)
    )


def test_a_500_is_retried_by_the_tick_and_then_succeeds(
    immediate_tasks, issued, receiver, world, django_capture_on_commit_callbacks
):
    receiver.answer(500)
    with django_capture_on_commit_callbacks(execute=True):
        (delivery,) = webhooks.emit(world.bank.pk, "dispatch.created", {"demand_id": 9})
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 1
    assert delivery.last_status_code == 500
    assert "receiver says no" in delivery.last_error
    # Back-off: the next attempt is scheduled at least a minute after the first
    # (which happened after the row was created), and nothing is sent before then.
    assert delivery.next_attempt_at - delivery.created_at >= timedelta(minutes=1)
    assert webhooks.attempt(delivery.pk) is None
    assert len(receiver.requests) == 1

    _make_due(delivery)
    call_command("tick", all=True, verbosity=0)  # the sweep retries what is due

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.attempts == 2
    assert delivery.last_status_code == 200
    assert delivery.last_error == ""
    assert len(receiver.requests) == 2
    first, second = receiver.requests
    # The same event: same body and Idempotency-Key; each attempt signed afresh.
    assert first.body == second.body
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    _verify(issued.secret, second)


def test_gives_up_after_the_last_attempt(
    immediate_tasks, issued, receiver, world, settings, django_capture_on_commit_callbacks
):
    settings.CHANRONG_WEBHOOK_RETRY_DELAYS = (0, 0, 0)  # four attempts in all
    receiver.answer(500, 502, 503, 500, 500)
    with django_capture_on_commit_callbacks(execute=True):
        (delivery,) = webhooks.emit(world.bank.pk, "dispatch.created", {"demand_id": 9})
    for _ in range(3):
        assert webhooks.attempt(delivery.pk) in {DeliveryStatus.FAILED, DeliveryStatus.GIVING_UP}
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.GIVING_UP
    assert delivery.attempts == 4
    assert delivery.next_attempt_at is None
    assert delivery.last_status_code == 500
    assert webhooks.attempt(delivery.pk) is None  # no fifth attempt
    assert len(receiver.requests) == 4


def test_the_default_back_off_schedule():
    assert webhooks.RETRY_DELAYS == (60, 300, 1800, 7200, 21600)


def test_connection_refused_is_a_failed_attempt(immediate_tasks, issued, world, receiver):
    import socket

    with socket.socket() as probe:  # a port that nobody listens on any more
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    issued.endpoint.url = f"http://127.0.0.1:{port}/hook"
    issued.endpoint.save()
    (delivery,) = webhooks.emit(world.bank.pk, "dispatch.created", {"x": 1})
    assert webhooks.attempt(delivery.pk) == DeliveryStatus.FAILED
    delivery.refresh_from_db()
    assert delivery.last_status_code is None
    assert "ConnectionError" in delivery.last_error


def test_redirects_are_not_followed(immediate_tasks, issued, receiver, world):
    receiver.answer(302)
    (delivery,) = webhooks.emit(world.bank.pk, "dispatch.created", {"x": 1})
    assert webhooks.attempt(delivery.pk) == DeliveryStatus.FAILED
    delivery.refresh_from_db()
    assert delivery.last_status_code == 302
    assert len(receiver.requests) == 1


def test_private_addresses_are_refused_when_not_allowed(
    immediate_tasks, issued, receiver, world, settings
):
    settings.CHANRONG_WEBHOOK_ALLOW_PRIVATE = False
    (delivery,) = webhooks.emit(world.bank.pk, "dispatch.created", {"x": 1})
    assert webhooks.attempt(delivery.pk) == DeliveryStatus.FAILED
    delivery.refresh_from_db()
    assert "内网" in delivery.last_error
    assert receiver.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/_FLUSHALL",
        "ftp://bank.example/x",
        "http://user:pw@bank.example/hook",
        "http:///nohost",
        "http://bank.example:99999/hook",
    ],
)
def test_check_url_refuses_unsafe_urls(url):
    with pytest.raises(webhooks.UnsafeURL):
        webhooks.check_url(url, resolve=False)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://10.1.2.3/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::ffff:127.0.0.1]/hook",
        "http://localhost/hook",
    ],
)
def test_check_url_refuses_private_addresses_unless_allowed(url, settings):
    settings.CHANRONG_WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(webhooks.UnsafeURL):
        webhooks.check_url(url)
    settings.CHANRONG_WEBHOOK_ALLOW_PRIVATE = True
    webhooks.check_url(url)


def test_a_deactivated_endpoint_gives_up_its_pending_deliveries(
    immediate_tasks, issued, receiver, world
):
    (delivery,) = webhooks.emit(world.bank.pk, "dispatch.created", {"x": 1})
    set_active(world.user("bank_manager"), issued.endpoint, False)
    assert webhooks.attempt(delivery.pk) is None
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.GIVING_UP
    assert receiver.requests == []


def test_database_backend_end_to_end_with_the_worker(
    database_tasks,
    issued,
    receiver,
    world,
    django_capture_on_commit_callbacks,
    keep_signal_handlers,
):
    with django_capture_on_commit_callbacks(execute=True):
        (delivery,) = webhooks.emit(world.bank.pk, "dispatch.created", {"demand_id": 1})
    assert DBTaskResult.objects.filter(task_path="chanrong.api.webhooks.deliver_webhook").exists()
    assert receiver.requests == []
    run_db_worker()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert len(receiver.requests) == 1


def test_database_backend_defers_the_retry(
    database_tasks,
    issued,
    receiver,
    world,
    django_capture_on_commit_callbacks,
    keep_signal_handlers,
):
    receiver.answer(503)
    with django_capture_on_commit_callbacks(execute=True):
        (delivery,) = webhooks.emit(world.bank.pk, "dispatch.created", {"demand_id": 1})
    run_db_worker()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    retry = DBTaskResult.objects.filter(
        task_path="chanrong.api.webhooks.deliver_webhook", status="READY"
    ).get()
    assert retry.run_after == delivery.next_attempt_at
    assert retry.args_kwargs["args"] == [delivery.pk]


def test_signature_matches_the_documented_formula():
    import hashlib
    import hmac

    body = b'{"a":1}'
    ts = str(int(time.time()))
    expected = hmac.new(b"whsec_x", f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    assert webhooks.sign("whsec_x", ts, body) == f"sha256={expected}"


def _documented_verifier():
    """The verification function as printed in docs/api-guide.md."""
    import re
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[2] / "docs" / "api-guide.md").read_text("utf-8")
    blocks = re.findall(r"```python\n(.*?)```", guide, flags=re.S)
    (code,) = [b for b in blocks if "def verify_chanrong_webhook" in b]
    namespace: dict = {}
    exec(code, namespace)  # noqa: S102 - our own documentation
    return namespace["verify_chanrong_webhook"]


def test_the_documented_receiver_code_verifies_real_requests(
    immediate_tasks, issued, receiver, world, django_capture_on_commit_callbacks
):
    verify = _documented_verifier()
    with django_capture_on_commit_callbacks(execute=True):
        webhooks.emit(world.bank.pk, "dispatch.created", {"demand_id": 3})
    received = receiver.requests[0]
    assert verify(issued.secret, received.headers, received.body)
    assert not verify(issued.secret, received.headers, received.body.replace(b"3", b"4"))
    assert not verify("whsec_other", received.headers, received.body)
