"""The hash chain: append and seal.

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
   (`transaction.on_commit`), from `chanrong audit seal`, and every minute
   from `chanrong tick` (`core.tasks.seal_audit_log`) as a safety net.

Whoever holds the lock re-checks for unsealed entries once it has let go,
so an entry whose own `seal()` found the lock taken is sealed by the holder
right after. Chain order is `seq` (the order of sealing), not `id`. SQLite
has a single writer (BEGIN IMMEDIATE) and always seals at once.

After every audited commit, on every database, the same callback also asks
`anchors.maybe_anchor()` to write the chain's end to the anchor file when it
is due: the web process itself keeps the anchors current, with no worker or
scheduler (issue 15, finding 3: anchors written only by a task nothing
started protected nothing).

Until it is sealed, an entry is plain content: the chain cannot protect
what it does not yet cover. `verify()` reports entries left unsealed for
longer than `UNSEALED_GRACE`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from .. import bulkinsert
from ..context import current_ip
from ..models import AuditEntry

logger = logging.getLogger("chanrong.core.audit")

GENESIS = "0" * 64
_ADVISORY_LOCK_KEY = 0x6368616E726F6E67  # "chanrong"
#: Entries unsealed for longer than this are reported by `verify()`.
UNSEALED_GRACE = timedelta(minutes=5)
#: Rows chained per sealing transaction.
SEAL_BATCH = 2000
#: Sealing passes one `seal()` call makes at most (each re-checks after commit).
SEAL_ROUNDS = 20
#: Run after every audited commit, once sealed, with `end=` the chain's end
#: (seq, hash) when it is known, else None: `anchors` registers
#: `maybe_anchor` here (the package imports it), so that this module needs
#: not import the one that builds on it.
AFTER_SEAL: list[Callable[..., object]] = []


#: Values JSON gives back as they are (bool is an int; float is not: NaN).
_AS_IS = (str, int, bool, type(None))


def _normalise(value: Any) -> Any:
    """What the JSON column will give back, so the hash is computed on that.
    A flat dict of strings, integers, booleans and nulls (a dispatch's
    "institution, branch, round") comes back equal: copied, not round-tripped."""
    if type(value) is dict and all(
        type(key) is str and type(item) in _AS_IS for key, item in value.items()
    ):
        return dict(value)
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


def _lock_held() -> bool:
    """Whether this transaction took the chain's lock already (PostgreSQL),
    so that another batch of it need not ask again. The lock lasts until the
    transaction ends, or until a savepoint taken before it rolls back: Django
    replaces `connection.run_on_commit` with a new list at each of those
    (commit, rollback, savepoint rollback, close), so the list the lock was
    taken under, still in place, says the lock is still ours."""
    taken_under = getattr(connection, "_chanrong_audit_lock", None)
    return (
        taken_under is not None
        and taken_under is connection.run_on_commit
        and connection.in_atomic_block
    )


def _hold_lock() -> bool:
    """`_try_lock`, unless this transaction holds the lock already."""
    if connection.vendor != "postgresql":
        return True
    if _lock_held():
        return True
    if not _try_lock():
        return False
    connection._chanrong_audit_lock = connection.run_on_commit
    return True


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
    return bulkinsert.new(
        AuditEntry,
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
        if _hold_lock():
            known = _known_end()
            last_seq, last_hash = known if known else _seal_pending()[:2]
            for item in entries:
                last_seq += 1
                item.seq = last_seq
                item.prev_hash = last_hash
                item.hash = last_hash = compute_hash(item)
            _remember_end(last_seq, last_hash)
        else:
            for item in entries:
                item.seq = item.prev_hash = item.hash = None
        bulkinsert.insert(AuditEntry, entries)
        # PostgreSQL, holder or not: look for entries to chain once this
        # commits. Every database: anchor the chain's end when it is due.
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


def _known_end() -> tuple[int, str] | None:
    """The chain's end as this transaction last left it, while it holds the
    lock: nobody else seals meanwhile, so a second batch of the same
    transaction (a publish writes four) need not read the end again. Entries
    other writers commit meanwhile stay unsealed until this transaction's
    `_seal_after_commit`, as they would have if they had committed a moment
    later. Keyed, like `_lock_held`, on Django's on-commit list, which a
    savepoint rollback replaces: an end written inside a savepoint that
    rolled back is never reused."""
    known = getattr(connection, "_chanrong_audit_end", None)
    if known is None or known[0] is not connection.run_on_commit:
        return None
    if not connection.in_atomic_block:
        return None
    return known[1], known[2]


def _remember_end(seq: int, hash_: str) -> None:
    if connection.in_atomic_block:
        connection._chanrong_audit_end = (connection.run_on_commit, seq, hash_)


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
    _remember_end(last_seq, last_hash)
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
    end: tuple[int, str] | None = None
    try:
        # One read for both steps: whether anything waits to be chained
        # (PostgreSQL: entries written while another transaction held the
        # lock, ours included) and, when nothing does, the end to anchor.
        seq, hash_, pending = _chain_end()
        if pending and connection.vendor == "postgresql":
            seal()
        else:
            end = (seq, hash_)
    except Exception:
        # The change has committed; the periodic tick and `audit seal`
        # seal what is left.
        logger.exception("could not seal the audit log")
    for hook in AFTER_SEAL:
        try:
            hook(end=end)
        except Exception:
            # Never fail a committed request over its anchor; `audit verify`
            # reports an anchor that fell behind (stale) loudly.
            logger.exception("audit after-commit hook %s failed", getattr(hook, "__name__", hook))


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields that changed."""
    return {
        key: [before.get(key), after.get(key)]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


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
