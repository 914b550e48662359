"""Sending: a batch is built from this deployment's data, signed once, and
POSTed until acknowledged — a failed attempt backs off, a lost ack is
settled by the parent's `replayed` answer; registration by one-time code;
the pages and the API show both logs and the received figures by region.

One database holds one identity, so these tests federate the deployment
with itself (parent and child are the same key): every line of the sender
and the receiver runs, over the Django test client instead of a socket. The
two-server test (test_two_servers.py) does it between two processes."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import requests
from django.test import Client
from django.utils import timezone

from chanrong.core.errors import ValidationFailed
from chanrong.core.models import AuditEntry
from chanrong.exchange.models import (
    DeliveryState,
    InboundBatch,
    OutboundBatch,
    Peer,
    PeerRole,
    ReceivedFigure,
    RegistrationCode,
)
from chanrong.exchange.services import envelope, identity, outbox, peers

from .conftest import JIASHAN, post

pytestmark = pytest.mark.django_db


class Transport:
    """requests.post / get answered by the Django test client; `fail` next
    calls raise a connection error first."""

    def __init__(self):
        self.client = Client()
        self.fail = 0
        self.calls = 0

    def post(self, url, data=None, headers=None, **kwargs):
        self.calls += 1
        if self.fail:
            self.fail -= 1
            raise requests.ConnectionError("connection refused")
        path = url.split("://", 1)[1].split("/", 1)[1]
        response = self.client.post(
            "/" + path, data=data or b"", content_type="application/json", headers=headers or {}
        )
        return self._answer(response)

    @staticmethod
    def _answer(response):
        answer = requests.Response()
        answer.status_code = response.status_code
        answer._content = response.content
        return answer


@pytest.fixture
def loopback(world, monkeypatch):
    me = identity.ensure(name="嘉善县产融合作平台", region_code=JIASHAN)
    common = {
        "deployment_id": me.deployment_id,
        "name": me.name,
        "region_code": JIASHAN,
        "public_key": me.public_key,
    }
    parent = Peer.objects.create(role=PeerRole.PARENT, base_url="http://testserver", **common)
    Peer.objects.create(role=PeerRole.CHILD, base_url="http://testserver", **common)
    transport = Transport()
    monkeypatch.setattr(outbox.safeurl, "post", transport.post)
    return parent, transport


class _HeldClock:
    """django.utils.timezone as the outbox sees it, with `now` held at one instant."""

    def __init__(self, at):
        self.at = at

    def now(self):
        return self.at

    def localtime(self, value=None):
        return timezone.localtime(self.at if value is None else value)


def test_a_month_is_queued_once_retried_after_a_failure_and_acknowledged(loopback, monkeypatch):
    parent, transport = loopback
    built = outbox.queue_period("2026-10")
    assert sorted(b.kind for b in built) == ["financing_stats", "indicator_actuals"]
    assert outbox.queue_period("2026-10") == []  # idempotent: sent to a parent once
    transport.fail = 1
    # The failed attempt is made at a known instant (the outbox's clock held
    # there), so the retry must be set exactly the first back-off step later.
    attempted = timezone.now()
    with monkeypatch.context() as held:
        held.setattr(outbox, "timezone", _HeldClock(attempted))
        assert outbox.deliver(parent.pk) == {"delivered": 0, "refused": 0, "failed": 1}
    first = OutboundBatch.objects.get(sequence=1)
    assert first.state == DeliveryState.RETRYING and first.attempts == 1
    assert first.next_attempt_at == attempted + outbox.delay_after(1)
    assert outbox.delay_after(1) == timedelta(minutes=1)
    assert outbox.deliver(parent.pk) == {"delivered": 0, "refused": 0, "failed": 0}  # not due yet
    assert outbox.deliver(parent.pk, force=True)["delivered"] == 2
    assert set(OutboundBatch.objects.values_list("state", flat=True)) == {DeliveryState.DELIVERED}
    assert InboundBatch.objects.count() == 2
    # The ack of the second was "lost": sending it again settles it as delivered.
    OutboundBatch.objects.filter(sequence=2).update(
        state=DeliveryState.RETRYING, acknowledged_at=None
    )
    assert outbox.deliver(parent.pk, force=True)["delivered"] == 1
    assert InboundBatch.objects.count() == 2


def test_a_refused_batch_is_final_and_shows_its_code(loopback):
    parent, transport = loopback
    Peer.objects.filter(role=PeerRole.CHILD).update(region_code="330100")  # parent narrows us
    outbox.queue_period("2026-10")
    assert outbox.deliver(parent.pk)["refused"] == 2
    assert set(OutboundBatch.objects.values_list("error_code", flat=True)) == {
        "region_out_of_scope"
    }


def test_registration_by_one_time_code(client, world):
    me = identity.ensure(name="嘉兴市产融合作平台", region_code="330400")
    admin = world.user("admin")
    with pytest.raises(ValidationFailed):
        peers.issue_code(admin, region_code="320500")  # outside 嘉兴
    _row, code = peers.issue_code(admin, region_code=JIASHAN)
    key = envelope.new_private_key()
    document = {
        "format_version": 1,
        "code": code,
        "nonce": "n1",
        "deployment_id": "6f1c1d2e-8c55-4c1e-9d7b-0a1b2c3d4e5f",
        "name": "嘉善县产融合作平台",
        "region": JIASHAN,
        "base_url": "",
        "public_key": envelope.public_text(key),
    }
    signed = {**document, "signature": envelope.sign_bytes(envelope.canonical(document), key)}
    response, answer = post(client, "/api/v1/exchange/register", json.dumps(signed).encode())
    assert response.status_code == 201, answer
    assert answer["parent"]["public_key"] == me.public_key
    assert envelope.verify_bytes(
        envelope.canonical({"nonce": "n1", "parent": answer["parent"]}),
        answer["signature"],
        me.public_key,
    )
    assert Peer.objects.get(role=PeerRole.CHILD).region_code == JIASHAN
    assert RegistrationCode.objects.get().used_at is not None
    response, answer = post(client, "/api/v1/exchange/register", json.dumps(signed).encode())
    assert (response.status_code, answer["code"]) == (403, "bad_code")  # single use
    assert AuditEntry.objects.filter(action="exchange.child_registered").count() == 1


def test_pages_and_api_show_the_logs_and_received_figures_by_region(client, loopback):
    parent, _transport = loopback
    outbox.queue_period("2026-10")
    outbox.deliver(parent.pk)
    client.force_login(_user("admin"))
    for name in ("home", "outbound", "inbound", "refusals", "received"):
        response = client.get(f"/exchange/{'' if name == 'home' else name + '/'}")
        assert response.status_code == 200, name
    assert "下级平台报送" in client.get("/exchange/received/").content.decode()
    batch = InboundBatch.objects.first()
    assert client.get(f"/exchange/inbound/{batch.batch_id}/").status_code == 200
    answer = client.get("/api/v1/exchange/received-figures?kind=financing_stats").json()
    assert answer["count"] == ReceivedFigure.objects.filter(kind="financing_stats").count()
    assert {row["source"] for row in answer["results"]} <= {"嘉善县产融合作平台"}
    client.force_login(_user("gov_jiangsu"))
    assert client.get("/api/v1/exchange/inbound").json()["count"] == 0  # another province
    client.force_login(_user("gov_zhejiang"))
    assert client.get("/api/v1/exchange/inbound").json()["count"] == 2
    client.force_login(_user("ent_user"))
    assert client.get("/exchange/received/").status_code == 404
    assert client.get("/api/v1/exchange/received-figures").json()["count"] == 0


def _user(username):
    from chanrong.accounts.models import User

    return User.objects.get(username=username)


def test_the_parents_own_figure_is_shown_beside_the_received_one(client, loopback):
    from chanrong.exchange.services import compare

    parent, _transport = loopback
    outbox.queue_period("2026-10")
    outbox.deliver(parent.pk)
    figure = ReceivedFigure.objects.filter(kind="indicator_actuals").first()
    # Loopback: the parent's own measure of the region is the child's figure.
    assert (
        compare.own_value(figure.kind, figure.key, figure.region_code, figure.period)
        == figure.value
    )
    assert compare.own_value("financing_stats", "demands", JIASHAN, "2026-10") is None
    client.force_login(_user("gov_jiashan"))
    page = client.get("/exchange/received/?kind=indicator_actuals").content.decode()
    assert "本平台数据" in page and figure.label in page


def test_the_parent_pulls_and_the_childs_next_push_learns_it_was_delivered(client, loopback):
    from chanrong.exchange.models import Refusal
    from chanrong.exchange.services import inbox

    parent, transport = loopback
    outbox.queue_period("2026-10")
    child = Peer.objects.get(role=PeerRole.CHILD)
    assert inbox.pull(child, session=transport) == {"accepted": 2, "refused": 0}
    assert InboundBatch.objects.count() == 2
    assert outbox.deliver(parent.pk)["delivered"] == 2  # answered `replayed` with our digest
    assert set(OutboundBatch.objects.values_list("state", flat=True)) == {DeliveryState.DELIVERED}
    answer = client.post("/api/v1/exchange/outbox?after=0")  # no signature
    assert (answer.status_code, answer.json()["code"]) == (403, "unknown_peer")
    assert Refusal.objects.filter(endpoint="outbox").count() == 1
