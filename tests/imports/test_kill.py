"""A process killed in the middle of an import leaves the database as it was."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from chanrong.core.importing.services import visible_job
from chanrong.core.models import ImportJob
from chanrong.registry.models import Enterprise

ROOT = Path(__file__).resolve().parents[2]
ROWS = 300


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tests.imports.kill_import", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.sqlite("the SQLite variant")
def test_kill_mid_import_on_sqlite(tmp_path):
    database = tmp_path / "kill.sqlite3"
    done = _run({"DATABASE_URL": f"sqlite:///{database}"}, "clerk", str(ROWS), "--prepare")
    assert done.returncode == -signal.SIGKILL, done.stdout + done.stderr
    assert f"killing after inserting {ROWS} rows" in done.stdout
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT COUNT(*) FROM registry_enterprise").fetchone() == (0,)
        assert db.execute("SELECT status, stage FROM core_importjob").fetchall() == [
            ("running", "writing")
        ]
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


@pytest.mark.postgres("the PostgreSQL variant")
@pytest.mark.django_db(transaction=True)
def test_kill_mid_import_on_postgresql(world):
    before = Enterprise.objects.count()
    settings_dict = connection.settings_dict
    url = "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(
        **{k: settings_dict[k] or "" for k in ("USER", "HOST", "PORT", "NAME")}
    )
    if settings_dict.get("PASSWORD"):
        url = url.replace("@", f":{settings_dict['PASSWORD']}@", 1)
    done = _run({"DATABASE_URL": url}, "gov_jiashan", str(ROWS))
    assert done.returncode == -signal.SIGKILL, done.stdout + done.stderr
    assert Enterprise.objects.count() == before
    job = ImportJob.objects.get()
    assert (job.status, job.stage) == ("running", "writing")
    # Once it has been silent long enough the job is marked failed when viewed.
    ImportJob.objects.filter(pk=job.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    job = visible_job(world.user("gov_jiashan"), job.pk)
    assert job.status == "failed" and "未写入任何数据" in job.message
