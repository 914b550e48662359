"""Shared counters in the database, one atomic statement per change.

Why not Django's database cache: its `incr` is a read and a write, and each
`set` counts the table's rows (for culling), checks for the key and then
updates, so one API request paid 16 statements for its two rate windows and
14 more when it was refused and audited (bench/request_path.py), and two
concurrent requests could each read the same count and both pass. Here an
increment is one `INSERT … ON CONFLICT … DO UPDATE … RETURNING` (PostgreSQL
and SQLite ≥ 3.35 alike): atomic, a round trip each.

A counter has an expiry in Unix seconds; an expired row counts as absent and
is reset by the next write to it. `purge_expired` (a periodic task) deletes
the dead rows. With Redis configured (`CHANRONG_CACHE_BACKEND=redis`) the
callers use the cache's own atomic INCR instead (core.ratelimit).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.db import connection

from .dbbusy import best_effort
from .models import Counter

TABLE = Counter._meta.db_table
#: The expiry of a counter that never expires (the last second of 9999).
NEVER = 253_402_300_799.0


def guarded(write: Callable[[], object], what: str) -> bool:
    """Run counter writes made while serving a read; whether they ran.

    On SQLite a write waits for the database's one write lock, which a long
    import may hold: the writes are skipped then (core.dbbusy.best_effort).
    On PostgreSQL a counter's row is locked only for the instant of its own
    single statement, so they run as they are, without best_effort's
    transaction and lock timeout (three more round trips)."""
    if connection.vendor == "sqlite":
        return best_effort(write, what=what)
    write()
    return True


def _one(sql: str, params: list) -> tuple | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def hit_window(
    current: str, previous: str, ttl: float, now: float | None = None
) -> tuple[int, int]:
    """Add one to `current` (started afresh if absent or expired, living `ttl`
    seconds from now) and read `previous` in the same statement: the two
    counts of a sliding window, with this request counted."""
    now = time.time() if now is None else now
    row = _one(
        f"""INSERT INTO {TABLE} (name, value, expires_at) VALUES (%s, 1, %s)
        ON CONFLICT (name) DO UPDATE SET
            value = CASE WHEN {TABLE}.expires_at <= %s THEN 1 ELSE {TABLE}.value + 1 END,
            expires_at = CASE WHEN {TABLE}.expires_at <= %s THEN excluded.expires_at
                              ELSE {TABLE}.expires_at END
        RETURNING value, (SELECT p.value FROM {TABLE} p WHERE p.name = %s AND p.expires_at > %s)""",  # noqa: S608 - the table name is ours
        [current, now + ttl, now, now, previous, now],
    )
    return int(row[0]), int(row[1] or 0)


def incr(name: str, ttl: float | None = None, now: float | None = None) -> int:
    """Add one (a missing or expired counter starts at 1); the new value.
    `ttl` None: the counter never expires."""
    now = time.time() if now is None else now
    expires = NEVER if ttl is None else now + ttl
    row = _one(
        f"""INSERT INTO {TABLE} (name, value, expires_at) VALUES (%s, 1, %s)
        ON CONFLICT (name) DO UPDATE SET
            value = CASE WHEN {TABLE}.expires_at <= %s THEN 1 ELSE {TABLE}.value + 1 END,
            expires_at = CASE WHEN {TABLE}.expires_at <= %s THEN excluded.expires_at
                              ELSE {TABLE}.expires_at END
        RETURNING value""",  # noqa: S608 - the table name is ours
        [name, expires, now, now],
    )
    return int(row[0])


def decr(name: str) -> None:
    """Take one back (a refused request that was counted); nothing if absent."""
    sql = f"UPDATE {TABLE} SET value = value - 1 WHERE name = %s AND value > 0"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [name])


def add(name: str, value: int, ttl: float | None, now: float | None = None) -> bool:
    """Set `name` to `value` unless it is alive; whether it was set (the first
    caller of a window wins, as cache.add)."""
    now = time.time() if now is None else now
    expires = NEVER if ttl is None else now + ttl
    row = _one(
        f"""INSERT INTO {TABLE} (name, value, expires_at) VALUES (%s, %s, %s)
        ON CONFLICT (name) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
        WHERE {TABLE}.expires_at <= %s
        RETURNING value""",  # noqa: S608 - the table name is ours
        [name, value, expires, now],
    )
    return row is not None


def get(name: str, now: float | None = None) -> int:
    """The value, 0 when absent or expired."""
    now = time.time() if now is None else now
    row = _one(f"SELECT value FROM {TABLE} WHERE name = %s AND expires_at > %s", [name, now])  # noqa: S608
    return int(row[0]) if row else 0


def delete(name: str) -> None:
    Counter.objects.filter(name=name).delete()


def purge_expired(now: float | None = None) -> int:
    """Delete dead counters; how many."""
    now = time.time() if now is None else now
    deleted, _ = Counter.objects.filter(expires_at__lte=now).delete()
    return deleted
