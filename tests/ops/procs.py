"""Running chanrong in real child processes against a real database."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_url_of_test_db() -> str:
    """The URL of the test database this pytest process uses (PostgreSQL)."""
    settings_dict = connection.settings_dict
    url = "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(
        **{k: settings_dict[k] or "" for k in ("USER", "HOST", "PORT", "NAME")}
    )
    if settings_dict.get("PASSWORD"):
        url = url.replace("@", f":{settings_dict['PASSWORD']}@", 1)
    return url


def child_env(var_dir: Path, database_url: str, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CHANRONG_VAR_DIR": str(var_dir),
        "CHANRONG_TASK_BACKEND": "database",
        "CHANRONG_PLAIN_STATIC": "1",
        "CHANRONG_AUDIT_ANCHORS": str(var_dir / "anchors.jsonl"),
        "PYTHONUNBUFFERED": "1",
        **extra,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def chanrong(env: dict[str, str], *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "chanrong", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def django_json(env: dict[str, str], code: str):
    """Run Python in a chanrong shell (child process); `code` sets `out`,
    printed as JSON on the last line."""
    done = chanrong(env, "shell", "-c", f"import json\n{code}\nprint(json.dumps(out, default=str))")
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def start_worker(env: dict[str, str], *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "chanrong",
            "db_worker",
            "--no-reload",
            "--no-startup-delay",
            "--interval",
            "0.2",
            *extra,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for(predicate, *, timeout: float = 90, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def migrated_sqlite(cache: Path, target: Path) -> str:
    """A migrated SQLite database at `target` (migrated once into `cache`)."""
    template = cache / "template.sqlite3"
    if not template.exists():
        cache.mkdir(parents=True, exist_ok=True)
        done = chanrong(child_env(cache, f"sqlite:///{template}"), "migrate", "--noinput", "-v0")
        assert done.returncode == 0, done.stdout + done.stderr
        # One file: fold the WAL in so that a plain copy is complete.
        import sqlite3

        with sqlite3.connect(template) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            db.execute("PRAGMA journal_mode=DELETE")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"
