"""atomic_with_retry: a transaction PostgreSQL aborts for a lock cycle runs
again, with real concurrent connections producing a real deadlock."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from chanrong.core.models import Region
from chanrong.core.transactions import atomic_with_retry

pytestmark = [
    pytest.mark.postgres("a deadlock needs row locks and concurrent connections"),
    pytest.mark.django_db(transaction=True),
]


def _lock(code: str) -> None:
    Region.objects.select_for_update().get(pk=code)


def test_a_deadlocked_transaction_runs_again_and_succeeds(refdata_loaded):
    a, b = "330421", "330402"
    runs: list[str] = []
    other_has_b = threading.Event()
    errors: list[BaseException] = []

    def other() -> None:
        # Holds B, then (after the retried side is already waiting on B) asks for A.
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET deadlock_timeout = '5s'")  # the other side detects it first
            with transaction.atomic():
                _lock(b)
                other_has_b.set()
                time.sleep(0.3)
                _lock(a)
                time.sleep(0.2)
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            connections.close_all()

    def work() -> str:
        runs.append("run")
        _lock(a)
        if len(runs) == 1:
            other_has_b.wait(10)
        _lock(b)  # first run: waits on B first, so PostgreSQL aborts this side
        return "done"

    thread = threading.Thread(target=other)
    thread.start()
    assert other_has_b.wait(10)
    with connection.cursor() as cursor:
        # Checked once, after this long waiting: by then the other side waits too.
        cursor.execute("SET deadlock_timeout = '800ms'")
    try:
        assert atomic_with_retry(work, what="test") == "done"
    finally:
        thread.join(20)
    assert errors == []
    assert len(runs) == 2


def test_other_errors_are_not_retried(refdata_loaded):
    runs: list[int] = []

    def broken() -> None:
        runs.append(1)
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1/0")

    with pytest.raises(Exception):  # noqa: B017 (division by zero is a DataError)
        atomic_with_retry(broken)
    assert runs == [1]


def test_inside_a_transaction_it_runs_once_in_a_savepoint(refdata_loaded):
    with transaction.atomic():
        assert atomic_with_retry(lambda: connection.in_atomic_block) is True
        assert len(connection.savepoint_ids) == 0  # the savepoint is released
