"""The hash-chained audit log: append and verify.

Appends are serialised (a PostgreSQL advisory lock; SQLite's single writer
with BEGIN IMMEDIATE) so that two concurrent writers cannot both chain onto
the same previous row.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from .context import current_ip
from .models import AuditEntry

GENESIS = "0" * 64
_ADVISORY_LOCK_KEY = 0x6368616E726F6E67  # "chanrong"


def _normalise(value: Any) -> Any:
    """What the JSON column will give back, so the hash is computed on that."""
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def compute_hash(entry: AuditEntry) -> str:
    payload = {
        "seq": entry.seq,
        "created_at": _timestamp(entry.created_at),
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "organisation": entry.organisation,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": str(entry.object_id),
        "object_repr": entry.object_repr,
        "changes": entry.changes,
        "ip": entry.ip,
        "prev_hash": entry.prev_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])


def describe_actor(actor) -> tuple[int | None, str, str]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None, "", ""
    organisation = actor.organisation_label() if hasattr(actor, "organisation_label") else ""
    return actor.pk, actor.get_username(), organisation


def record(
    action: str,
    *,
    actor=None,
    obj=None,
    object_type: str = "",
    object_id: Any = "",
    object_repr: str = "",
    changes: dict | None = None,
    ip: str | None = None,
) -> AuditEntry:
    """Append one entry. Call it inside the transaction that makes the change,
    so the change and its record commit (or roll back) together."""
    actor_id, actor_name, organisation = describe_actor(actor)
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        object_repr = object_repr or str(obj)[:200]
    with transaction.atomic():
        _lock()
        last = AuditEntry.objects.order_by("-seq").only("seq", "hash").first()
        entry = AuditEntry(
            seq=(last.seq + 1) if last else 1,
            created_at=timezone.now(),
            actor_id=actor_id,
            actor_name=actor_name,
            organisation=organisation,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            object_repr=object_repr[:200],
            changes=_normalise(changes or {}),
            ip=ip if ip is not None else current_ip.get(),
            prev_hash=last.hash if last else GENESIS,
        )
        entry.hash = compute_hash(entry)
        entry.save(force_insert=True)
    return entry


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields that changed."""
    return {
        key: [before.get(key), after.get(key)]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str = ""


def verify(batch_size: int = 5000) -> VerifyResult:
    """Walk the chain in order; report the first row whose hash or link is wrong."""
    expected_prev = GENESIS
    expected_seq = 1
    checked = 0
    qs = AuditEntry.objects.order_by("seq")
    for entry in qs.iterator(chunk_size=batch_size):
        if entry.seq != expected_seq:
            return VerifyResult(False, checked, entry.seq, f"序号不连续：期望 {expected_seq}")
        if entry.prev_hash != expected_prev:
            return VerifyResult(False, checked, entry.seq, "与上一条记录的哈希不衔接")
        if compute_hash(entry) != entry.hash:
            return VerifyResult(False, checked, entry.seq, "记录内容与其哈希不符（已被修改）")
        expected_prev = entry.hash
        expected_seq += 1
        checked += 1
    return VerifyResult(True, checked)
