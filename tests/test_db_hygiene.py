"""The database hygiene plugin (tests/db_hygiene.py) on a small suite run by
a real pytest with xdist against PostgreSQL: a connection left open by a
test makes pytest-django fail to drop the test database; the plugin drops
it and fails the run, naming it. Without a leak the run passes and says
nothing. (The fix for the leak it was written for, a browser test body's
own connection, is exercised by tests/imports/test_browser.py on
PostgreSQL: a leak there now fails the run.)"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.postgres("test databases are dropped by PostgreSQL's DROP DATABASE")

CONFTEST = """
from tests.db_hygiene import DatabaseHygiene


def pytest_configure(config):
    config.pluginmanager.register(DatabaseHygiene(config), "chanrong-db-hygiene")
"""

SUITE = """
import threading

import pytest
from django.db import connection

LEAK = {leak}
_held = threading.Event()


def hold_a_connection():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    _held.set()
    threading.Event().wait()  # never closes it


@pytest.mark.django_db(transaction=True)
def test_uses_the_database():
    if LEAK:
        threading.Thread(target=hold_a_connection, daemon=True).start()
        assert _held.wait(timeout=60)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
"""


def run_suite(tmp_path: Path, *, leak: bool) -> tuple[int, str, str]:
    url = urlsplit(os.environ["DATABASE_URL"])
    name = f"{url.path.strip('/')}_hygiene"
    (tmp_path / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    (tmp_path / "test_db.py").write_text(textwrap.dedent(SUITE.format(leak=leak)))
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "chanrong.settings",
        "DATABASE_URL": urlunsplit(url._replace(path=f"/{name}")),
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "1"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return result.returncode, result.stdout + result.stderr, f"test_{name}_gw0"


def database_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return cursor.fetchone() is not None


@pytest.mark.django_db
def test_a_leaked_test_database_is_dropped_and_fails_the_run(tmp_path):
    code, output, name = run_suite(tmp_path, leak=True)
    assert code == 1, output
    assert "is being accessed by other users" in output  # pytest-django could not drop it
    assert f"test database {name} was left behind" in output, output
    assert "1 passed" in output and "1 leaked test database" in output, output
    assert not database_exists(name)


@pytest.mark.django_db
def test_without_a_leak_the_run_passes_quietly(tmp_path):
    code, output, name = run_suite(tmp_path, leak=False)
    assert code == 0, output
    assert "left behind" not in output and "being accessed" not in output, output
    assert not database_exists(name)
