"""Tasks for the recovery tests: each writes a marker file (its pid) when it
starts, then waits until a release file exists, so a test can kill the
worker while the task is surely running."""

from __future__ import annotations

import os
import time
from pathlib import Path

from django.tasks import task

from chanrong.core.tasking import rerunnable


def _block(marker: str, release: str) -> str:
    Path(marker).write_text(str(os.getpid()))
    deadline = time.monotonic() + 120
    while not Path(release).exists():
        if time.monotonic() > deadline:
            raise TimeoutError("never released")
        time.sleep(0.05)
    return "released"


@rerunnable
@task
def block_rerunnable(marker: str, release: str) -> str:
    """Safe to run twice."""
    return _block(marker, release)


@task
def block_once(marker: str, release: str) -> str:
    """Not marked rerunnable: a lost run must be failed, not repeated."""
    return _block(marker, release)
