"""Batches to send: built (one per parent, kind, region and period — or per
report / list version), signed once, stored with their exact bytes, and
POSTed to the parent until it acknowledges them.

Delivery is per parent and in sequence order: a parent refuses a sequence
not above the last it accepted, so the batches to one parent go out oldest
first and a failure stops that parent's run until the next attempt. Waits
after each failed attempt: 1 min, 5 min, 30 min, 2 h, then every 6 h —
"retried until acknowledged", never given up; a refusal (4xx with an error
code) is final and shown in the delivery log, except `replayed` whose answer
carries the stored digest: the parent has the batch already (a lost ack, or
it pulled it), so it counts as delivered.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import timedelta
from typing import Any

import requests
from django.conf import settings
from django.db import IntegrityError, transaction
from django.tasks import task
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.errors import Conflict, NotAllowed, ValidationFailed
from chanrong.core.tasking import enqueue_on_commit, rerunnable

from ..models import BatchKind, DeliveryState, Identity, OutboundBatch, Peer, PeerRole, PeerState
from . import collect, envelope, identity, safeurl

logger = logging.getLogger(__name__)

RETRY_DELAYS = (60, 5 * 60, 30 * 60, 2 * 3600, 6 * 3600)
TIMEOUT = 15
BATCHES_PATH = "/api/v1/exchange/batches"
USER_AGENT = "chanrong-exchange/1"


def retry_delays() -> tuple[int, ...]:
    return tuple(getattr(settings, "CHANRONG_EXCHANGE_RETRY_DELAYS", RETRY_DELAYS))


def delay_after(attempts: int) -> timedelta:
    delays = retry_delays()
    return timedelta(seconds=delays[min(attempts, len(delays)) - 1])


def build_envelope(
    me: Identity, peer: Peer, *, sequence: int, kind: str, region: str, period: str, payload: dict
) -> dict[str, Any]:
    return {
        "format_version": envelope.FORMAT_VERSION,
        "batch_id": str(uuid.uuid4()),
        "sequence": sequence,
        "sender": str(me.deployment_id),
        "recipient": str(peer.deployment_id),
        "created_at": timezone.localtime().isoformat(timespec="seconds"),
        "kind": kind,
        "region": region,
        "period": period,
        "payload": payload,
    }


def create_batch(
    peer: Peer, *, kind: str, period: str, payload: dict, source_ref: str, region: str | None = None
) -> OutboundBatch | None:
    """Sign and store one batch for `peer` (None when this source was sent to
    it already). The sequence is taken under a row lock on the peer."""
    me = identity.ensure()
    region = me.region_code if region is None else region
    key = identity.private_key(me)
    with transaction.atomic():
        locked = Peer.objects.select_for_update().get(pk=peer.pk)
        if OutboundBatch.objects.filter(peer=locked, source_ref=source_ref).exists():
            return None
        document = build_envelope(
            me,
            locked,
            sequence=locked.next_sequence,
            kind=kind,
            region=region,
            period=period,
            payload=payload,
        )
        body = envelope.canonical(envelope.sign(document, key)).decode("utf-8")
        try:
            batch = OutboundBatch.objects.create(
                batch_id=document["batch_id"],
                peer=locked,
                sequence=locked.next_sequence,
                kind=kind,
                region_code=region,
                period=period,
                source_ref=source_ref,
                body=body,
                next_attempt_at=timezone.now(),
            )
        except IntegrityError:
            return None
        locked.next_sequence += 1
        locked.save(update_fields=["next_sequence"])
    return batch


def parents() -> list[Peer]:
    return list(Peer.objects.filter(role=PeerRole.PARENT, state=PeerState.ACTIVE))


def children() -> list[Peer]:
    return list(Peer.objects.filter(role=PeerRole.CHILD, state=PeerState.ACTIVE))


def applies_in(list_region: str, child_region: str) -> bool:
    """Whether a list of `list_region` (empty: nationwide) applies in the
    child's region: the child's region lies in the list's."""
    return not list_region or child_region.startswith(collect.prefix_of(list_region))


def queue_period(period: str, *, kinds=(BatchKind.INDICATOR_ACTUALS, BatchKind.FINANCING_STATS)):
    """The month's aggregates for every parent (idempotent)."""
    me = identity.ensure()
    built = []
    for peer in parents():
        for kind in kinds:
            maker = (
                collect.indicator_actuals
                if kind == BatchKind.INDICATOR_ACTUALS
                else collect.financing_stats
            )
            batch = create_batch(
                peer,
                kind=kind,
                period=period,
                payload=maker(me.region_code, period),
                source_ref=f"{kind}:{period}",
            )
            if batch:
                built.append(batch)
    return built


def queue_reports_and_lists() -> list[OutboundBatch]:
    """Submitted progress reports and published list versions of this
    deployment's region not yet sent to a parent (idempotent)."""
    me = identity.ensure()
    built = queue_lists_for_children(me)
    peers = parents()
    if not peers:
        return built
    for report in collect.submitted_reports(me.region_code):
        for peer in peers:
            batch = create_batch(
                peer,
                kind=BatchKind.PILOT_PROGRESS,
                period=collect.progress_period(report),
                payload=collect.pilot_progress(report),
                source_ref=f"progress:{report.pk}",
                region=report.application.region_id,
            )
            if batch:
                built.append(batch)
    for version in collect.published_versions(me.region_code):
        for peer in peers:
            batch = create_batch(
                peer,
                kind=BatchKind.LIST_VERSION,
                period=collect.list_period(version),
                payload=collect.list_version(version),
                source_ref=f"list_version:{version.pk}",
                region=version.list.region_id or me.region_code,
            )
            if batch:
                built.append(batch)
    return built


def queue_lists_for_children(me: Identity) -> list[OutboundBatch]:
    """This deployment's published list versions down to each child in whose
    region the list applies (a province's 黑名单 in its cities and counties).
    Lists received from elsewhere are not passed on: their source sends them."""
    built = []
    peers = children()
    if not peers:
        return built
    for version in collect.published_versions(me.region_code):
        list_region = version.list.region_id or ""
        for peer in peers:
            if not applies_in(list_region, peer.region_code):
                continue
            batch = create_batch(
                peer,
                kind=BatchKind.LIST_VERSION,
                period=collect.list_period(version),
                payload=collect.list_version(version),
                source_ref=f"list_version:{version.pk}",
                region=list_region or me.region_code,
            )
            if batch:
                built.append(batch)
    return built


def queue_by_hand(actor, *, kind: str, period: str) -> list[OutboundBatch]:
    """The admin's "生成并报送" button: one month's aggregates now."""
    from .peers import may_manage

    if not may_manage(actor):
        raise NotAllowed()
    if kind not in (BatchKind.INDICATOR_ACTUALS, BatchKind.FINANCING_STATS):
        raise ValidationFailed({"kind": _("只能手工生成指标实际值或融资统计")})
    if not collect.PERIOD_MONTH.match(period or ""):
        raise ValidationFailed({"period": _("报告期格式为 YYYY-MM")})
    if not parents():
        raise Conflict(_("尚未注册上级平台"))
    with transaction.atomic():
        built = queue_period(period, kinds=(kind,))
        for batch in built:
            audit.record(
                "exchange.batch_queued", actor=actor, obj=batch, object_repr=str(batch.batch_id)
            )
    for batch in built:
        schedule(batch.peer_id)
    return built


# --- delivery -----------------------------------------------------------------


def schedule(peer_id: int) -> None:
    enqueue_on_commit(deliver_to_peer, peer_id)


def _post(peer: Peer, body: str) -> tuple[int | None, dict, str]:
    url = peer.base_url.rstrip("/") + BATCHES_PATH
    try:
        response = safeurl.post(
            url,
            data=body.encode("utf-8"),
            headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT},
            timeout=TIMEOUT,
        )
    except safeurl.UnsafeURL as exc:
        refuse_destination(peer, url, exc)
        return None, {"code": UNSAFE_ADDRESS}, f"{UNSAFE_ADDRESS}: {exc.reason}"[:500]
    except requests.RequestException as exc:
        return None, {}, f"{type(exc).__name__}: {exc}"[:500]
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    return response.status_code, answer if isinstance(answer, dict) else {}, ""


UNSAFE_ADDRESS = "unsafe_address"


def refuse_destination(peer: Peer, url: str, exc: safeurl.UnsafeURL) -> None:
    """Nothing was sent: the peer's address resolves (now) to an address
    this deployment never sends to. Logged and audited; the batch stays
    queued and is tried again on the usual back-off, so that an operator
    who fixes the address (or the DNS) needs to do nothing else."""
    logger.warning("exchange: refused to send to %s (%s): %s", peer.name, url, exc.reason)
    audit.record(
        "exchange.destination_refused",
        obj=peer,
        object_repr=peer.name,
        changes={"url": url[:200], "reason": exc.reason[:300]},
    )


def due(peer: Peer, now=None):
    now = now or timezone.now()
    return OutboundBatch.objects.filter(
        peer=peer, state__in=[DeliveryState.PENDING, DeliveryState.RETRYING]
    ).order_by("sequence")


def deliver(peer_id: int, *, force: bool = False) -> dict[str, int]:
    """Send this peer's undelivered batches in sequence order until one
    fails; `force` ignores the back-off (the admin's "立即重试"). Up to a
    parent: everything; down to a child: list versions only (a child with
    no address pulls them instead)."""
    counts = {"delivered": 0, "refused": 0, "failed": 0}
    peer = (
        Peer.objects.filter(pk=peer_id, state=PeerState.ACTIVE)
        .exclude(role=PeerRole.CHILD, base_url="")
        .first()
    )
    if peer is None:
        return counts
    now = timezone.now()
    for batch in due(peer):
        if not force and batch.next_attempt_at and batch.next_attempt_at > now:
            break
        outcome = attempt(batch)
        counts[outcome] += 1
        if outcome == "failed":
            break
    return counts


@rerunnable  # the parent refuses a second copy as `replayed` and the sender counts it delivered
@task
def deliver_to_peer(peer_id: int) -> dict:
    """A parent's due batches, in a worker (enqueued after the commit that
    queued them, and by the periodic sweep)."""
    return deliver(peer_id)


def attempt(batch: OutboundBatch) -> str:
    """One POST of one batch; records the outcome on the row."""
    batch.attempts += 1
    status, answer, error = _post(batch.peer, batch.body)
    now = timezone.now()
    code = str(answer.get("code", ""))
    ours = envelope.digest(batch.body.encode("utf-8"))
    if status in (200, 201) or (code == "replayed" and answer.get("digest") == ours):
        batch.state, batch.acknowledged_at, batch.next_attempt_at = (
            DeliveryState.DELIVERED,
            now,
            None,
        )
        batch.last_error, batch.error_code = "", ""
        outcome = "delivered"
    elif status is not None and 400 <= status < 500 and code and status != 429:
        batch.state, batch.next_attempt_at = DeliveryState.REFUSED, None
        batch.error_code, batch.last_error = code[:32], str(answer.get("message", ""))[:500]
        outcome = "refused"
    else:
        batch.state = DeliveryState.RETRYING
        batch.next_attempt_at = now + delay_after(batch.attempts)
        batch.error_code = code[:32]
        batch.last_error = (error or f"HTTP {status}: {answer.get('message', '')}")[:500]
        outcome = "failed"
    batch.save(
        update_fields=[
            "attempts",
            "state",
            "acknowledged_at",
            "next_attempt_at",
            "last_error",
            "error_code",
        ]
    )
    return outcome


def resend(actor, batch: OutboundBatch) -> OutboundBatch:
    """A refused batch cannot be sent again as it is (its sequence is spent or
    its content was refused); the admin re-queues a fresh copy instead."""
    from .peers import may_manage

    if not may_manage(actor):
        raise NotAllowed()
    if batch.state != DeliveryState.REFUSED:
        raise Conflict(_("只有被拒收的批次可以重新生成"))
    payload = json.loads(batch.body)["payload"]
    with transaction.atomic():
        OutboundBatch.objects.filter(pk=batch.pk).update(
            source_ref=f"{batch.source_ref}#{batch.pk}"[:64]
        )
        fresh = create_batch(
            batch.peer,
            kind=batch.kind,
            period=batch.period,
            payload=payload,
            source_ref=batch.source_ref,
            region=batch.region_code,
        )
        audit.record(
            "exchange.batch_requeued", actor=actor, obj=fresh, changes={"from": str(batch.batch_id)}
        )
    schedule(batch.peer_id)
    return fresh


# --- being pulled from ------------------------------------------------------------


def pull_message(method: str, path: str, timestamp: str) -> bytes:
    return f"{method}\n{path}\n{timestamp}".encode()


def outbox_for(peer: Peer, after: int, limit: int = 50) -> list[dict[str, Any]]:
    """Batches for `peer` above sequence `after`, as their signed envelopes."""
    rows = OutboundBatch.objects.filter(peer=peer, sequence__gt=after).order_by("sequence")[:limit]
    return [json.loads(row.body) for row in rows]
