"""When a RUNNING task's worker counts as gone (ops.recovery.why_gone)."""

from __future__ import annotations

import os
import subprocess
from datetime import timedelta

from django.utils import timezone

from chanrong.ops import heartbeat
from chanrong.ops.models import ProcessHeartbeat, ProcessKind
from chanrong.ops.recovery import why_gone


def _beat(ident: str, *, started, seen, stopped=None) -> dict[str, ProcessHeartbeat]:
    row = ProcessHeartbeat(
        ident=ident,
        kind=ProcessKind.WORKER,
        host="h",
        pid=1,
        started_at=started,
        seen_at=seen,
        stopped_at=stopped,
    )
    return {ident: row}


def test_a_worker_of_this_host_whose_process_is_gone():
    finished = subprocess.Popen(["true"])  # noqa: S607
    finished.wait()
    ident = f"{heartbeat.HOST}:{finished.pid}:abcdefgh"
    now = timezone.now()
    assert why_gone(ident, now, now=now, heartbeats={}) == "pid-gone"


def test_a_reused_pid_is_not_the_worker():
    now = timezone.now()
    ident = f"{heartbeat.HOST}:{os.getpid()}:abcdefgh"
    assert heartbeat.process_started_at(os.getpid()) is not None
    # This process recorded as the worker, started after the process: alive.
    alive = _beat(ident, started=now, seen=now)
    assert why_gone(ident, now, now=now, heartbeats=alive) is None
    # A worker with this pid that started long before this process: another process.
    long_ago = heartbeat.process_started_at(os.getpid()) - timedelta(hours=1)
    reused = _beat(ident, started=long_ago, seen=now)
    assert why_gone(ident, now, now=now, heartbeats=reused) == "pid-gone"


def test_a_worker_elsewhere_is_judged_by_its_heartbeat():
    now = timezone.now()
    ident = "elsewhere:123:abcdefgh"
    fresh = _beat(ident, started=now - timedelta(hours=1), seen=now - timedelta(seconds=5))
    assert why_gone(ident, now, now=now, heartbeats=fresh) is None
    stale = _beat(
        ident,
        started=now - timedelta(hours=1),
        seen=now - heartbeat.stale_after() - timedelta(seconds=1),
    )
    assert why_gone(ident, now, now=now, heartbeats=stale) == "heartbeat-stale"
    stopped = _beat(ident, started=now - timedelta(hours=1), seen=now, stopped=now)
    assert why_gone(ident, now, now=now, heartbeats=stopped) == "stopped"


def test_without_a_heartbeat_only_a_long_run_counts():
    now = timezone.now()
    for ident in ("someone-elses-worker-id", "elsewhere:123:abcdefgh"):
        assert why_gone(ident, now - timedelta(minutes=30), now=now, heartbeats={}) is None
        assert why_gone(ident, now - timedelta(hours=7), now=now, heartbeats={}) == "no-heartbeat"
