"""The hash-chained audit log: append, seal and verify.

Appending and chaining are two steps, so that audited writes never queue
behind one another:

1. `record()` / `record_many()` INSERT the entry inside the caller's
   transaction. On PostgreSQL they first *try* the chain's advisory lock
   (`pg_try_advisory_xact_lock`, never waiting): if it is free, the entry is
   sealed at once (sequence number, previous hash, own hash) and the lock is
   held until the caller's transaction ends, as before; if another
   transaction holds it, the entry is written *unsealed* (seq, prev_hash and
   hash NULL) and the caller goes on without waiting.
2. `seal()` chains the committed unsealed entries, in id order, onto the
   end of the chain, in its own short transaction under the same lock. It
   runs right after every audited transaction commits
   (`transaction.on_commit`), from `chanrong audit verify`, and every
   minute from `chanrong tick` (`core.tasks.seal_audit_log`) as a safety net.

Whoever holds the lock re-checks for unsealed entries once it has let go,
so an entry whose own `seal()` found the lock taken is sealed by the holder
right after. Chain order is `seq` (the order of sealing), not `id`. SQLite
has a single writer (BEGIN IMMEDIATE) and always seals at once.

Until it is sealed, an entry is plain content: the chain cannot protect
what it does not yet cover. `verify()` reports entries left unsealed for
longer than `UNSEALED_GRACE`.

A chain cannot show that its newest rows were removed (nothing after them
points back), nor that someone with the database rewrote it from some row
on and hashed it all again. Anchors can: `write_anchor()` appends the
chain's end (seq, hash, time) to a file outside the database every ten
minutes (`core.tasks.anchor_audit_log`) and logs it; `verify(anchors=…)`
checks that every anchored row still carries the anchored hash and that the
chain still reaches the latest anchor. They protect as far as the file, or
a copy of it, is out of the reach of whoever could edit the database.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .context import current_ip
from .models import AuditEntry

logger = logging.getLogger(__name__)

GENESIS = "0" * 64
_ADVISORY_LOCK_KEY = 0x6368616E726F6E67  # "chanrong"
#: Entries unsealed for longer than this are reported by `verify()`.
UNSEALED_GRACE = timedelta(minutes=5)
#: Rows chained per sealing transaction.
SEAL_BATCH = 2000
#: Sealing passes one `seal()` call makes at most (each re-checks after commit).
SEAL_ROUNDS = 20


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


def _try_lock() -> bool:
    """Take the chain's lock for the current transaction if nobody holds it.
    Never waits. SQLite (and any other single-writer backend) needs none."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])
        return bool(cursor.fetchone()[0])


def describe_actor(actor) -> tuple[int | None, str, str]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None, "", ""
    organisation = actor.organisation_label() if hasattr(actor, "organisation_label") else ""
    return actor.pk, actor.get_username(), organisation


def entry(
    action: str,
    *,
    actor=None,
    obj=None,
    object_type: str = "",
    object_id: Any = "",
    object_repr: str = "",
    changes: dict | None = None,
    ip: str | None = None,
    actor_info: tuple[int | None, str, str] | None = None,
) -> AuditEntry:
    """An unsaved, unsealed entry, for `record_many`. `actor_info` (from
    `describe_actor`) saves describing the same actor once per entry."""
    actor_id, actor_name, organisation = actor_info or describe_actor(actor)
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        object_repr = object_repr or str(obj)[:200]
    return AuditEntry(
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
    )


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
    so the change and its record commit (or roll back) together. The entry
    is sealed at once when the chain is free, else right after the commit
    (its `seq` is None until then)."""
    new = entry(
        action,
        actor=actor,
        obj=obj,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr,
        changes=changes,
        ip=ip,
    )
    return record_many([new])[0]


def record_many(entries: Iterable[AuditEntry]) -> list[AuditEntry]:
    """Append several entries (made by `entry()`) in one INSERT, in order."""
    entries = list(entries)
    if not entries:
        return entries
    # No savepoint of its own: a failed audit write must fail the caller's
    # whole transaction anyway. Outside one, this opens a transaction.
    with transaction.atomic(savepoint=False):
        if _try_lock():
            last_seq, last_hash, _sealed = _seal_pending()
            for item in entries:
                last_seq += 1
                item.seq = last_seq
                item.prev_hash = last_hash
                item.hash = last_hash = compute_hash(item)
        else:
            for item in entries:
                item.seq = item.prev_hash = item.hash = None
        AuditEntry.objects.bulk_create(entries)
        if connection.vendor == "postgresql":
            # Holder or not: look for entries to chain once this commits.
            _seal_on_commit()
    return entries


def _chain_end() -> tuple[int, str, bool]:
    """(seq, hash) of the chain's last entry, and whether unsealed entries
    are visible, in one query. Run it after taking the lock, in a statement
    of its own, so that its snapshot includes the previous holder's commit."""
    table = connection.ops.quote_name(AuditEntry._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT last.seq, last.hash, "  # noqa: S608 - no user input in this SQL
            f"EXISTS (SELECT 1 FROM {table} WHERE seq IS NULL) FROM (SELECT 1) AS one "
            f"LEFT JOIN (SELECT seq, hash FROM {table} WHERE seq IS NOT NULL "
            f"ORDER BY seq DESC LIMIT 1) AS last ON 1 = 1"
        )
        seq, hash_, has_pending = cursor.fetchone()
    if seq is None:
        return 0, GENESIS, bool(has_pending)
    return seq, hash_, bool(has_pending)


def _seal_pending() -> tuple[int, str, int]:
    """With the lock held: chain every unsealed entry this transaction can
    see, in id order. Returns the chain's end (seq, hash) and how many
    entries were sealed."""
    last_seq, last_hash, has_pending = _chain_end()
    sealed = 0
    while has_pending:
        pending = list(AuditEntry.objects.filter(seq__isnull=True).order_by("id")[:SEAL_BATCH])
        for item in pending:
            last_seq += 1
            item.seq = last_seq
            item.prev_hash = last_hash
            item.hash = last_hash = compute_hash(item)
        AuditEntry.objects.bulk_update(pending, ["seq", "prev_hash", "hash"], batch_size=200)
        sealed += len(pending)
        has_pending = len(pending) == SEAL_BATCH
    return last_seq, last_hash, sealed


def seal() -> int:
    """Chain the committed unsealed entries; returns how many were sealed.

    Never waits for the lock: when another transaction holds it, that
    transaction seals what is left once it commits. Outside a transaction
    each pass commits at once and then looks again, so that entries
    committed while this pass held the lock are not left behind."""
    sealed = 0
    for _round in range(SEAL_ROUNDS):
        if not AuditEntry.objects.filter(seq__isnull=True).exists():
            break
        with transaction.atomic():
            if not _try_lock():
                break
            sealed += _seal_pending()[2]
        if connection.in_atomic_block:
            break  # the lock stays ours until the caller's transaction ends
    return sealed


def _seal_on_commit() -> None:
    """Have `seal()` run once the current transaction commits, once per
    transaction. A callback already registered is enough: it is only dropped
    when a savepoint it was registered in rolls back, and every such
    savepoint still open encloses this entry too, which then rolls back with it."""
    for registered in getattr(connection, "run_on_commit", ()):
        try:
            if registered[1] is _seal_after_commit:
                return
        except (TypeError, IndexError):  # pragma: no cover - Django internals changed
            break
    transaction.on_commit(_seal_after_commit)


def _seal_after_commit() -> None:
    try:
        seal()
    except Exception:
        # The change has committed; the periodic tick and `audit verify`
        # seal what is left.
        logger.exception("could not seal the audit log")


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
    unsealed: int = 0  # entries not sealed for longer than UNSEALED_GRACE
    anchors: int = 0  # anchors checked


def verify(
    batch_size: int = 5000, *, now: datetime | None = None, anchors: Sequence[Anchor] = ()
) -> VerifyResult:
    """Walk the sealed chain in `seq` order; report the first row whose
    sequence, link or hash is wrong, or that no longer carries the hash an
    anchor wrote down; then a chain that stops short of its latest anchor;
    else entries left unsealed for longer than UNSEALED_GRACE (their sealing
    failed)."""
    expected_prev = GENESIS
    expected_seq = 1
    checked = 0
    anchored: dict[int, list[Anchor]] = {}
    for anchor in anchors:
        anchored.setdefault(anchor.seq, []).append(anchor)
    qs = AuditEntry.objects.filter(seq__isnull=False).order_by("seq")
    for item in qs.iterator(chunk_size=batch_size):
        if item.seq != expected_seq:
            return VerifyResult(False, checked, item.seq, f"序号不连续：期望 {expected_seq}")
        if item.prev_hash != expected_prev:
            return VerifyResult(False, checked, item.seq, "与上一条记录的哈希不衔接")
        if compute_hash(item) != item.hash:
            return VerifyResult(False, checked, item.seq, "记录内容与其哈希不符（已被修改）")
        for anchor in anchored.get(item.seq, ()):
            if anchor.hash != item.hash:
                return VerifyResult(
                    False,
                    checked,
                    item.seq,
                    f"与 {anchor.at} 记下的锚点不符（此处或之前的记录被改写并重算了哈希）",
                )
        expected_prev = item.hash
        expected_seq += 1
        checked += 1
    if anchors:
        latest = max(anchors, key=lambda a: a.seq)
        if latest.seq >= expected_seq:
            return VerifyResult(
                False,
                checked,
                expected_seq,
                f"链止于第 {expected_seq - 1} 条，而 {latest.at} 记下的锚点在第 {latest.seq} 条"
                f"（末尾的记录已被删除）",
                anchors=len(anchors),
            )
    cutoff = (now or timezone.now()) - UNSEALED_GRACE
    stale = AuditEntry.objects.filter(seq__isnull=True, created_at__lt=cutoff)
    count = stale.count()
    if count:
        first = stale.order_by("id").values_list("id", flat=True).first()
        minutes = int(UNSEALED_GRACE.total_seconds() // 60)
        return VerifyResult(
            False,
            checked,
            reason=f"{count} 条记录超过 {minutes} 分钟仍未封存（最早 id {first}）",
            unsealed=count,
            anchors=len(anchors),
        )
    return VerifyResult(True, checked, anchors=len(anchors))


# --- anchors -------------------------------------------------------------------


@dataclass(frozen=True)
class Anchor:
    """The chain's end as it was at `at`: row `seq` had hash `hash`."""

    seq: int
    hash: str
    at: str  # ISO 8601, UTC


class AnchorFileError(ValueError):
    pass


_HASH = re.compile(r"[0-9a-f]{64}")


def anchor_path() -> Path:
    """settings.AUDIT_ANCHOR_FILE, else one file per database under VAR_DIR
    (a development machine holds several databases; each has its own chain)."""
    if settings.AUDIT_ANCHOR_FILE:
        return Path(settings.AUDIT_ANCHOR_FILE)
    name = str(connection.settings_dict.get("NAME") or "default")
    if connection.vendor == "sqlite":
        name = Path(name).stem
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{connection.vendor}-{name}")[-80:]
    return Path(settings.VAR_DIR) / f"audit-anchors.{slug}.jsonl"


def _parse_anchor(line: str) -> Anchor:
    """One line of the anchor file; ValueError saying why it is not an anchor."""
    try:
        data = json.loads(line)
        anchor = Anchor(seq=int(data["seq"]), hash=str(data["hash"]), at=str(data["at"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"无法读取：{exc}") from None
    if anchor.seq < 1 or not _HASH.fullmatch(anchor.hash):
        raise ValueError("不是有效的锚点")
    return anchor


def read_anchors(path: Path | None = None) -> list[Anchor]:
    """The anchors in the file, oldest first; none when it does not exist."""
    path = path or anchor_path()
    if not path.exists():
        return []
    anchors = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                anchors.append(_parse_anchor(line))
            except ValueError as exc:
                raise AnchorFileError(f"{path} 第 {number} 行{exc}") from None
    return anchors


def _last_anchor(path: Path) -> Anchor | None:
    """The file's last anchor, read from its tail (the file grows by a line
    every ten minutes; verify reads it all, writing need not)."""
    if not path.exists():
        return None
    with path.open("rb") as handle:
        handle.seek(max(0, handle.seek(0, os.SEEK_END) - 4096))
        lines = handle.read().decode("utf-8", errors="replace").splitlines()
    for line in reversed(lines):
        try:
            return _parse_anchor(line)
        except ValueError:
            continue  # a partial first line of the tail, or a damaged one: verify reports it
    return None


def write_anchor(path: Path | None = None, *, now: datetime | None = None) -> Anchor | None:
    """Append the sealed chain's end to the anchor file (and the log), unless
    the chain is empty or has not moved since the last anchor. The file is
    opened for appending only and synced to disk before returning."""
    seq, hash_, _pending = _chain_end()
    if not seq:
        return None
    path = path or anchor_path()
    last = _last_anchor(path)
    if last is not None and last.seq == seq and last.hash == hash_:
        return last
    moment = (now or timezone.now()).astimezone(UTC)
    anchor = Anchor(seq=seq, hash=hash_, at=moment.isoformat(timespec="seconds"))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, (json.dumps(asdict(anchor)) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    # The log usually leaves the machine (journald, a log shipper): a second copy.
    logger.info("audit anchor seq=%s hash=%s at=%s", anchor.seq, anchor.hash, anchor.at)
    return anchor


def seal_with(model, using: str = "default") -> int:
    """Seal every unsealed row of a historical AuditEntry model (for
    migrations); the caller holds whatever lock it needs."""
    last = model.objects.using(using).filter(seq__isnull=False).order_by("-seq").first()
    last_seq, last_hash = (last.seq, last.hash) if last else (0, GENESIS)
    pending = list(model.objects.using(using).filter(seq__isnull=True).order_by("id"))
    for item in pending:
        last_seq += 1
        item.seq = last_seq
        item.prev_hash = last_hash
        item.hash = last_hash = compute_hash(item)
    model.objects.using(using).bulk_update(pending, ["seq", "prev_hash", "hash"], batch_size=500)
    return len(pending)
