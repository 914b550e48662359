"""Periodic housekeeping of the background machinery itself."""

from __future__ import annotations

from django.tasks import task

from chanrong.core.periodic import periodic


@periodic(minutes=1)
@task
def recover_stale_tasks() -> dict:
    """Re-queue or fail the tasks that dead workers left RUNNING (see
    ops.recovery), and forget heartbeats of long-gone processes."""
    from django_tasks_db.backend import DatabaseBackend

    from . import heartbeat, recovery

    if not isinstance(recover_stale_tasks.get_backend(), DatabaseBackend):
        return {}
    done = recovery.recover()
    return {
        "requeued": sum(1 for item in done if item.action == "requeued"),
        "failed": sum(1 for item in done if item.action == "failed"),
        "heartbeats_pruned": heartbeat.prune(),
    }
