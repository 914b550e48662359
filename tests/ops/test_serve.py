"""`chanrong serve` for real: web, worker and scheduler as child processes on
a free port and a temporary SQLite database; a dead child is restarted; one
SIGINT (Ctrl-C) stops them all."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import urllib.request

from .procs import ROOT, child_env, migrated_sqlite, wait_for


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own server
            return response.status == 200
    except OSError:
        return False


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _pids(log: str) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for name, pid in re.findall(r"^serve\s+\| (\w+) started \(pid (\d+)\)", log, re.M):
        found.setdefault(name, []).append(int(pid))
    return found


def test_serve_runs_web_worker_and_scheduler_and_stops_them_on_sigint(
    tmp_path, _sqlite_template_dir
):
    restarted = None
    database = tmp_path / "db" / "chanrong.sqlite3"
    env = child_env(tmp_path, migrated_sqlite(_sqlite_template_dir, database))
    env.update(CHANRONG_WORKERS="1", CHANRONG_THREADS="2")
    port = _free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log_file:
        serve = subprocess.Popen(
            [sys.executable, "-m", "chanrong", "serve", "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    log = lambda: log_path.read_text(errors="replace")  # noqa: E731

    def rows(sql: str, *params) -> list[tuple]:
        with sqlite3.connect(database, timeout=30) as db:
            return db.execute(sql, params).fetchall()

    try:
        wait_for(lambda: _answers(f"http://127.0.0.1:{port}/api/v1/health"), what="the web")
        wait_for(
            lambda: (
                {k for (k,) in rows("SELECT kind FROM ops_processheartbeat")}
                >= {"worker", "scheduler"}
            ),
            what="worker and scheduler heartbeats",
        )
        # The scheduler's first tick enqueued the every-minute jobs; the worker ran them.
        wait_for(
            lambda: rows(
                "SELECT 1 FROM django_tasks_database_dbtaskresult WHERE status = 'SUCCESSFUL' "
                "AND task_path = 'chanrong.ops.tasks.recover_stale_tasks'"
            ),
            what="a periodic job run by the worker",
        )
        pids = _pids(log())
        assert set(pids) == {"web", "worker", "scheduler"}
        assert re.search(rf"^web\s+\| .*Listening at: http://127\.0\.0\.1:{port}", log(), re.M)
        assert re.search(r"^scheduler\s+\| enqueued\s+chanrong\.", log(), re.M)
        assert re.search(r"^worker\s+\| .*state=SUCCESSFUL", log(), re.M)

        # A worker that dies is started again.
        os.kill(pids["worker"][0], signal.SIGKILL)
        wait_for(lambda: len(_pids(log()).get("worker", [])) == 2, what="the worker's restart")
        assert re.search(r"^serve\s+\| worker exited with code -9", log(), re.M)
        restarted = _pids(log())["worker"][1]
        wait_for(
            lambda: rows("SELECT 1 FROM ops_processheartbeat WHERE pid = ?", restarted),
            what="the restarted worker's heartbeat",
        )
    finally:
        serve.send_signal(signal.SIGINT)
        code = serve.wait(timeout=120)
    assert code == 0, log()
    assert re.search(r"^serve\s+\| stopped$", log(), re.M)
    for name, started in _pids(log()).items():
        for pid in started:
            assert not _group_alive(pid), f"{name} (pid {pid}) or its children still run"
    # The restarted worker said it stopped (a graceful stop, not a kill).
    assert rows(
        "SELECT stopped_at IS NOT NULL FROM ops_processheartbeat WHERE kind = 'worker' AND pid = ?",
        restarted,
    ) == [(1,)], log()
