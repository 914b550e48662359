"""The layering of docs/architecture.md, checked from the code's own imports
(import-linter's contracts in pyproject.toml), and the matching engine's
independence from the ORM checked by importing it where Django is not set up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Every contract declared in pyproject.toml ran and held (a contract that
    # failed to load would make the count smaller).
    declared = (
        (ROOT / "pyproject.toml")
        .read_text(encoding="utf-8")
        .count("[[tool.importlinter.contracts]]")
    )
    assert declared >= 5
    assert f"Contracts: {declared} kept, 0 broken." in result.stdout


def test_matching_engine_imports_without_django_set_up():
    """Arrays in, arrays out: the engine, the batch and the feature tables load
    with no settings module, and bring in no ORM and no other app."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    code = (
        "import sys\n"
        "import chanrong.matching.batch, chanrong.matching.engine, chanrong.matching.features\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('django.db', 'django.conf')) or "
        "(m.startswith('chanrong.') and m not in {"
        "'chanrong.matching', 'chanrong.matching.batch', 'chanrong.matching.engine', "
        "'chanrong.matching.features', 'chanrong.finance', 'chanrong.finance.eligibility'}))\n"
        "print(loaded)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
