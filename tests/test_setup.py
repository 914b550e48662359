"""The set-up scripts, the gunicorn configuration and the CI entry point.

These run the scripts' pieces in isolation (no installs, no servers); the
whole flow, from a bare checkout to a served page, is what .ci/run and a
fresh `./scripts/up` exercise.
"""

from __future__ import annotations

import json
import os
import runpy
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = [ROOT / "scripts" / "up", ROOT / "scripts" / "test", ROOT / ".ci" / "run"]
BASH = shutil.which("bash") or "/bin/bash"


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_scripts_are_executable_strict_bash(path):
    assert path.stat().st_mode & stat.S_IXUSR, f"{path} is not executable"
    text = path.read_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    subprocess.run([BASH, "-n", str(path)], check=True)


def test_lib_parses():
    subprocess.run([BASH, "-n", str(ROOT / "scripts" / "lib.sh")], check=True)


def test_up_and_test_share_the_installation():
    """One install function, used by both: the steps are not duplicated."""
    for name in ("up", "test"):
        text = (ROOT / "scripts" / name).read_text()
        assert 'source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"' in text
        assert "ensure_installed" in text
        assert "pip install" not in text and "npm ci" not in text
    up = (ROOT / "scripts" / "up").read_text()
    assert "exec " in up and "gunicorn" in up and "runserver" not in up
    assert "demo --if-missing" in up


def _lib(script: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [BASH, "-c", f'source "{ROOT}/scripts/lib.sh"; {script}'],
        env=env,
        capture_output=True,
        text=True,
    )


def test_find_python_finds_a_new_enough_python():
    result = _lib("find_python", dict(os.environ))
    if result.returncode != 0:
        pytest.skip("no Python >= 3.12 besides the running one is reachable here")
    python = result.stdout.strip()
    version = subprocess.run(
        [python, "-c", "import sys; print(sys.version_info[:2] >= (3, 12))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.strip() == "True"


def test_find_python_honours_chanrong_python():
    result = _lib("find_python", dict(os.environ, CHANRONG_PYTHON=sys.executable))
    assert result.returncode == 0
    assert result.stdout.strip() == sys.executable


def _fake_bin(tmp_path: Path) -> Path:
    """A PATH with only old Pythons (they report 3.11) and the tools lib.sh needs."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("python3", "python3.12", "python3.13"):
        fake = bin_dir / name
        fake.write_text("#!/bin/sh\nexit 1\n")
        fake.chmod(0o755)
    for tool in ("ls", "sort", "cat", "rm", "dirname"):
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    return bin_dir


def test_no_new_enough_python_fails_with_a_clear_message(tmp_path):
    bin_dir = _fake_bin(tmp_path)
    env = {
        "PATH": str(bin_dir),
        "HOME": str(tmp_path),
        "CHANRONG_PYENV_DIRS": str(tmp_path / "no-pyenv"),
        "CHANRONG_VENV": str(tmp_path / "venv"),
    }
    result = _lib("ensure_venv", env)
    assert result.returncode != 0
    assert "no Python >= 3.12 found" in result.stderr
    assert "CHANRONG_PYTHON" in result.stderr
    assert not (tmp_path / "venv").exists()


def test_a_bad_chanrong_python_is_refused(tmp_path):
    bin_dir = _fake_bin(tmp_path)
    env = {"PATH": str(bin_dir), "CHANRONG_PYTHON": str(bin_dir / "python3")}
    result = _lib("find_python", env)
    assert result.returncode != 0
    assert "CHANRONG_PYTHON" in result.stderr


def _gunicorn_settings(monkeypatch, **env) -> dict:
    for key in (
        "CHANRONG_BIND",
        "CHANRONG_HOST",
        "CHANRONG_PORT",
        "CHANRONG_WORKERS",
        "CHANRONG_THREADS",
    ):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return runpy.run_path(str(ROOT / "chanrong" / "gunicorn.conf.py"))


def test_gunicorn_defaults(monkeypatch, tmp_path):
    conf = _gunicorn_settings(monkeypatch, CHANRONG_VAR_DIR=str(tmp_path))
    assert conf["bind"] == ["127.0.0.1:8000"]
    assert conf["worker_class"] == "gthread"
    assert 2 <= conf["workers"] <= 3
    assert conf["threads"] >= 2
    assert conf["accesslog"] == "-"
    assert conf["wsgi_app"] == "chanrong.wsgi:application"
    assert conf["control_socket"] == str(tmp_path / "gunicorn.ctl")


def test_gunicorn_port_and_bind_from_the_environment(monkeypatch, tmp_path):
    conf = _gunicorn_settings(
        monkeypatch, CHANRONG_VAR_DIR=str(tmp_path), CHANRONG_PORT="8765", CHANRONG_WORKERS="2"
    )
    assert conf["bind"] == ["127.0.0.1:8765"]
    assert conf["workers"] == 2
    conf = _gunicorn_settings(
        monkeypatch, CHANRONG_VAR_DIR=str(tmp_path), CHANRONG_BIND="unix:/tmp/x.sock"
    )
    assert conf["bind"] == ["unix:/tmp/x.sock"]


def test_gunicorn_knows_every_setting_the_file_sets(monkeypatch, tmp_path):
    gunicorn_config = pytest.importorskip("gunicorn.config")
    known = {setting.name for setting in gunicorn_config.KNOWN_SETTINGS}
    conf = _gunicorn_settings(monkeypatch, CHANRONG_VAR_DIR=str(tmp_path))
    names = {
        key
        for key, value in conf.items()
        if not key.startswith("_") and not callable(value) and type(value).__name__ != "module"
    }
    assert names - known == set()


def test_package_lock_matches_package_json():
    package = json.loads((ROOT / "package.json").read_text())
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["packages"][""]["dependencies"] == package["dependencies"]
    for name, version in package["dependencies"].items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version, name


def test_ci_runs_the_readme_command_on_both_databases():
    readme = (ROOT / "README.md").read_text()
    assert "./scripts/up" in readme and "./scripts/test" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert "./scripts/test" in ci
    assert "postgres://postgres@127.0.0.1:5432/test" in ci
    assert "-u DATABASE_URL" in ci
    assert '"$rc" -eq 5' in ci  # pytest's "no tests ran" is a failure
