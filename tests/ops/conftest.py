from __future__ import annotations

import pytest
from django.db import connection

from .procs import child_env, database_url_of_test_db, migrated_sqlite


@pytest.fixture(scope="session")
def _sqlite_template_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("ops-sqlite-template")


@pytest.fixture
def child_db(tmp_path, _sqlite_template_dir):
    """(env, vendor) for child processes: on SQLite a migrated database file
    of this test's own; on PostgreSQL the test database itself (the test
    must be marked transactional, so that the children see its rows)."""
    if connection.vendor == "sqlite":
        url = migrated_sqlite(_sqlite_template_dir, tmp_path / "db" / "chanrong.sqlite3")
    else:
        url = database_url_of_test_db()
    return child_env(tmp_path, url)
