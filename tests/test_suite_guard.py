"""The suite guard (tests/suite_guard.py), on small suites run by a real
pytest in a subprocess, with and without pytest-xdist: schemathesis cases
all run under xdist, a run that executes fewer tests than it collected
fails, and on CI only a skip declared for the other database stays a skip."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent

GUARD_CONFTEST = """
from tests.suite_guard import SuiteGuard


def pytest_configure(config):
    config.pluginmanager.register(SuiteGuard(config), "chanrong-suite-guard")
"""


def run_suite(tmp_path: Path, files: dict[str, str], *args: str, ci: bool = False):
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = -ra -p no:cacheprovider\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "chanrong.settings"}
    env.pop("CI", None)
    if ci:
        env["CI"] = "true"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    closing = [line for line in result.stdout.splitlines() if line.startswith("=")]
    return result.returncode, result.stdout + result.stderr, closing[-1] if closing else ""


SCHEMATHESIS_SUITE = """
import schemathesis

operation = {"responses": {"200": {"description": "ok"}}}
schema = schemathesis.openapi.from_dict({
    "openapi": "3.0.2",
    "info": {"title": "t", "version": "1"},
    "paths": {"/a": {"get": operation}, "/b": {"get": operation, "post": operation}},
})
schema.config.generation.update(max_examples=1, deterministic=True, database="none")


@schema.parametrize()
def test_operation(case):
    assert case.operation.label.split()[1] in ("/a", "/b")
"""


@pytest.mark.sqlite("a pytest plugin run on a synthetic suite: the database changes nothing here")
def test_every_schemathesis_case_runs_under_xdist(tmp_path):
    code, output, closing = run_suite(
        tmp_path,
        {"conftest.py": GUARD_CONFTEST, "test_api.py": SCHEMATHESIS_SUITE},
        "-n",
        "2",
        "--dist",
        "loadfile",
        "-v",
    )
    assert code == 0, output
    assert "3 passed" in closing, output
    assert "chanrong suite: collected 3, executed 3" in output
    assert "PASSED test_api.py::test_operation[POST /b]" in output, output


SHARED_ID_CONFTEST = (
    GUARD_CONFTEST
    + '''

def pytest_collection_modifyitems(items):
    """Two tests under one node id, as schemathesis' items had."""
    items[1]._id = items[0]._id
'''
)

TWO_TESTS = """
def test_one():
    pass


def test_two():
    pass
"""


@pytest.mark.sqlite("a pytest plugin run on a synthetic suite: the database changes nothing here")
def test_a_run_executing_fewer_tests_than_it_collected_fails(tmp_path):
    code, output, closing = run_suite(
        tmp_path,
        {"conftest.py": SHARED_ID_CONFTEST, "test_two.py": TWO_TESTS},
        "-n",
        "2",
        "--dist",
        "loadfile",
    )
    assert code == 1, output
    assert "1 passed" in closing and "1 not run" in closing, output
    assert "chanrong suite: collected 2, executed 1" in output
    assert "node id shared by several tests (xdist runs one): test_two.py::test_one" in output


@pytest.mark.sqlite("a pytest plugin run on a synthetic suite: the database changes nothing here")
def test_the_same_suite_without_the_shared_id_passes(tmp_path):
    code, output, closing = run_suite(
        tmp_path, {"conftest.py": GUARD_CONFTEST, "test_two.py": TWO_TESTS}, "-n", "2"
    )
    assert code == 0, output
    assert "2 passed" in closing and "not run" not in closing, output
    assert "chanrong suite: collected 2, executed 2" in output


OTHER = "sqlite" if connection.vendor == "postgresql" else "postgres"
SKIPS = f"""
import pytest


@pytest.mark.{OTHER}("a race only the other database can show")
def test_declared_for_the_other_database():
    pass


def test_missing_a_tool():
    pytest.skip("frobnicate is not installed")


def test_runs():
    pass
"""


def test_off_ci_every_skip_stays_a_skip(tmp_path):
    code, output, closing = run_suite(
        tmp_path, {"conftest.py": GUARD_CONFTEST, "test_skips.py": SKIPS}, "-p", "no:xdist"
    )
    assert code == 0, output
    assert "1 passed, 2 skipped" in closing, output
    assert "chanrong suite: collected 3, executed 3" in output


def test_on_ci_only_a_declared_database_skip_stays_a_skip(tmp_path):
    code, output, closing = run_suite(
        tmp_path,
        {"conftest.py": GUARD_CONFTEST, "test_skips.py": SKIPS},
        "-n",
        "2",
        ci=True,
    )
    assert code == 1, output
    assert "1 failed, 1 passed, 1 skipped" in closing, output
    assert "only: a race only the other database can show" in output
    assert "skipped on CI" in output and "frobnicate is not installed" in output
    assert "FAILED test_skips.py::test_missing_a_tool" in output
