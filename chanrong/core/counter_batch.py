"""The counters a request writes while it is served, in one round trip each.

Every API request counts itself against its rate windows (core.ratelimit,
one window per token and one per address) and a refused one against its
refusal mark (core.refusals). core.counters does each change in one atomic
statement; this module does all of a request's changes of one kind in one
statement, and on PostgreSQL commits it asynchronously:

- `hit_windows` counts one request in several sliding windows with one
  multi-row `INSERT … ON CONFLICT … DO UPDATE … RETURNING` (PostgreSQL and
  SQLite ≥ 3.35), reading each previous window in the same statement. The
  rows are written in the order of their names, so two requests never wait
  for each other's rows crosswise.
- `mark_or_count` sets a window's mark if it is not alive, else adds one to
  a counter: on PostgreSQL one statement (two data-modifying CTEs), on
  SQLite the two statements core.counters makes.

**Asynchronous commit.** A statement in autocommit is its own transaction
and PostgreSQL answers its COMMIT only once the WAL is flushed to disk:
about 3 ms of waiting on this machine, and ~0.15 ms of the web process's
CPU per wait (sleeping and waking cost CPU too; bench/request_path.py). The
statements here run as `SET LOCAL synchronous_commit TO OFF; <statement>`
in one message, which PostgreSQL runs as one implicit transaction: the
change is visible to every other connection at once (the limit stays exact
under concurrency, tests/core/test_counter_batch.py), only its durability
is deferred by at most 3 × `wal_writer_delay` (0.6 s). A crash can lose
that fraction of a second of counts, which for a rate window or a refusal
count is nothing; nothing else is ever written this way (the prefix is used
only outside a transaction, so a business transaction never inherits it).
"""

from __future__ import annotations

from django.db import connection

from .counters import NEVER, TABLE

#: One message, one implicit transaction; see the module's docstring.
_ASYNC = "SET LOCAL synchronous_commit TO OFF; "


def _run(sql: str, params: list, *, fetch_all: bool):
    """Run one counter statement (asynchronously committed on PostgreSQL
    when not inside a transaction); its rows."""
    asynchronous = connection.vendor == "postgresql" and not connection.in_atomic_block
    with connection.cursor() as cursor:
        cursor.execute(_ASYNC + sql if asynchronous else sql, params)
        if asynchronous:
            cursor.nextset()  # past the SET's empty result
        return cursor.fetchall() if fetch_all else cursor.fetchone()


def hit_windows(windows: list[tuple[str, str, float]], now: float) -> dict[str, tuple[int, int]]:
    """Count one request in each `(current, previous, ttl)` window: add one
    to `current` (started afresh if absent or expired, living `ttl` seconds
    from now) and read `previous`. Returns {current: (current count,
    previous count)}, this request counted. The names must differ."""
    ordered = sorted(windows)
    if len({current for current, _p, _t in ordered}) != len(ordered):
        raise ValueError("hit_windows: the same window twice")
    values = ", ".join(["(%s, 1, %s)"] * len(ordered))
    cases = " ".join(["WHEN %s THEN %s"] * len(ordered))
    params: list = []
    for current, _previous, ttl in ordered:
        params += [current, now + ttl]
    params += [now, now]
    for current, previous, _ttl in ordered:
        params += [current, previous]
    params.append(now)
    rows = _run(
        f"""INSERT INTO {TABLE} (name, value, expires_at) VALUES {values}
        ON CONFLICT (name) DO UPDATE SET
            value = CASE WHEN {TABLE}.expires_at <= %s THEN 1 ELSE {TABLE}.value + 1 END,
            expires_at = CASE WHEN {TABLE}.expires_at <= %s THEN excluded.expires_at
                              ELSE {TABLE}.expires_at END
        RETURNING name, value, (SELECT p.value FROM {TABLE} p
            WHERE p.name = CASE {TABLE}.name {cases} END AND p.expires_at > %s)""",  # noqa: S608 - the table name is ours
        params,
        fetch_all=True,
    )
    return {name: (int(value), int(previous or 0)) for name, value, previous in rows}


def mark_or_count(mark: str, counter: str, ttl: float, now: float) -> bool:
    """Set `mark` (alive `ttl` seconds) unless it is alive, and then return
    True; else add one to `counter` (which never expires) and return False.
    What `counters.add(mark, 1, ttl)` followed, when it fails, by
    `counters.incr(counter)` does, in one statement on PostgreSQL."""
    if connection.vendor != "postgresql":
        from . import counters

        if counters.add(mark, 1, ttl=ttl, now=now):
            return True
        counters.incr(counter, now=now)
        return False
    row = _run(
        f"""WITH mark AS (
            INSERT INTO {TABLE} (name, value, expires_at) VALUES (%s, 1, %s)
            ON CONFLICT (name) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
            WHERE {TABLE}.expires_at <= %s
            RETURNING 1
        ), bump AS (
            INSERT INTO {TABLE} (name, value, expires_at)
            SELECT %s, 1, %s WHERE NOT EXISTS (SELECT 1 FROM mark)
            ON CONFLICT (name) DO UPDATE SET
                value = CASE WHEN {TABLE}.expires_at <= %s THEN 1 ELSE {TABLE}.value + 1 END,
                expires_at = CASE WHEN {TABLE}.expires_at <= %s THEN excluded.expires_at
                                  ELSE {TABLE}.expires_at END
            RETURNING 1
        )
        SELECT EXISTS (SELECT 1 FROM mark)""",  # noqa: S608 - the table name is ours
        [mark, now + ttl, now, counter, NEVER, now, now],
        fetch_all=False,
    )
    return bool(row[0])
