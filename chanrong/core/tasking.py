"""Small helpers around Django's Tasks API, shared by every app's tasks.

Tasks are enqueued on commit: a task that reads what the request wrote must
not start before the write is visible, and nothing may go out (an e-mail, a
webhook) for a change that was rolled back. The database backend would be
transactional anyway; the Redis and immediate backends are not, so every
caller goes through `enqueue_on_commit` and gets the same behaviour.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

#: The default waits before a failed e-mail / SMS is tried again (seconds).
RETRY_DELAYS = (60, 300, 1800)


def enqueue_on_commit(task, *args: Any, **kwargs: Any) -> None:
    """Enqueue `task` once the current transaction commits (at once outside one)."""
    transaction.on_commit(partial(_enqueue_logged, task, args, kwargs))


def _enqueue_logged(task, args: tuple, kwargs: dict) -> None:
    try:
        task.enqueue(*args, **kwargs)
    except Exception:
        # The change has committed; failing the request now would report an
        # error for something that happened. A periodic sweep (webhooks) or
        # the log (e-mail, SMS) is the way back.
        logger.exception("could not enqueue %s", task.module_path)


def supports_defer(task) -> bool:
    return bool(getattr(task.get_backend(), "supports_defer", False))


def retry_later(
    task,
    *args: Any,
    attempt: int,
    delays: Sequence[int] = RETRY_DELAYS,
    **kwargs: Any,
) -> bool:
    """Enqueue `task` again for attempt `attempt + 1` after the matching delay.
    False when the attempts are used up or the backend cannot run a task later
    (the immediate backend): the caller then lets the error stand."""
    if attempt > len(delays) or not supports_defer(task):
        return False
    run_after = timezone.now() + timedelta(seconds=delays[attempt - 1])
    task.using(run_after=run_after).enqueue(*args, attempt=attempt + 1, **kwargs)
    return True


# --- tasks that may run twice -------------------------------------------------
#
# A worker killed in the middle of a task (kill -9, out of memory, a power
# cut) leaves it RUNNING; nobody knows whether its effect happened. The
# recovery job (chanrong.ops.recovery) runs such a task again only when that
# is harmless, and otherwise records it as failed. Periodic jobs must be
# idempotent anyway (core.periodic) and count as rerunnable; other tasks say
# so with `@rerunnable` above `@task`. An e-mail or SMS is not: sending it
# twice is a visible duplicate, so a lost one is recorded as failed instead.

_rerunnable: set[str] = set()


def rerunnable(task):
    """Mark a task (apply above `@task`) as safe to run twice: running it
    again after a worker died mid-run does no harm."""
    _rerunnable.add(task.module_path)
    return task


def is_rerunnable(task_path: str) -> bool:
    """Whether the task at this dotted path is marked rerunnable or is a
    periodic job. Imports the task's module, which registers its marks."""
    from django.utils.module_loading import import_string

    from . import periodic

    try:
        import_string(task_path)
    except ImportError:
        return False
    return task_path in _rerunnable or task_path in periodic.registered_paths()
