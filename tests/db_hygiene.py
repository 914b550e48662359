"""A pytest plugin (registered by tests/conftest.py): no database connection
outlives its test, and no PostgreSQL test database outlives the run.

The leak. Django keeps a connection per *context* (asgiref's Local, backed
by contextvars), not per thread. Playwright's sync API (the `browser`
fixture) switches greenlets while it starts, and the test body then runs in
another context than the fixtures: an ORM call in a browser test's body
(`run_db_worker()` in tests/imports/test_browser.py) opened a second
connection, in the main thread, that nobody closed. pytest-django closes the
fixtures' connection and drops the test database, which PostgreSQL refuses
while that one is open ("database test_…_gw0 is being accessed by other
users"), and the database stayed. So, after each test's call, any
connection of the body's context that is not the fixtures' own is closed.

The safety net. At the end of the run (on the xdist controller, or in the
single process) any test database of this run still present on PostgreSQL
is dropped (WITH (FORCE)), and the run fails with a line naming it: a leak
that slipped past the fix above must be found, not hidden. Not with
--reuse-db, which keeps the database on purpose.
"""

from __future__ import annotations

import pytest
from django.db import connections
from pytest_django.plugin import blocking_manager_key


class _Leaked:
    """An entry of the terminal reporter's tally (pytest's closing line)."""

    count_towards_summary = True


class DatabaseHygiene:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.is_xdist_worker = hasattr(config, "workerinput")
        self.workers: list[str] = []
        self.dropped: list[str] = []
        self._fixture_connections: dict[str, object] = {}

    # -- connections of a test body's own context ------------------------

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item):
        # Before any fixture: the context that fixtures (and pytest-django's
        # teardown) use.
        self._fixture_connections = {alias: connections[alias] for alias in connections}
        return (yield)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item):
        try:
            return (yield)
        finally:
            for alias in connections:
                own = connections[alias]
                if own is not self._fixture_connections.get(alias):
                    own.close()

    # -- the safety net ---------------------------------------------------

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids) -> None:
        self.workers.append(node.gateway.id)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.is_xdist_worker or self.config.getoption("reuse_db", default=False):
            return
        connection = connections["default"]
        if connection.vendor != "postgresql":
            return
        base = connection.creation._get_test_db_name()
        names = [f"{base}_{worker}" for worker in self.workers] or [base]
        with self.config.stash[blocking_manager_key].unblock():
            with connection._nodb_cursor() as cursor:
                cursor.execute("SELECT datname FROM pg_database WHERE datname = ANY(%s)", [names])
                leftover = sorted(row[0] for row in cursor.fetchall())
                for name in leftover:
                    cursor.execute(f"DROP DATABASE {connection.ops.quote_name(name)} WITH (FORCE)")
            connection.close()
        self.dropped = leftover
        if leftover and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if leftover and reporter is not None:
            reporter._add_stats("leaked test database", [_Leaked()] * len(leftover))

    def pytest_terminal_summary(self, terminalreporter) -> None:
        for name in self.dropped:
            terminalreporter.write_line(
                f"chanrong suite: test database {name} was left behind (a connection stayed "
                "open); dropped it now. Find the connection: tests/db_hygiene.py",
                red=True,
            )
