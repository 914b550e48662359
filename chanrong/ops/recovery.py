"""Tasks a dead worker left RUNNING: find them, run them again or fail them.

The database backend marks a task RUNNING when a worker claims it and
records the worker's id in `worker_ids`; only that worker ever finishes it.
A worker killed mid-task (kill -9, out of memory, a power cut) leaves the
row RUNNING for ever. A task counts as orphaned when its worker (the last id
in `worker_ids`):

- ran on this host and its process is gone, or its pid now belongs to a
  process started after the worker (the worker ids we hand out name the host
  and pid: `heartbeat.new_worker_ident`),
- said it stopped, or has not beaten its heart for `heartbeat.stale_after()`,
- or left no heartbeat at all and the task started longer ago than
  `CHANRONG_TASK_RUNNING_LIMIT` seconds (default six hours: generous, since a worker
  we know nothing about may simply be slow).

An orphan is put back in the queue when running it twice is harmless
(`core.tasking.is_rerunnable`: periodic jobs, tasks marked `@rerunnable`)
and it has not already taken down `MAX_RUNS` workers; otherwise it is marked
FAILED with `WorkerLost`. Either way an audit entry (`task.recovered`) and a
log line say what was done and why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from chanrong.core import audit
from chanrong.core.tasking import is_rerunnable

from . import heartbeat
from .models import ProcessHeartbeat, ProcessKind

logger = logging.getLogger(__name__)

#: A rerunnable task whose worker died this many times is failed, not re-run
#: again (it may be what kills the worker: memory, a crash in a library).
MAX_RUNS = 3
DEFAULT_RUNNING_LIMIT = timedelta(hours=6)
#: /proc gives a process's start to the clock tick and the boot time to the second.
PID_SLACK = timedelta(seconds=2)


class WorkerLost(Exception):
    """The worker running this task died before the task finished."""


@dataclass(frozen=True)
class Orphan:
    id: str
    task_path: str
    worker_id: str
    reason: str  # pid-gone | stopped | heartbeat-stale | no-heartbeat


@dataclass(frozen=True)
class Recovered:
    orphan: Orphan
    action: str  # requeued | failed
    runs: int


REASONS_ZH = {
    "pid-gone": "任务进程已退出",
    "stopped": "任务进程已停止",
    "heartbeat-stale": "任务进程心跳中断",
    "no-heartbeat": "任务进程无心跳且运行超时",
}


def running_limit() -> timedelta:
    seconds = getattr(settings, "CHANRONG_TASK_RUNNING_LIMIT", None)
    return timedelta(seconds=seconds) if seconds else DEFAULT_RUNNING_LIMIT


def why_gone(
    worker_id: str,
    started_at: datetime | None,
    *,
    now: datetime,
    heartbeats: dict[str, ProcessHeartbeat],
) -> str | None:
    """Why the worker `worker_id` is taken for dead, or None if it may be alive."""
    beat = heartbeats.get(worker_id)
    parsed = heartbeat.parse_ident(worker_id)
    if parsed and parsed[0] == heartbeat.HOST:
        if not heartbeat.pid_alive(parsed[1]):
            return "pid-gone"
        # A process with that pid runs here. If it started after the worker
        # recorded its start, the pid has been reused: the worker is gone.
        started = heartbeat.process_started_at(parsed[1])
        if beat is not None and started is not None and started > beat.started_at + PID_SLACK:
            return "pid-gone"
    if beat is not None:
        if beat.stopped_at is not None:
            return "stopped"
        if beat.seen_at < now - heartbeat.stale_after():
            return "heartbeat-stale"
        return None
    if started_at is None or started_at < now - running_limit():
        return "no-heartbeat"
    return None


def find_orphans(*, now: datetime | None = None, this_host_only: bool = False) -> list[Orphan]:
    """RUNNING tasks whose worker is gone (nothing is changed)."""
    now = now or timezone.now()
    rows = list(
        DBTaskResult.objects.running().values_list("id", "task_path", "worker_ids", "started_at")
    )
    if not rows:
        return []
    worker_ids = {ids[-1] for _id, _path, ids, _started in rows if ids}
    heartbeats = {
        beat.ident: beat
        for beat in ProcessHeartbeat.objects.filter(kind=ProcessKind.WORKER, ident__in=worker_ids)
    }
    orphans = []
    for pk, task_path, ids, started_at in rows:
        worker_id = ids[-1] if ids else ""
        if this_host_only:
            parsed = heartbeat.parse_ident(worker_id)
            if not parsed or parsed[0] != heartbeat.HOST:
                continue
        reason = why_gone(worker_id, started_at, now=now, heartbeats=heartbeats)
        if reason:
            orphans.append(Orphan(str(pk), task_path, worker_id, reason))
    return orphans


def recover(*, now: datetime | None = None, this_host_only: bool = False) -> list[Recovered]:
    """Re-queue or fail every orphaned task; returns what was done."""
    done = []
    for orphan in find_orphans(now=now, this_host_only=this_host_only):
        outcome = _settle(orphan)
        if outcome is not None:
            done.append(outcome)
    return done


def _settle(orphan: Orphan) -> Recovered | None:
    with transaction.atomic():
        row = (
            DBTaskResult.objects.select_for_update()
            .filter(pk=orphan.id, status=TaskResultStatus.RUNNING)
            .first()
        )
        # Finished, or claimed by another worker, since we looked: not ours to touch.
        if row is None or (row.worker_ids or [""])[-1] != orphan.worker_id:
            return None
        runs = len(row.worker_ids)
        if is_rerunnable(row.task_path) and runs < MAX_RUNS:
            row.status = TaskResultStatus.READY
            row.save(update_fields=["status"])
            action = "requeued"
        else:
            row.status = TaskResultStatus.FAILED
            row.finished_at = timezone.now()
            row.return_value = None
            row.exception_class_path = f"{WorkerLost.__module__}.{WorkerLost.__qualname__}"
            row.traceback = (
                f"WorkerLost: worker {orphan.worker_id} stopped running this task "
                f"({orphan.reason}) after {runs} run(s); "
                + (
                    "not run again: it is not marked safe to run twice"
                    if runs < MAX_RUNS
                    else "not run again: it has lost that many workers"
                )
                + "\n"
            )
            row.save(
                update_fields=[
                    "status",
                    "finished_at",
                    "return_value",
                    "exception_class_path",
                    "traceback",
                ]
            )
            action = "failed"
        audit.record(
            "task.recovered",
            object_type="django_tasks_db.dbtaskresult",
            object_id=orphan.id,
            object_repr=f"{orphan.task_path} ({REASONS_ZH[orphan.reason]})",
            changes={
                "status": [TaskResultStatus.RUNNING.value, row.status],
                "action": action,
                "reason": orphan.reason,
                "worker_id": orphan.worker_id,
                "runs": runs,
            },
        )
    logger.warning(
        "task %s (%s) was left RUNNING by worker %s (%s): %s after %d run(s)",
        orphan.id,
        orphan.task_path,
        orphan.worker_id,
        orphan.reason,
        action,
        runs,
    )
    return Recovered(orphan=orphan, action=action, runs=runs)
