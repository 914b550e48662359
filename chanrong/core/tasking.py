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
