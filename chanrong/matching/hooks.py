"""One-line hooks other apps' services call when something matching reads
changes. Each enqueues a re-match task once the transaction commits (nothing
for a rolled-back change); the task runs in a worker, never in the request.

    from chanrong.matching import hooks
    hooks.demand_changed(demand.pk)

Changes within one transaction are coalesced: an import that records 5,000
tax grades enqueues one re-match task for the 5,000 enterprises, not 5,000
tasks. (A change rolled back inside a savepoint of a transaction that then
commits may still be re-matched: harmless, the result is the same.)

This module imports nothing from other apps at load time, so any services
module may import it without a cycle.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Iterable
from functools import partial

from django.db import transaction

logger = logging.getLogger(__name__)

_local = threading.local()


class _Pending:
    """Ids waiting for the current transaction to commit."""

    def __init__(self, block):
        self.block = weakref.ref(block) if block is not None else None
        self.demands: set[int] = set()
        self.enterprises: set[int] = set()
        self.versions: set[int] = set()


def _pending() -> _Pending:
    connection = transaction.get_connection()
    block = connection.atomic_blocks[0] if connection.in_atomic_block else None
    state = getattr(_local, "pending", None)
    if block is None or state is None or state.block is None or state.block() is not block:
        state = _Pending(block)
        _local.pending = state
    return state


def _add(kind: str, ids: Iterable[int]) -> None:
    state = _pending()
    getattr(state, kind).update(int(pk) for pk in ids)
    # Registered every time (cheap): whichever callback survives savepoint
    # rollbacks flushes everything; the others find nothing left.
    transaction.on_commit(partial(_flush, state))


def _flush(state: _Pending) -> None:
    from chanrong.core.tasking import _enqueue_logged

    from . import tasks

    demands, state.demands = sorted(state.demands), set()
    enterprises, state.enterprises = sorted(state.enterprises), set()
    versions, state.versions = sorted(state.versions), set()
    if demands:
        _enqueue_logged(tasks.rematch_demands, (demands,), {})
    if enterprises:
        _enqueue_logged(tasks.rematch_enterprises, (enterprises,), {})
    for version in versions:
        _enqueue_logged(tasks.rematch_list_version, (version,), {})


def demand_changed(demand_id: int) -> None:
    _add("demands", [demand_id])


def enterprises_changed(enterprise_ids: Iterable[int]) -> None:
    ids = list(enterprise_ids)
    if ids:
        _add("enterprises", ids)


def enterprise_changed(enterprise_id: int) -> None:
    enterprises_changed([enterprise_id])


def list_version_changed(version_id: int) -> None:
    _add("versions", [version_id])


def product_changed(product_id: int | None = None) -> None:
    """A product affects every demand: one full re-match, not queued twice
    while one is still waiting (database backend)."""
    transaction.on_commit(_enqueue_rematch_all)


def _enqueue_rematch_all() -> None:
    from chanrong.core.periodic import already_queued
    from chanrong.core.tasking import _enqueue_logged

    from . import tasks

    try:
        if already_queued(tasks.rematch_all):
            return
    except Exception:  # the check is an optimisation only
        logger.debug("could not check for a waiting re-match", exc_info=True)
    _enqueue_logged(tasks.rematch_all, (), {})
