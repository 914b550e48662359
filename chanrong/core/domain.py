"""Domain signals: how a lower app tells higher ones that something changed
without importing them (docs/architecture.md, "Dependencies point down").

Two kinds, chosen by what the receiver does:

- `AfterCommitSignal`: the receiver reacts to a change that has happened
  (re-matching, re-scoring). The sender calls `send_after_commit(ids)` inside
  its transaction; the ids are collected per outermost transaction and sent
  once, as `ids=(…)` sorted, after it commits — never for a rolled-back
  change. An import that changes 5,000 enterprises sends one signal with 5,000
  ids. Receivers run with `send_robust`: the change is already committed, so a
  failing receiver is logged, never turned into an error for the user.
- `InTransactionSignal`: the receiver must record something atomically with
  the change (an outbox row: a webhook delivery, a financing fact). It is sent
  at once, inside the sender's transaction; a receiver's exception rolls the
  change back, as if the sender had done the write itself.

Receivers connect in their app's `AppConfig.ready()`.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Iterable
from functools import partial
from typing import Any

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

_local = threading.local()


class _Pending:
    """Ids per signal waiting for the current outermost transaction to commit."""

    def __init__(self, block: Any) -> None:
        self.block = weakref.ref(block) if block is not None else None
        self.ids: dict[AfterCommitSignal, set[int]] = {}


def _pending() -> _Pending:
    connection = transaction.get_connection()
    block = connection.atomic_blocks[0] if connection.in_atomic_block else None
    state = getattr(_local, "pending", None)
    if block is None or state is None or state.block is None or state.block() is not block:
        state = _Pending(block)
        _local.pending = state
    return state


def _flush(state: _Pending) -> None:
    batches, state.ids = state.ids, {}
    for signal, ids in batches.items():
        if ids:
            signal.send_now(tuple(sorted(ids)))


def discard_pending() -> None:
    """Forget ids collected but not yet sent. For tests, which run inside one
    outer transaction that never commits: what the fixtures changed would
    otherwise be sent with the first change the test makes."""
    _local.pending = None


class AfterCommitSignal(Signal):
    """A change other apps react to once it is committed (see the module docstring)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def __repr__(self) -> str:
        return f"<AfterCommitSignal {self.name}>"

    def send_after_commit(self, ids: Iterable[int]) -> None:
        ids = [int(pk) for pk in ids]
        if not ids:
            return
        state = _pending()
        state.ids.setdefault(self, set()).update(ids)
        # Registered every time (cheap): whichever callback survives savepoint
        # rollbacks flushes everything; the others find nothing left. (A change
        # rolled back inside a savepoint of a transaction that then commits may
        # still be signalled: receivers recompute, so that is harmless.)
        transaction.on_commit(partial(_flush, state))

    def send_now(self, ids: tuple[int, ...]) -> None:
        for receiver, result in self.send_robust(sender=self.name, ids=ids):
            if isinstance(result, Exception):
                logger.error(
                    "receiver %r of %s failed for %d ids",
                    receiver,
                    self.name,
                    len(ids),
                    exc_info=(type(result), result, result.__traceback__),
                )


class InTransactionSignal(Signal):
    """A change whose consequence must be written in the same transaction."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def __repr__(self) -> str:
        return f"<InTransactionSignal {self.name}>"

    def send_in_transaction(self, **kwargs: Any) -> list[Any]:
        """Call every receiver now; exceptions propagate (and roll back)."""
        return [result for _receiver, result in self.send(sender=self.name, **kwargs)]
