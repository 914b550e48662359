"""core.counter_batch: a request's rate windows in one statement, the
refusal mark-or-count in one statement, the same answers as core.counters'
one-change statements; on PostgreSQL committed asynchronously yet visible to
every other connection at once, and exact under concurrency."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from chanrong.core import counter_batch, counters
from chanrong.core.ratelimit import Rate, hit_all

NOW = 2_000_000.0


def _name() -> str:
    return f"test:{uuid.uuid4().hex}"


@pytest.mark.django_db
def test_hit_windows_counts_each_window_and_reads_each_previous_one():
    a, a_prev, b, b_prev = _name(), _name(), _name(), _name()
    counters.incr(b_prev, ttl=20, now=NOW)
    counters.incr(b_prev, ttl=20, now=NOW)
    first = counter_batch.hit_windows([(a, a_prev, 10), (b, b_prev, 20)], NOW)
    assert first == {a: (1, 0), b: (1, 2)}
    again = counter_batch.hit_windows([(b, b_prev, 20), (a, a_prev, 10)], NOW)
    assert again == {a: (2, 0), b: (2, 2)}
    # Expiry as in core.counters: a's count lives 10 s, b's 20 s.
    assert counters.get(a, now=NOW + 10) == 0
    assert counters.get(b, now=NOW + 10) == 2
    assert counter_batch.hit_windows([(a, a_prev, 10), (b, b_prev, 20)], NOW + 10) == {
        a: (1, 0),
        b: (3, 2),
    }


@pytest.mark.django_db
def test_the_same_window_twice_is_refused():
    name = _name()
    with pytest.raises(ValueError):
        counter_batch.hit_windows([(name, "x", 1), (name, "y", 1)], NOW)


@pytest.mark.django_db
def test_both_rate_windows_of_a_request_are_one_statement():
    token_rate = Rate(limit=3, window=60.0, text="3/min")
    address_rate = Rate(limit=100, window=60.0, text="100/min")
    token, address = _name(), _name()
    with CaptureQueriesContext(connection) as queries:
        decisions = hit_all([(token, token_rate), (address, address_rate)], now=NOW)
    assert [d.allowed for d in decisions] == [True, True]
    assert len(queries) == 1
    for _ in range(2):
        hit_all([(token, token_rate), (address, address_rate)], now=NOW)
    refused, allowed = hit_all([(token, token_rate), (address, address_rate)], now=NOW)
    assert not refused.allowed and refused.retry_after >= 1
    assert allowed.allowed
    # The refused window took its count back; the address kept its own.
    index = int(NOW // 60)
    assert counters.get(f"rl:{token}:3:60.0:{index}", now=NOW) == 3
    assert counters.get(f"rl:{address}:100:60.0:{index}", now=NOW) == 4


@pytest.mark.django_db
def test_mark_or_count_is_what_add_then_incr_was():
    mark, counter = _name(), _name()
    assert counter_batch.mark_or_count(mark, counter, 60, NOW) is True
    assert counters.get(counter, now=NOW) == 0
    assert counter_batch.mark_or_count(mark, counter, 60, NOW + 1) is False
    assert counter_batch.mark_or_count(mark, counter, 60, NOW + 59) is False
    assert counters.get(counter, now=NOW + 59) == 2
    # The mark expires with its window; the count does not.
    assert counter_batch.mark_or_count(mark, counter, 60, NOW + 60) is True
    assert counters.get(counter, now=NOW + 10_000) == 2
    assert counters.get(mark, now=NOW + 61) == 1


@pytest.mark.django_db
@pytest.mark.postgres("one statement is PostgreSQL's; SQLite makes core.counters' two")
def test_mark_or_count_is_one_statement_on_postgresql():
    mark, counter = _name(), _name()
    counter_batch.mark_or_count(mark, counter, 60, NOW)
    with CaptureQueriesContext(connection) as queries:
        assert counter_batch.mark_or_count(mark, counter, 60, NOW + 1) is False
    assert len(queries) == 1


def _setting(alias: str) -> str:
    with connections[alias].cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres("asynchronous commit is PostgreSQL's")
def test_an_asynchronous_count_is_visible_to_another_connection_at_once():
    """Outside a transaction the counters commit asynchronously: a second
    connection sees each change as soon as the statement returns, and the
    first connection's own setting is untouched afterwards."""
    other = connections.create_connection("default")
    try:
        name, previous = _name(), _name()
        for expected in (1, 2, 3):
            counter_batch.hit_windows([(name, previous, 60)], NOW)
            with other.cursor() as cursor:
                cursor.execute("SELECT value FROM core_counter WHERE name = %s", [name])
                assert cursor.fetchone()[0] == expected
        mark, counter = _name(), _name()
        assert counter_batch.mark_or_count(mark, counter, 60, NOW)
        assert not counter_batch.mark_or_count(mark, counter, 60, NOW)
        with other.cursor() as cursor:
            cursor.execute("SELECT value FROM core_counter WHERE name = %s", [counter])
            assert cursor.fetchone()[0] == 1
        assert _setting("default") == "on"
    finally:
        other.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres("asynchronous commit is PostgreSQL's")
def test_inside_a_transaction_the_counters_do_not_touch_its_commit():
    """A business transaction never inherits the asynchronous commit."""
    with transaction.atomic():
        counter_batch.hit_windows([(_name(), _name(), 60)], NOW)
        counter_batch.mark_or_count(_name(), _name(), 60, NOW)
        assert _setting("default") == "on"


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres("real concurrent connections: SQLite serialises every writer")
@pytest.mark.many_connections
def test_concurrent_requests_never_pass_a_shared_window_together():
    """16 connections, each its own token, all from one address with a window
    of 50, send 10 requests each: exactly 50 pass, and no two multi-row
    statements deadlock (rows are written in name order)."""
    address_rate = Rate(limit=50, window=60.0, text="50/min")
    token_rate = Rate(limit=1000, window=60.0, text="1000/min")
    address = _name()
    now = 60.0 * 40_000_000 + 1
    allowed: list[bool] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(16)

    def worker() -> None:
        token = _name()
        try:
            barrier.wait()
            mine = []
            for _ in range(10):
                token_decision, address_decision = hit_all(
                    [(token, token_rate), (address, address_rate)], now=now
                )
                assert token_decision.allowed
                mine.append(address_decision.allowed)
            with lock:
                allowed.extend(mine)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(allowed) == 160
    assert allowed.count(True) == 50
    assert counters.get(f"rl:{address}:50:60.0:{40_000_000}", now=now) == 50
