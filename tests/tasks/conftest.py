"""Fixtures for the background-task tests."""

from __future__ import annotations

import signal

import pytest

DATABASE_TASKS = {
    "default": {"BACKEND": "chanrong.core.taskdb.DatabaseBackend", "QUEUES": ["default"]}
}
IMMEDIATE_TASKS = {
    "default": {
        "BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
        "QUEUES": ["default"],
    }
}


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = DATABASE_TASKS


@pytest.fixture
def immediate_tasks(settings):
    settings.TASKS = IMMEDIATE_TASKS


@pytest.fixture
def keep_signal_handlers():
    """Workers install their own SIGINT/SIGTERM handlers; put pytest's back."""
    names = [signal.SIGINT, signal.SIGTERM] + (
        [signal.SIGQUIT] if hasattr(signal, "SIGQUIT") else []
    )
    saved = {name: signal.getsignal(name) for name in names}
    yield
    for name, handler in saved.items():
        signal.signal(name, handler)


def run_db_worker() -> None:
    """The database backend's worker, once: run what is due, then exit.

    In-process, inside the test's transaction: the worker's
    close_old_connections() would close a connection that is inside an
    atomic block (PostgreSQL), so it is a no-op here."""
    from unittest import mock

    from django.core.management import call_command

    with mock.patch(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    ):
        call_command(
            "db_worker", batch=True, startup_delay=False, interval=0, reload=False, verbosity=0
        )
