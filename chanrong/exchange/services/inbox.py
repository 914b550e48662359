"""Receiving batches from children. Every check happens before anything is
written; a refused batch leaves one Refusal row (and an audit entry) and
nothing else. The checks, in order, each with its error code:

    too_large / malformed     not a JSON object of the format
    unsupported_version       format_version newer than this deployment's
    wrong_recipient           addressed to another deployment
    unknown_peer              sender not registered here as an active child
    unsigned / bad_signature  no signature / not the pinned key's
    tampered                  the pinned key's signature does not match
    replayed                  this batch_id was accepted before (the answer
                              carries the stored digest, so a sender whose
                              ack was lost learns that it was delivered)
    stale_sequence            sequence not above the last accepted
    region_out_of_scope       region (or a row's region) outside the child's
    invalid_payload           the payload does not match its kind

Accepted: the batch, its figures (numeric kinds) in one transaction, and
the peer's last sequence moved on under a row lock.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from chanrong.core import audit
from chanrong.registry.services.list_receiving import ReceivedListInvalid, receive_list_version

from ..models import BatchKind, InboundBatch, Peer, PeerRole, PeerState, ReceivedFigure, Refusal
from . import collect, envelope, identity, outbox, safeurl
from .envelope import Refused
from .peers import region_allowed

logger = logging.getLogger(__name__)

TIMESTAMP_TOLERANCE = 300  # seconds, for signed pull requests


def receive(body: bytes, *, remote_addr: str = "") -> dict[str, Any]:
    """Accept one batch or raise Refused (after logging the refusal)."""
    context: dict[str, Any] = {"peer": None, "sender": "", "batch_id": ""}
    try:
        return _receive(body, context)
    except Refused as refusal:
        log_refusal(refusal, endpoint="batches", body=body, remote_addr=remote_addr, **context)
        raise


def _receive(body: bytes, context: dict[str, Any]) -> dict[str, Any]:
    document = envelope.parse(body)
    context["sender"] = str(document.get("sender", ""))[:64]
    context["batch_id"] = str(document.get("batch_id", ""))[:64]
    head = envelope.header(document)
    me = identity.ensure()
    if head.recipient != str(me.deployment_id):
        raise Refused("wrong_recipient", "this batch is addressed to another deployment", 403)
    peer = _sender(head.sender, head.kind)
    context["peer"] = peer
    envelope.verify(document, peer.public_key)
    stored = InboundBatch.objects.filter(batch_id=head.batch_id).first()
    if stored is not None:
        raise _replayed(stored)
    if not _region_allowed(peer, head.region):
        raise Refused(
            "region_out_of_scope",
            f"{peer.name} may report for {peer.region_code} and below, not {head.region}",
            403,
        )
    figures = _figures(head, document["payload"], peer)
    signed = envelope.canonical(document)
    with transaction.atomic():
        locked = Peer.objects.select_for_update().get(pk=peer.pk)
        if head.sequence <= locked.last_sequence:
            raise Refused(
                "stale_sequence",
                f"sequence {head.sequence} is not above the last accepted ({locked.last_sequence})",
                409,
            )
        try:
            with transaction.atomic():
                batch = InboundBatch.objects.create(
                    batch_id=head.batch_id,
                    peer=locked,
                    sequence=head.sequence,
                    format_version=head.format_version,
                    kind=head.kind,
                    region_code=head.region,
                    period=head.period,
                    sent_at=head.created_at,
                    digest=envelope.digest(signed),
                    body=signed.decode("utf-8"),
                    payload=document["payload"],
                )
        except IntegrityError:
            stored = InboundBatch.objects.filter(batch_id=head.batch_id).first()
            if stored is not None:
                raise _replayed(stored) from None
            raise
        if head.kind == BatchKind.LIST_VERSION:
            _materialise_list(batch, locked, document["payload"])
        ReceivedFigure.objects.bulk_create(
            ReceivedFigure(batch=batch, peer=locked, kind=head.kind, period=head.period, **figure)
            for figure in figures
        )
        locked.last_sequence = head.sequence
        locked.save(update_fields=["last_sequence"])
        audit.record(
            "exchange.batch_received",
            obj=batch,
            object_repr=f"{locked.name} {head.kind} {head.period}",
            changes={"sequence": head.sequence, "figures": len(figures)},
        )
    return ack(batch)


def ack(batch: InboundBatch) -> dict[str, Any]:
    return {
        "status": "accepted",
        "batch_id": str(batch.batch_id),
        "sequence": batch.sequence,
        "digest": batch.digest,
        "received_at": timezone.localtime(batch.received_at).isoformat(timespec="seconds"),
    }


def _replayed(stored: InboundBatch) -> Refused:
    refusal = Refused(
        "replayed",
        f"batch {stored.batch_id} was accepted already (sequence {stored.sequence})",
        409,
    )
    refusal.digest = stored.digest  # type: ignore[attr-defined]
    return refusal


def _sender(sender: str, kind: str) -> Peer:
    """A registered child sends any kind; the registered parent sends its
    published list versions down (issue 19 part 2: a province's 黑名单
    applies in its counties) and nothing else."""
    peers = Peer.objects.filter(deployment_id=_uuid_or_none(sender), state=PeerState.ACTIVE)
    peer = peers.filter(role=PeerRole.CHILD).first()
    if peer is None and kind == BatchKind.LIST_VERSION:
        peer = peers.filter(role=PeerRole.PARENT).first()
    if peer is None:
        raise Refused(
            "unknown_peer", "the sender is not a registered child of this deployment", 403
        )
    return peer


def _region_allowed(peer: Peer, region: str) -> bool:
    """A child reports for its own subtree; a parent's lists are for its
    subtree too (the ministry's, with no region, for any)."""
    if peer.role == PeerRole.PARENT and not peer.region_code:
        return True
    return region_allowed(peer, region)


def _materialise_list(batch: InboundBatch, peer: Peer, payload: dict) -> None:
    """The received version becomes a list version of the registry (inside
    the batch's transaction: a payload the registry cannot take refuses the
    batch and stores nothing)."""
    try:
        receive_list_version(
            deployment_id=str(peer.deployment_id),
            deployment_name=peer.name,
            batch_id=str(batch.batch_id),
            payload=payload,
        )
    except ReceivedListInvalid as exc:
        raise Refused("invalid_payload", str(exc), 422) from None


def _uuid_or_none(text: str):
    import uuid

    try:
        return uuid.UUID(text)
    except ValueError:
        return None


# --- payloads -------------------------------------------------------------------------


def _decimal(value: Any, where: str) -> Decimal:
    if not isinstance(value, str):
        raise Refused("invalid_payload", f"{where}: a decimal string is required", 422)
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise Refused("invalid_payload", f"{where}: not a decimal", 422) from None
    if not number.is_finite() or abs(number) >= Decimal(10) ** 19:
        raise Refused("invalid_payload", f"{where}: out of range", 422)
    return number


def _count(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise Refused("invalid_payload", f"{where}: a non-negative integer is required", 422)
    return value


def _text(value: Any, where: str, limit: int, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value) or len(value) > limit:
        raise Refused("invalid_payload", f"{where}: text of 1–{limit} characters required", 422)
    return value


def _list(payload: dict, key: str) -> list:
    items = payload.get(key)
    if not isinstance(items, list):
        raise Refused("invalid_payload", f"payload.{key} must be an array", 422)
    return items


def _figures(head, payload: dict, peer: Peer) -> list[dict[str, Any]]:
    """The payload checked for its kind; the figures to store (numeric kinds)."""
    if head.kind == "indicator_actuals":
        rows = []
        for i, item in enumerate(_list(payload, "figures")):
            where = f"payload.figures[{i}]"
            if not isinstance(item, dict):
                raise Refused("invalid_payload", f"{where} must be an object", 422)
            rows.append(
                {
                    "region_code": head.region,
                    "key": _text(item.get("key"), f"{where}.key", 64),
                    "label": _text(item.get("label"), f"{where}.label", 100),
                    "unit": _text(item.get("unit", ""), f"{where}.unit", 16, required=False),
                    "value": _decimal(item.get("value"), f"{where}.value"),
                }
            )
        return rows
    if head.kind == "financing_stats":
        totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for i, item in enumerate(_list(payload, "rows")):
            where = f"payload.rows[{i}]"
            if not isinstance(item, dict):
                raise Refused("invalid_payload", f"{where} must be an object", 422)
            region = _text(item.get("region"), f"{where}.region", 6)
            if not envelope.REGION_RE.match(region) or not region_allowed(peer, region):
                raise Refused(
                    "region_out_of_scope",
                    f"{where}.region {region} is outside {peer.region_code}",
                    403,
                )
            for key in collect.STAT_KEYS:
                raw = item.get(key)
                value = (
                    _decimal(raw, f"{where}.{key}")
                    if key.endswith("amount")
                    else _count(raw, f"{where}.{key}")
                )
                totals[(region, key)] += Decimal(value)
        return [
            {
                "region_code": region,
                "key": key,
                "label": collect.STAT_KEYS[key][0],
                "unit": collect.STAT_KEYS[key][1],
                "value": value,
            }
            for (region, key), value in sorted(totals.items())
        ]
    if head.kind == "pilot_progress":
        _text(payload.get("summary"), "payload.summary", 20000)
        _count(payload.get("year"), "payload.year")
        return []
    # list_version
    if not isinstance(payload.get("list"), dict) or not isinstance(payload.get("version"), dict):
        raise Refused("invalid_payload", "payload.list and payload.version must be objects", 422)
    for i, item in enumerate(_list(payload, "entries")):
        if not isinstance(item, dict):
            raise Refused("invalid_payload", f"payload.entries[{i}] must be an object", 422)
        _text(item.get("uscc"), f"payload.entries[{i}].uscc", 18)
        _text(item.get("name"), f"payload.entries[{i}].name", 100)
    return []


# --- refusals --------------------------------------------------------------------------


def log_refusal(
    refusal: Refused,
    *,
    endpoint: str,
    body: bytes = b"",
    remote_addr: str = "",
    peer: Peer | None = None,
    sender: str = "",
    batch_id: str = "",
) -> Refusal:
    """The refusal row and its audit entry, in a transaction of their own
    (the caller's work, if any, has been rolled back)."""
    with transaction.atomic():
        row = Refusal.objects.create(
            peer=peer,
            claimed_sender=sender[:64],
            batch_id=batch_id[:64],
            endpoint=endpoint,
            code=refusal.code,
            message=refusal.message[:500],
            remote_addr=remote_addr[:64],
            digest=envelope.digest(body) if body else "",
            size=len(body),
        )
        audit.record(
            "exchange.refused",
            obj=row,
            object_repr=refusal.code,
            ip=remote_addr or None,
            changes={"code": refusal.code, "sender": sender[:64], "batch_id": batch_id[:64]},
        )
    return row


# --- pulling from a child ------------------------------------------------------------------


def check_pull(deployment: str, timestamp: str, signature: str, path: str) -> Peer:
    """Serving side of a pull: the request is signed by a registered parent
    (pulling its child's reports) or child (pulling its parent's list
    versions; a parent queues nothing else for a child)."""
    peers = Peer.objects.filter(deployment_id=_uuid_or_none(deployment), state=PeerState.ACTIVE)
    # A parent first (a deployment registered as both, on loopback, is pulled
    # from as before).
    peer = peers.filter(role=PeerRole.PARENT).first() or peers.filter(role=PeerRole.CHILD).first()
    if peer is None:
        raise Refused("unknown_peer", "the caller is not a registered peer of this deployment", 403)
    if not signature:
        raise Refused("unsigned", "the request carries no signature", 401)
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        raise Refused("malformed", "X-Chanrong-Timestamp must be Unix seconds") from None
    if abs(timezone.now().timestamp() - sent) > TIMESTAMP_TOLERANCE:
        raise Refused("stale_request", "the request's timestamp is too old or in the future", 401)
    if not envelope.verify_bytes(
        outbox.pull_message("POST", path, timestamp), signature, peer.public_key
    ):
        raise Refused("bad_signature", "the request's signature does not verify", 401)
    return peer


def pull(peer: Peer, *, session=None) -> dict[str, int]:
    """Fetch the peer's batches for us above the last accepted sequence and
    receive each as if it had been pushed (a parent pulls from a child, a
    child pulls its parent's list versions). The peer's address is checked
    at connection time (safeurl): a refused address raises UnsafeURL, logged."""

    me = identity.ensure()
    path = f"/api/v1/exchange/outbox?after={peer.last_sequence}"
    timestamp = str(int(timezone.now().timestamp()))
    signature = envelope.sign_bytes(
        outbox.pull_message("POST", path, timestamp), identity.private_key(me)
    )
    url = peer.base_url.rstrip("/") + path
    http = session or safeurl.session()
    try:
        safeurl.split(url)
        response = http.post(
            url,
            headers={
                "X-Chanrong-Deployment": str(me.deployment_id),
                "X-Chanrong-Timestamp": timestamp,
                "X-Chanrong-Signature": signature,
            },
            timeout=outbox.TIMEOUT,
            allow_redirects=False,
        )
    except safeurl.UnsafeURL as exc:
        outbox.refuse_destination(peer, url, exc)
        raise
    response.raise_for_status()
    counts = {"accepted": 0, "refused": 0}
    for document in response.json().get("batches", []):
        try:
            receive(json.dumps(document, ensure_ascii=False).encode("utf-8"))
            counts["accepted"] += 1
        except Refused:
            counts["refused"] += 1
    return counts
