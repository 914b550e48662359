"""SSRF guard on peer addresses (issue 19): loopback (unless allowed),
link-local incl. cloud metadata, unspecified, multicast and non-http(s)
addresses are refused at registration (a field error, nothing stored) and
again at every connection (a logged, audited refusal; nothing sent) —
resolving the name at connection time and checking every address, so that
a name that changes its answer after registration (DNS rebinding) gets
nowhere. Private RFC 1918 addresses (电子政务外网) stay allowed; redirects
are not followed."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from chanrong.core.errors import ValidationFailed
from chanrong.core.models import AuditEntry
from chanrong.exchange.models import DeliveryState, OutboundBatch, Peer, PeerRole, RegistrationCode
from chanrong.exchange.services import envelope, identity, inbox, outbox, peers, safeurl

from .conftest import JIASHAN, post

pytestmark = pytest.mark.django_db

REFUSED = [
    "127.0.0.1",
    "127.8.9.10",
    "::1",
    "169.254.169.254",
    "169.254.0.1",
    "fe80::1",
    "0.0.0.0",
    "0.1.2.3",
    "::",
    "224.0.0.1",
    "239.255.255.250",
    "ff02::1",
    "255.255.255.255",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
]
ALLOWED = ["10.1.2.3", "172.16.0.9", "192.168.1.20", "100.64.0.1", "fd00::5", "59.255.1.2"]


@pytest.mark.parametrize("address", REFUSED)
def test_refused_addresses(address):
    assert safeurl.blocked(address)


@pytest.mark.parametrize("address", ALLOWED)
def test_private_and_public_addresses_are_allowed(address):
    assert safeurl.blocked(address) is None


def test_loopback_only_by_the_explicit_setting(settings):
    settings.CHANRONG_EXCHANGE_ALLOW_LOOPBACK = True
    assert safeurl.blocked("127.0.0.1") is None
    assert safeurl.blocked("::1") is None
    assert safeurl.blocked("169.254.169.254")  # metadata never


@pytest.mark.parametrize(
    "url",
    [
        "ftp://10.0.0.1/",
        "file:///etc/passwd",
        "gopher://10.0.0.1:70/",
        "http://user:secret@10.0.0.1/",
        "http:///nohost",
        "http://10.0.0.1:99999/",
    ],
)
def test_only_plain_http_and_https_urls(url):
    with pytest.raises(safeurl.UnsafeURL):
        safeurl.split(url)


def _resolver(*answers):
    """getaddrinfo answering each call with the next list of addresses."""
    calls = []

    def getaddrinfo(host, port, *args, **kwargs):
        addresses = answers[min(len(calls), len(answers) - 1)]
        calls.append(host)
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (a, port, 0, 0) if ":" in a else (a, port),
            )
            for a in addresses
        ]

    getaddrinfo.calls = calls
    return getaddrinfo


@pytest.fixture
def child_side(world):
    return identity.ensure(name="嘉善县产融合作平台", region_code=JIASHAN)


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254",
        "http://127.0.0.1:8000",
        "http://[::1]:8000",
        "http://0.0.0.0",
        "ftp://10.0.0.1",
    ],
)
def test_registration_refuses_the_parent_url_with_a_field_error(world, child_side, url):
    with pytest.raises(ValidationFailed) as caught:
        peers.register_with_parent(world.user("admin"), parent_url=url, code="AAAA-BBBB")
    assert [e.field for e in caught.value.errors] == ["parent_url"]
    assert not Peer.objects.exists()


def test_a_name_resolving_to_any_refused_address_is_refused(world, child_side, monkeypatch):
    monkeypatch.setattr(safeurl.socket, "getaddrinfo", _resolver(["10.0.0.5", "169.254.169.254"]))
    with pytest.raises(ValidationFailed) as caught:
        peers.register_with_parent(
            world.user("admin"), parent_url="https://jiaxing.zwww.example", code="AAAA-BBBB"
        )
    assert "169.254.169.254" in caught.value.errors[0].message
    assert not Peer.objects.exists()


def test_the_registration_page_shows_the_field_error(client, world, child_side):
    client.force_login(world.user("admin"))
    response = client.post(
        "/exchange/register/", {"parent_url": "http://169.254.169.254", "code": "AAAA-BBBB"}
    )
    assert response.status_code in (200, 422)
    assert "不能向该地址发送数据" in response.content.decode()
    assert not Peer.objects.exists()


def test_a_child_registering_a_refused_base_url_is_refused(client, world):
    identity.ensure(name="嘉兴市产融合作平台", region_code="330400")
    _row, code = peers.issue_code(world.user("admin"), region_code=JIASHAN)
    key = envelope.new_private_key()
    document = {
        "format_version": 1,
        "code": code,
        "nonce": "n1",
        "deployment_id": "6f1c1d2e-8c55-4c1e-9d7b-0a1b2c3d4e5f",
        "name": "嘉善县产融合作平台",
        "region": JIASHAN,
        "base_url": "http://169.254.169.254/latest/meta-data",
        "public_key": envelope.public_text(key),
    }
    signed = {**document, "signature": envelope.sign_bytes(envelope.canonical(document), key)}
    response, answer = post(client, "/api/v1/exchange/register", json.dumps(signed).encode())
    assert (response.status_code, answer["code"]) == (422, "unsafe_url")
    assert not Peer.objects.exists()
    assert RegistrationCode.objects.get().used_at is None  # the code is not spent


@pytest.fixture
def parent_peer(child_side):
    return Peer.objects.create(
        role=PeerRole.PARENT,
        deployment_id="6f1c1d2e-8c55-4c1e-9d7b-0a1b2c3d4e5f",
        name="嘉兴市产融合作平台",
        region_code="330400",
        base_url="https://jiaxing.zwww.example",
        public_key=envelope.public_text(envelope.new_private_key()),
    )


def test_dns_rebinding_after_registration_is_refused_at_send_time(parent_peer, monkeypatch):
    """The name answered a private address when registered; at send time it
    answers the metadata address: nothing is sent, the refusal is logged and
    audited, the batch stays queued for the next attempt."""
    resolver = _resolver(["10.0.0.5"], ["169.254.169.254"])
    monkeypatch.setattr(safeurl.socket, "getaddrinfo", resolver)
    safeurl.check(parent_peer.base_url)  # registration time: allowed
    connects = []
    monkeypatch.setattr(
        safeurl.socket, "socket", lambda *a, **k: connects.append(a) or pytest.fail("connected")
    )
    outbox.queue_period("2026-10", kinds=("financing_stats",))
    assert outbox.deliver(parent_peer.pk) == {"delivered": 0, "refused": 0, "failed": 1}
    batch = OutboundBatch.objects.get()
    assert batch.state == DeliveryState.RETRYING
    assert batch.error_code == "unsafe_address"
    assert "169.254.169.254" in batch.last_error
    assert connects == []
    assert len(resolver.calls) == 2  # resolved again at send time
    entry = AuditEntry.objects.get(action="exchange.destination_refused")
    assert "169.254.169.254" in json.dumps(entry.changes, ensure_ascii=False)


def test_a_pull_from_a_refused_address_is_refused_and_logged(child_side, monkeypatch):
    child = Peer.objects.create(
        role=PeerRole.CHILD,
        deployment_id="7f1c1d2e-8c55-4c1e-9d7b-0a1b2c3d4e5f",
        name="西塘镇平台",
        region_code=JIASHAN,
        base_url="http://xitang.example",
        public_key=envelope.public_text(envelope.new_private_key()),
    )
    monkeypatch.setattr(safeurl.socket, "getaddrinfo", _resolver(["127.0.0.1"]))
    with pytest.raises(safeurl.UnsafeURL):
        inbox.pull(child)
    assert AuditEntry.objects.filter(action="exchange.destination_refused").count() == 1


class _Redirect(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's name
        self.send_response(307)
        self.send_header("Location", "http://169.254.169.254/latest/meta-data")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_redirects_are_not_followed(settings):
    settings.CHANRONG_EXCHANGE_ALLOW_LOOPBACK = True
    server = HTTPServer(("127.0.0.1", 0), _Redirect)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        response = safeurl.post(f"http://127.0.0.1:{server.server_port}/x", data=b"{}", timeout=5)
        assert response.status_code == 307  # the answer, not a new destination
    finally:
        server.shutdown()
        server.server_close()


def test_loopback_is_refused_by_default_at_connection_time(settings):
    settings.CHANRONG_EXCHANGE_ALLOW_LOOPBACK = False
    with pytest.raises(safeurl.UnsafeURL):
        safeurl.post("http://127.0.0.1:9/x", data=b"{}", timeout=5)
