"""Transactions that PostgreSQL may abort for a lock cycle, run again.

A long background transaction (the batch re-match replacing stored matches:
every inserted row takes a key-share lock on its demand through the foreign
key) meets short request transactions that lock demand rows for update in
another order; PostgreSQL then aborts one side with a deadlock (40P01) or a
serialization failure (40001). Neither means the work is wrong: it is safe
to run the same transaction again once the other side has finished. Request
paths keep failing fast (and the user sees a 409 or retries); background
work that must finish uses `atomic_with_retry`.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import OperationalError, transaction

from .dbbusy import sqlstate_of

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: SQLSTATEs that say "run the transaction again": deadlock, serialization failure.
RETRYABLE = frozenset({"40P01", "40001"})


def is_retryable(exc: BaseException) -> bool:
    return sqlstate_of(exc) in RETRYABLE


def atomic_with_retry(fn: Callable[[], T], *, attempts: int = 5, what: str = "") -> T:
    """Run `fn()` in its own transaction; if the database aborts it for a lock
    cycle, wait a moment (jittered, growing) and run it again, up to
    `attempts` times. Inside another transaction it runs once, in a
    savepoint: an aborted transaction cannot be retried from within, so the
    caller's own transaction decides (and is what a test runs in)."""
    if transaction.get_connection().in_atomic_block:
        with transaction.atomic():
            return fn()
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic():
                return fn()
        except OperationalError as exc:
            if attempt == attempts or not is_retryable(exc):
                raise
            delay = random.uniform(0.05, 0.2) * attempt  # noqa: S311 (jitter, not security)
            logger.warning(
                "%s: transaction aborted (%s), attempt %d of %d, again in %.2f s",
                what or getattr(fn, "__name__", "transaction"),
                sqlstate_of(exc),
                attempt,
                attempts,
                delay,
            )
            time.sleep(delay)
    raise AssertionError("unreachable")
