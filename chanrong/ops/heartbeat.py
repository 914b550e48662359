"""Heartbeats of the background processes (see models.ProcessHeartbeat).

Writing one is a single short transaction from the worker or scheduler
process itself — never from a request — and a failed write (SQLite busy
under a long import, the database restarting) is logged and skipped: the
next beat tries again, and the doctor only calls a worker dead after several
missed beats.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string

from chanrong.core import periodic

from .models import ProcessHeartbeat, ProcessKind

logger = logging.getLogger(__name__)

HOST = socket.gethostname()[:40]
#: Seconds between a worker's heartbeats.
DEFAULT_BEAT_SECONDS = 10
#: A worker silent this long is taken for dead (six missed beats at least).
DEFAULT_STALE_AFTER = timedelta(seconds=90)
#: The scheduler ticks every minute; silent this long, it is not running.
SCHEDULER_STALE_AFTER = timedelta(minutes=3)

_PROCESS_STARTED = timezone.now()


def beat_seconds() -> float:
    return float(getattr(settings, "CHANRONG_HEARTBEAT_SECONDS", DEFAULT_BEAT_SECONDS))


def stale_after() -> timedelta:
    """How long without a beat before a worker counts as dead."""
    return max(DEFAULT_STALE_AFTER, timedelta(seconds=6 * beat_seconds()))


def new_worker_ident() -> str:
    """A worker id naming this host and process ("host:pid:random", ≤ 64
    characters, the backend's limit), so that a task it leaves RUNNING can be
    traced back to it even without its heartbeat row."""
    return f"{HOST}:{os.getpid()}:{get_random_string(8)}"


def parse_ident(ident: str) -> tuple[str, int] | None:
    """(host, pid) of an ident made by `new_worker_ident`, else None."""
    parts = ident.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    return parts[0], int(parts[1])


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (a zombie — dead,
    not yet reaped by its parent — does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in {"Z", "X"}


def process_started_at(pid: int) -> datetime | None:
    """When the process `pid` of this machine started (Linux /proc), or None
    when that cannot be read. Tells a dead worker's pid, since reused by
    another process (a restarted container numbers its processes alike),
    from the worker itself."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            ticks = int(stat.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/stat", encoding="ascii") as machine:
            boot = next(int(line.split()[1]) for line in machine if line.startswith("btime "))
    except (OSError, IndexError, ValueError, StopIteration):
        return None
    return datetime.fromtimestamp(boot + ticks / os.sysconf("SC_CLK_TCK"), tz=UTC)


def beat(
    ident: str,
    kind: str,
    *,
    started_at: datetime,
    info: dict | None = None,
    stopped: bool = False,
) -> bool:
    """Record that the process `ident` is alive (or, `stopped`, that it has
    stopped). One short transaction; False when the write failed."""
    now = timezone.now()
    values = {
        "kind": kind,
        "host": HOST,
        "pid": os.getpid(),
        "seen_at": now,
        "stopped_at": now if stopped else None,
    }
    if info is not None:
        values["info"] = info
    try:
        with transaction.atomic():
            updated = ProcessHeartbeat.objects.filter(ident=ident, pid=os.getpid()).update(**values)
            if not updated:
                ProcessHeartbeat.objects.update_or_create(
                    ident=ident, defaults={**values, "started_at": started_at}
                )
    except DatabaseError:
        logger.warning("heartbeat of %s %s not recorded", kind, ident, exc_info=True)
        return False
    return True


class Beater:
    """Beats for a worker from a thread of its own, every `interval` seconds,
    so that a long task does not make the worker look dead."""

    def __init__(self, ident: str, kind: str = ProcessKind.WORKER, interval: float | None = None):
        self.ident = ident
        self.kind = kind
        self.interval = beat_seconds() if interval is None else interval
        self.started_at = timezone.now()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{kind}", daemon=True)

    def start(self) -> None:
        beat(self.ident, self.kind, started_at=self.started_at, info=self.info())
        self._thread.start()

    def info(self) -> dict:
        return {"backend": getattr(settings, "CHANRONG_TASK_BACKEND", "")}

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                beat(self.ident, self.kind, started_at=self.started_at)
                # This thread's own connection: do not keep it (SQLite) or
                # let it age past CONN_MAX_AGE (PostgreSQL).
                connections.close_all()
        finally:
            connections.close_all()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.interval + 5)
        beat(self.ident, self.kind, started_at=self.started_at, stopped=True)


# --- the scheduler: `chanrong tick` reports each tick through a signal ----------


def scheduler_ident() -> str:
    return f"scheduler:{HOST}"


def _on_tick(sender, since: float, now: float, outcomes, **kwargs) -> None:
    counts = Counter(outcome for _job, outcome in outcomes)
    beat(
        scheduler_ident(),
        ProcessKind.SCHEDULER,
        started_at=_PROCESS_STARTED,
        info={
            "last_tick": timezone.now().isoformat(timespec="seconds"),
            "enqueued": counts.get("enqueued", 0),
            "queued_already": counts.get("queued-already", 0),
            "errors": counts.get("error", 0),
        },
    )


def listen_to_ticks() -> None:
    periodic.ticked.connect(_on_tick, dispatch_uid="chanrong.ops.heartbeat.tick")


def prune(older_than: timedelta = timedelta(days=2)) -> int:
    """Forget heartbeats not renewed for a while (stopped or dead processes)."""
    deleted, _ = ProcessHeartbeat.objects.filter(seen_at__lt=timezone.now() - older_than).delete()
    return deleted
