"""Periodic jobs: tasks that `chanrong tick` enqueues on a fixed rhythm.

Django's Tasks API has no scheduler, and neither backend should need one
more server, so a job is an ordinary task marked with `@periodic(...)` in an
app's `tasks.py`; `chanrong tick`, run every minute (cron, a systemd timer,
or `chanrong tick --every 60` as a service), enqueues the jobs that are due.

Due-ness needs no stored state: a job every N seconds is due at each
multiple of N on the local clock (so an hourly job runs on the hour, a daily
one at midnight Beijing time), and a tick enqueues the jobs with such a
moment in (previous tick, this tick]. Jobs must therefore be idempotent —
"do whatever is due now" (escalate overdue dispatches, retry due webhook
deliveries) — so that a tick that runs twice or is missed once does no harm.

    from django.tasks import task
    from chanrong.core.periodic import periodic

    @periodic(minutes=5)
    @task
    def escalate_overdue_dispatches() -> int: ...
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import timedelta

from django.dispatch import Signal
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from chanrong.core.priority import prioritised

logger = logging.getLogger(__name__)

#: Periodic jobs go ahead of the fan-out a busy hour queues (webhook
#: deliveries, re-matches): SLA escalation, the audit seal and dead-worker
#: recovery must not wait behind thousands of them. (Backends without
#: priorities, RQ, run them in order.)
PERIODIC_PRIORITY = 50

#: Sent by `chanrong tick` after each tick, with `since`, `now` (epoch seconds)
#: and `outcomes` (see `tick`). The kernel keeps no state; whoever reports on
#: the scheduler's health (chanrong.ops) listens and records the tick.
ticked = Signal()

MIN_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class PeriodicJob:
    task: object  # a django.tasks Task
    every: timedelta

    @property
    def name(self) -> str:
        return self.task.module_path

    def is_due(self, since: float, now: float) -> bool:
        """Whether a multiple of `every` (local time) falls in (since, now]."""
        step = self.every.total_seconds()
        offset = _utc_offset_seconds()
        return math.floor((now + offset) / step) > math.floor((since + offset) / step)


_registry: dict[str, PeriodicJob] = {}


def _utc_offset_seconds() -> float:
    offset = timezone.localtime().utcoffset()
    return offset.total_seconds() if offset else 0.0


def _check(every: timedelta) -> None:
    if every < MIN_INTERVAL:
        raise ValueError("periodic jobs run at most once a minute")


def register(task, every: timedelta) -> None:
    _check(every)
    _registry[task.module_path] = PeriodicJob(task=task, every=every)


def periodic(*, minutes: int = 0, hours: int = 0, days: int = 0):
    """Mark a task (apply above `@task`) to be enqueued every so often by `chanrong tick`."""
    every = timedelta(minutes=minutes, hours=hours, days=days)
    _check(every)

    def decorator(task):
        register(task, every)
        return task

    return decorator


def registered_paths() -> set[str]:
    """The dotted paths of the jobs registered so far (no autodiscovery)."""
    return set(_registry)


def jobs() -> list[PeriodicJob]:
    """Every registered job, after importing each installed app's `tasks` module."""
    autodiscover_modules("tasks")
    return sorted(_registry.values(), key=lambda job: job.name)


def already_queued(task) -> bool:
    """With the database backend, whether this task is already waiting to run
    — so that ticks do not pile up copies while no worker is running. (Other
    backends cannot be asked cheaply; idempotent jobs make a copy harmless.)"""
    from django_tasks_db.backend import DatabaseBackend

    backend = task.get_backend()
    if not isinstance(backend, DatabaseBackend):
        return False
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(
        task_path=task.module_path,
        backend_name=backend.alias,
        status=TaskResultStatus.READY,
    ).exists()


def tick(since: float, now: float, *, everything: bool = False) -> list[tuple[PeriodicJob, str]]:
    """Enqueue the jobs due in (since, now] (all of them with `everything`);
    returns (job, outcome) with outcome "enqueued", "queued-already" or "error"."""
    outcomes = []
    for job in jobs():
        if not everything and not job.is_due(since, now):
            continue
        try:
            if already_queued(job.task):
                outcomes.append((job, "queued-already"))
                continue
            prioritised(job.task, PERIODIC_PRIORITY).enqueue()
        except Exception:
            logger.exception("periodic job %s could not be enqueued", job.name)
            outcomes.append((job, "error"))
        else:
            outcomes.append((job, "enqueued"))
    return outcomes
