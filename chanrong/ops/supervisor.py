"""A small process supervisor: what `chanrong serve` (and so `./scripts/up`)
runs — web, worker and scheduler as child processes of one command.

- Each child runs in a session of its own, so a Ctrl-C in the terminal
  reaches the supervisor only; it then stops the children in order: SIGTERM
  (gunicorn and db_worker finish what they are doing), a wait of up to
  `stop_timeout` seconds, then SIGKILL of whatever is left in each child's
  process group. A second Ctrl-C skips the wait.
- A child that dies is started again after a back-off (1 s, 2 s, 4 s … up to
  30 s); the back-off starts over once a child has run for a minute.
- Every line a child writes (stdout and stderr) is printed prefixed with its
  name, so one terminal (or one journal) shows all three.

Standard library only; no threads are forked (subprocess spawns with
posix_spawn / fork+exec without running Python in the child).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TextIO


@dataclass
class Program:
    name: str
    argv: Sequence[str]
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class _Child:
    program: Program
    process: subprocess.Popen | None = None
    started: float = 0.0
    failures: int = 0
    restart_at: float | None = None
    reader: threading.Thread | None = None


class Supervisor:
    def __init__(
        self,
        programs: Sequence[Program],
        *,
        out: TextIO | None = None,
        stop_timeout: float = 35.0,
        backoff_base: float = 1.0,
        backoff_max: float = 30.0,
        stable_after: float = 60.0,
        poll: float = 0.2,
    ):
        self.children = [_Child(program) for program in programs]
        self.out = out or sys.stdout
        self.stop_timeout = stop_timeout
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.stable_after = stable_after
        self.poll = poll
        self._lock = threading.Lock()
        self._stop_requested = threading.Event()
        self._hurry = threading.Event()
        self._width = max((len(p.name) for p in programs), default=5)

    # --- output ---------------------------------------------------------------

    def say(self, name: str, line: str) -> None:
        with self._lock:
            self.out.write(f"{name:<{self._width}} | {line.rstrip()}\n")
            self.out.flush()

    def _pump(self, name: str, stream) -> None:
        for raw in iter(stream.readline, b""):
            self.say(name, raw.decode("utf-8", errors="replace"))
        stream.close()

    # --- children -------------------------------------------------------------

    def _start(self, child: _Child) -> None:
        program = child.program
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **program.env}
        try:
            child.process = subprocess.Popen(  # noqa: S603 - our own command lines, no shell
                list(program.argv),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # Ctrl-C goes to us; we decide what the children get
            )
        except OSError as exc:
            self.say("serve", f"{program.name}: cannot start: {exc}")
            child.process = None
            self._schedule_restart(child, time.monotonic())
            return
        child.started = time.monotonic()
        child.restart_at = None
        self.say("serve", f"{program.name} started (pid {child.process.pid})")
        child.reader = threading.Thread(
            target=self._pump, args=(program.name, child.process.stdout), daemon=True
        )
        child.reader.start()

    def _schedule_restart(self, child: _Child, now: float) -> None:
        if child.process is not None and now - child.started >= self.stable_after:
            child.failures = 0
        delay = min(self.backoff_max, self.backoff_base * (2**child.failures))
        child.failures += 1
        child.restart_at = now + delay
        self.say("serve", f"{child.program.name} will be restarted in {delay:g} s")

    def _reap(self, now: float) -> None:
        for child in self.children:
            process = child.process
            if process is None or child.restart_at is not None:
                continue
            code = process.poll()
            if code is None:
                continue
            if child.reader is not None:
                child.reader.join(timeout=2)
            self.say("serve", f"{child.program.name} exited with code {code}")
            self._schedule_restart(child, now)

    # --- signals and stopping ----------------------------------------------------

    def _on_signal(self, signum, frame) -> None:
        if self._stop_requested.is_set():
            self._hurry.set()
        self._stop_requested.set()

    def request_stop(self) -> None:
        self._stop_requested.set()

    def _signal_children(self, signum: int, *, group: bool = False) -> None:
        for child in self.children:
            process = child.process
            if process is None or process.poll() is not None:
                continue
            try:
                if group:
                    os.killpg(process.pid, signum)
                else:
                    process.send_signal(signum)
            except (ProcessLookupError, PermissionError):
                pass

    def _stop_all(self) -> None:
        self.say("serve", "stopping: web, worker and scheduler get SIGTERM")
        self._signal_children(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        while time.monotonic() < deadline and not self._hurry.is_set():
            if all(c.process is None or c.process.poll() is not None for c in self.children):
                break
            time.sleep(self.poll)
        # Whatever is left — a child past the wait, and anything a child
        # started in its process group (gunicorn's workers) — is killed.
        leftover = [c.program.name for c in self.children if c.process and c.process.poll() is None]
        if leftover:
            self.say("serve", f"still running, killed: {', '.join(leftover)}")
        for child in self.children:
            if child.process is None:
                continue
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.process.pid, signal.SIGKILL)
            child.process.wait()
            if child.reader is not None:
                child.reader.join(timeout=2)
        self.say("serve", "stopped")

    def run(self) -> int:
        """Start every program and keep them running until SIGINT/SIGTERM."""
        previous = {
            signum: signal.signal(signum, self._on_signal)
            for signum in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            for child in self.children:
                self._start(child)
            while not self._stop_requested.wait(self.poll):
                now = time.monotonic()
                self._reap(now)
                for child in self.children:
                    if child.restart_at is not None and now >= child.restart_at:
                        self._start(child)
            self._stop_all()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return 0
