"""A worker killed with SIGKILL mid-task: the task it left RUNNING is found,
re-queued when it may run twice or failed otherwise, and recorded — by the
periodic job and by the next worker's start-up. Real worker processes, on
the database the suite runs on (SQLite file or PostgreSQL)."""

from __future__ import annotations

import json
import os
import signal
import socket
from pathlib import Path

import pytest

from .procs import chanrong, django_json, start_worker, wait_for

# Transactional: on PostgreSQL the child processes share the test database
# and must see what the test (and each other) committed.
pytestmark = pytest.mark.django_db(transaction=True)

ENQUEUE = """
from tests.ops.blocking_tasks import {name}
out = str({name}.enqueue({marker!r}, {release!r}).id)
"""

ROWS = """
from django_tasks_db.models import DBTaskResult
from chanrong.core.models import AuditEntry
out = {{
    "tasks": {{str(r.id): [r.status, r.worker_ids, r.exception_class_path]
              for r in DBTaskResult.objects.filter(task_path__startswith="tests.ops.")}},
    "audit": [[e.object_id, e.changes] for e in AuditEntry.objects.filter(action="task.recovered")],
}}
"""


def _enqueue(env, name: str, marker: Path, release: Path) -> str:
    return django_json(env, ENQUEUE.format(name=name, marker=str(marker), release=str(release)))


def _start_in_task(env, marker: Path):
    """Start a worker and wait until it is inside the task (marker written)."""
    worker = start_worker(env)
    try:
        wait_for(marker.exists, what="the task to start")
    except BaseException:
        worker.kill()
        worker.wait(timeout=30)
        raise
    assert int(marker.read_text()) == worker.pid
    return worker


def _kill(worker) -> int:
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)
    assert worker.returncode == -signal.SIGKILL
    return worker.pid


def _kill_mid_task(env, marker: Path) -> int:
    return _kill(_start_in_task(env, marker))


def test_the_periodic_job_requeues_a_rerunnable_task_and_fails_the_other(child_db, tmp_path):
    env = child_db
    release = tmp_path / "release"
    marker_a, marker_b = tmp_path / "a.started", tmp_path / "b.started"
    a = _enqueue(env, "block_rerunnable", marker_a, release)
    b = _enqueue(env, "block_once", marker_b, release)
    # Two workers, each inside one of the tasks, both killed: (a second
    # worker started after the first died would recover its task at once).
    first = _start_in_task(env, marker_a)
    second = _start_in_task(env, marker_b)
    pid_a, pid_b = _kill(first), _kill(second)

    rows = django_json(env, ROWS.format())
    host = socket.gethostname()[:40]
    assert rows["tasks"][a][0] == "RUNNING"
    assert rows["tasks"][b][0] == "RUNNING"
    assert rows["tasks"][a][1][0].startswith(f"{host}:{pid_a}:")
    assert rows["tasks"][b][1][0].startswith(f"{host}:{pid_b}:")

    # The doctor sees them before anything is done about them.
    doctor = chanrong(env, "doctor", "--json")
    stale = [c for c in json.loads(doctor.stdout)["checks"] if c["key"] == "stale_tasks"]
    assert stale[0]["state"] == "WARN"
    assert sorted(stale[0]["details"]["orphans"]) == sorted([a, b])

    outcome = django_json(
        env, "from chanrong.ops.tasks import recover_stale_tasks\nout = recover_stale_tasks.call()"
    )
    assert (outcome["requeued"], outcome["failed"]) == (1, 1)

    rows = django_json(env, ROWS.format())
    assert rows["tasks"][a][0] == "READY"
    assert rows["tasks"][b][0] == "FAILED"
    assert rows["tasks"][b][2] == "chanrong.ops.recovery.WorkerLost"
    recorded = {object_id: changes for object_id, changes in rows["audit"]}
    assert recorded[a]["action"] == "requeued" and recorded[a]["reason"] == "pid-gone"
    assert recorded[b]["action"] == "failed" and recorded[b]["status"] == ["RUNNING", "FAILED"]

    # Run again by a healthy worker, the re-queued task completes.
    release.touch()
    done = chanrong(
        env, "db_worker", "--batch", "--no-reload", "--no-startup-delay", "--interval", "0"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows = django_json(env, ROWS.format())
    assert rows["tasks"][a][0] == "SUCCESSFUL"
    assert len(rows["tasks"][a][1]) == 2  # the dead worker's run and the second
    assert rows["tasks"][b][0] == "FAILED"


def test_a_new_worker_recovers_its_hosts_dead_worker_at_start(child_db, tmp_path):
    env = child_db
    release = tmp_path / "release"
    marker = tmp_path / "started"
    task_id = _enqueue(env, "block_rerunnable", marker, release)
    _kill_mid_task(env, marker)
    assert django_json(env, ROWS.format())["tasks"][task_id][0] == "RUNNING"

    release.touch()
    done = chanrong(
        env, "db_worker", "--batch", "--no-reload", "--no-startup-delay", "--interval", "0"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"recovered task {task_id}" in done.stdout
    rows = django_json(env, ROWS.format())
    assert rows["tasks"][task_id][0] == "SUCCESSFUL"
    assert [changes["action"] for _id, changes in rows["audit"]] == ["requeued"]
    assert os.path.exists(marker)
