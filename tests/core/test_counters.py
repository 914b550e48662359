"""core.counters: one atomic statement per change, expiry as absence, and
the API's rate window exact under concurrent requests on PostgreSQL."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection

from chanrong.core import counters
from chanrong.core.models import Counter
from chanrong.core.ratelimit import Rate, hit

NOW = 1_000_000.0


def _name() -> str:
    return f"test:{uuid.uuid4().hex}"


@pytest.mark.django_db
def test_incr_starts_at_one_and_counts_up():
    name = _name()
    assert [counters.incr(name, ttl=10, now=NOW) for _ in range(3)] == [1, 2, 3]
    assert counters.get(name, now=NOW) == 3


@pytest.mark.django_db
def test_an_expired_counter_is_absent_and_starts_afresh():
    name = _name()
    counters.incr(name, ttl=10, now=NOW)
    counters.incr(name, ttl=10, now=NOW)
    assert counters.get(name, now=NOW + 10) == 0
    assert counters.incr(name, ttl=10, now=NOW + 10) == 1
    # ... with the new expiry, not the old one.
    assert counters.get(name, now=NOW + 15) == 1


@pytest.mark.django_db
def test_add_wins_only_while_nothing_alive_holds_the_name():
    name = _name()
    assert counters.add(name, 1, ttl=60, now=NOW)
    assert not counters.add(name, 1, ttl=60, now=NOW + 59)
    assert counters.add(name, 7, ttl=60, now=NOW + 60)
    assert counters.get(name, now=NOW + 61) == 7


@pytest.mark.django_db
def test_hit_window_counts_this_request_and_reads_the_previous_window():
    current, previous = _name(), _name()
    assert counters.hit_window(current, previous, 20, now=NOW) == (1, 0)
    counters.incr(previous, ttl=20, now=NOW)
    counters.incr(previous, ttl=20, now=NOW)
    assert counters.hit_window(current, previous, 20, now=NOW) == (2, 2)
    counters.decr(current)
    assert counters.get(current, now=NOW) == 1


@pytest.mark.django_db
def test_purge_deletes_only_dead_counters():
    alive, dead, forever = _name(), _name(), _name()
    counters.incr(alive, ttl=100, now=NOW)
    counters.incr(dead, ttl=1, now=NOW)
    counters.incr(forever, now=NOW)
    assert counters.purge_expired(now=NOW + 50) == 1
    assert set(Counter.objects.values_list("name", flat=True)) >= {alive, forever}
    assert not Counter.objects.filter(name=dead).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres("real concurrent connections: SQLite serialises every writer")
@pytest.mark.many_connections
def test_concurrent_requests_never_pass_a_rate_window_together():
    """16 connections send 10 requests each into a window of 50: exactly 50
    pass (Django's database cache read-then-wrote, letting a few extra
    through), and every increment is counted or taken back."""
    rate = Rate(limit=50, window=60.0, text="50/min")
    key = _name()
    now = 60.0 * 30_000_000 + 1
    allowed: list[bool] = []
    lock = threading.Lock()
    barrier = threading.Barrier(16)

    def worker() -> None:
        try:
            barrier.wait()
            mine = [hit(key, rate, now=now).allowed for _ in range(10)]
            with lock:
                allowed.extend(mine)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(allowed) == 160
    assert allowed.count(True) == 50
    assert counters.get(f"rl:{key}:50:60.0:{30_000_000}", now=now) == 50
