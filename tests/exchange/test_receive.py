"""Receiving a child's batches on the parent: accepted with an ack and its
figures stored per source; every kind of bad batch refused with its code,
logged (a Refusal row and an audit entry) and nothing else stored."""

from __future__ import annotations

import copy

import pytest

from chanrong.core.models import AuditEntry
from chanrong.exchange.models import InboundBatch, Peer, PeerState, ReceivedFigure, Refusal
from chanrong.exchange.services import envelope

from .conftest import JIASHAN, Child, post

URL = "/api/v1/exchange/batches"
pytestmark = pytest.mark.django_db


def test_a_signed_batch_is_accepted_acknowledged_and_its_figures_kept_per_source(client, child):
    document = child.batch()
    body = child.body(document)
    response, answer = post(client, URL, body)
    assert response.status_code == 201, answer
    assert answer["status"] == "accepted"
    assert answer["digest"] == envelope.digest(body)
    batch = InboundBatch.objects.get()
    assert (batch.sequence, batch.kind, batch.region_code) == (1, "financing_stats", JIASHAN)
    figures = {f.key: f.value for f in ReceivedFigure.objects.filter(batch=batch)}
    assert figures["demands"] == 3
    assert figures["financing_amount"] == 2800000
    assert Peer.objects.get(deployment_id=child.deployment_id).last_sequence == 1
    assert AuditEntry.objects.filter(action="exchange.batch_received").count() == 1


def _tamper(document: dict) -> dict:
    changed = copy.deepcopy(document)
    changed["payload"]["rows"][0]["financing_amount"] = "9999999.00"
    return changed


def _other_key(child: Child, document: dict) -> dict:
    return envelope.sign(document, envelope.new_private_key())


CASES = {
    "unsigned": (lambda c: c.batch(sign=False), 401),
    "bad_signature": (lambda c: _other_key(c, c.batch()), 401),
    "tampered": (lambda c: _tamper(c.batch()), 401),
    "unknown_peer": (lambda c: c.batch(sender="1b4e28ba-2fa1-11d2-883f-0016d3cca427"), 403),
    "unsupported_version": (lambda c: c.batch(format_version=2), 422),
    "region_out_of_scope": (lambda c: c.batch(region="330100"), 403),
    "wrong_recipient": (lambda c: c.batch(recipient="1b4e28ba-2fa1-11d2-883f-0016d3cca427"), 403),
    "malformed": (lambda c: c.batch(period="October"), 400),
}


@pytest.mark.parametrize("code", sorted(CASES))
def test_bad_batches_are_refused_logged_and_leave_nothing(client, child, code):
    make, status = CASES[code]
    response, answer = post(client, URL, child.body(make(child)))
    assert (response.status_code, answer["code"]) == (status, code), answer
    assert InboundBatch.objects.count() == 0
    assert ReceivedFigure.objects.count() == 0
    assert list(Refusal.objects.values_list("code", flat=True)) == [code]
    assert AuditEntry.objects.filter(action="exchange.refused").count() == 1


def test_a_row_outside_the_childs_region_refuses_the_whole_batch(client, child):
    document = child.batch()
    document["payload"]["rows"].append({**document["payload"]["rows"][0], "region": "320500"})
    response, answer = post(client, URL, child.body(envelope.sign(document, child.key)))
    assert (response.status_code, answer["code"]) == (403, "region_out_of_scope")
    assert ReceivedFigure.objects.count() == 0


def test_a_replay_is_refused_with_the_stored_digest_and_an_old_sequence_too(client, child):
    body = child.body(child.batch())
    assert post(client, URL, body)[0].status_code == 201
    response, answer = post(client, URL, body)
    assert (response.status_code, answer["code"]) == (409, "replayed")
    assert answer["digest"] == envelope.digest(
        body
    )  # a sender whose ack was lost learns it arrived
    child.sequence = 0  # a new batch id with a spent sequence number
    response, answer = post(client, URL, child.body(child.batch()))
    assert (response.status_code, answer["code"]) == (409, "stale_sequence")
    assert InboundBatch.objects.count() == 1
    assert sorted(Refusal.objects.values_list("code", flat=True)) == ["replayed", "stale_sequence"]


def test_floats_and_non_json_are_malformed_and_a_suspended_child_is_unknown(client, child):
    body = child.body(child.batch()).replace(b'"demands":3', b'"demands":3.0')
    assert post(client, URL, body)[1]["code"] == "malformed"
    assert post(client, URL, b"\xff not json")[1]["code"] == "malformed"
    Peer.objects.filter(deployment_id=child.deployment_id).update(state=PeerState.SUSPENDED)
    assert post(client, URL, child.body(child.batch()))[1]["code"] == "unknown_peer"
    assert InboundBatch.objects.count() == 0


def test_canonical_encoding_is_sorted_compact_utf8_and_refuses_floats():
    assert envelope.canonical({"b": 1, "a": ["嘉善", None, True]}) == (
        '{"a":["嘉善",null,true],"b":1}'.encode()
    )
    with pytest.raises(envelope.Refused):
        envelope.canonical({"x": 1.5})
