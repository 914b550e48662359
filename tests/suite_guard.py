"""A pytest plugin (registered by tests/conftest.py) that keeps the suite's
count honest: every collected test must actually run.

Counting. The run fails (exit status 1, "N not run" on pytest's closing
line) when fewer tests were executed than were collected (after -k/-m
deselection). A test counts as executed once it has an outcome: passed,
failed, skipped, xfailed or xpassed in its call, or failed/skipped in its
set-up. Under pytest-xdist the count is taken on the controller, from the
node ids the workers collected and the reports they send back; a run
stopped on purpose (-x, --maxfail, Ctrl-C) is reported but not failed
again. A summary line ``chanrong suite: collected N, executed M`` is
printed for .ci/run.

Skips. A test that cannot mean anything on this database declares it with
``@pytest.mark.postgres`` or ``@pytest.mark.sqlite`` (optionally with the
reason as argument); the guard skips it on the other database. Any other
skip (a missing tool, browser, package or file) is a failure when the
environment variable CI is true: the CI machine must have everything the
suite needs. Off CI such skips stay skips, for developers without Chromium.

Schemathesis node ids. schemathesis 4.32 makes one item per API operation
and names it ``test_x[GET /api/v1/...]``, but passes the bare function name
as ``originalname`` and no callspec; pytest 9.2 builds an item's node id
from ``originalname`` plus the callspec's id, so every operation's item got
the same node id, ``tests/api/test_schemathesis.py::test_x``. pytest-xdist
schedules by node id (``--dist loadfile`` keeps a dict per file keyed by
it), so under ``-n 2`` one item of each such test ran and the others were
silently dropped. The guard gives those items the node id their name says,
and the summary names any node id still shared by several tests.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable

import pytest
from _pytest.nodeid import NodeId
from django.db import connection

try:  # pytest >= 9: subtests are in pytest's core; their reports are not tests
    from _pytest.subtests import SubtestReport
except ImportError:  # pragma: no cover - older pytest
    SubtestReport = ()

#: marker name -> (connection.vendor it needs, how to say it)
DATABASE_MARKERS = {"postgres": ("postgresql", "PostgreSQL"), "sqlite": ("sqlite", "SQLite")}


def on_ci() -> bool:
    """CI=true (set on the CI machines and by .ci/run)."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


class _NotRun:
    """An entry of the terminal reporter's "not run" tally (closing line)."""

    count_towards_summary = True


class SuiteGuard:
    """The hooks; one instance per pytest process (controller and workers)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.is_xdist_worker = hasattr(config, "workerinput")
        self.collected: int | None = None
        self.shared_ids: list[str] = []
        self.executed = 0

    # -- collection -----------------------------------------------------

    def pytest_configure(self, config: pytest.Config) -> None:
        for name, (_vendor, label) in DATABASE_MARKERS.items():
            config.addinivalue_line(
                "markers", f"{name}(reason=None): runs on {label} only, skipped elsewhere"
            )

    @pytest.hookimpl(tryfirst=True)
    def pytest_itemcollected(self, item: pytest.Item) -> None:
        _give_schemathesis_item_its_own_node_id(item)

    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(self, collector: pytest.Collector):
        """A whole module skipped (module-level skip or importorskip) is a
        failure on CI too: its tests are not even counted as collected."""
        report = yield
        if report.skipped and on_ci():
            report.outcome = "failed"
            report.longrepr = f"skipped on CI, where nothing may be missing: {_reason(report)}"
        return report

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Skip a test declared for the other database (a skip marker, so that
        the skip is reported at the test's own line)."""
        for item in items:
            reason = _wrong_database(item)
            if reason is not None:
                item.add_marker(pytest.mark.skip(reason=reason))

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self._collected([item.nodeid for item in session.items])

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids: list[str]) -> None:
        """Controller under xdist: each worker collects the whole suite (xdist
        checks they agree); the tests to run are one worker's list."""
        self._collected(ids)

    def _collected(self, ids: list[str]) -> None:
        self.collected = len(ids)
        self.shared_ids = _shared(ids)

    # -- running --------------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = yield
        if (
            report.skipped
            and not hasattr(report, "wasxfail")
            and _wrong_database(item) is None
            and on_ci()
        ):
            report.outcome = "failed"
            report.longrepr = (
                "skipped on CI, where everything the suite needs must be installed "
                f"(declare a database-specific test with @pytest.mark.postgres or "
                f"@pytest.mark.sqlite): {_reason(report)}"
            )
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if isinstance(report, SubtestReport):
            return
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self.executed += 1
        elif report.when not in ("setup", "teardown"):
            self.executed += 1  # xdist's report for a test whose worker crashed

    # -- verdict --------------------------------------------------------

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self._skip_verdict():
            return
        not_run = self.collected - self.executed
        if not_run <= 0 or session.shouldstop or session.shouldfail:
            return
        if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
            reporter = self.config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter._add_stats("not run", [_NotRun()] * not_run)

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self._skip_verdict():
            return
        not_run = self.collected - self.executed
        terminalreporter.write_sep("-", "chanrong suite guard")
        terminalreporter.write_line(
            f"chanrong suite: collected {self.collected}, executed {self.executed}",
            red=not_run > 0,
        )
        if not_run > 0:
            terminalreporter.write_line(
                f"chanrong suite: {not_run} collected tests did not run", red=True
            )
        for nodeid in self.shared_ids:
            terminalreporter.write_line(
                f"chanrong suite: node id shared by several tests (xdist runs one): {nodeid}",
                red=True,
            )

    def _skip_verdict(self) -> bool:
        return self.is_xdist_worker or self.collected is None or self.config.option.collectonly


def _give_schemathesis_item_its_own_node_id(item: pytest.Item) -> None:
    """``path::test_x[GET /api/v1/...]`` instead of ``path::test_x`` for a
    schemathesis item that pytest gave the bare function's node id."""
    label = getattr(item, "operation_label", None)
    if label is None or getattr(item, "callspec", None) is not None:
        return
    expected = f"{item.parent.nodeid}::{item.name}"
    if item.nodeid == expected:
        return  # a schemathesis or pytest that gets it right already
    if not hasattr(item, "_id"):
        raise pytest.UsageError(
            f"tests/suite_guard.py: cannot set the node id of {item.name!r} on this pytest; "
            "schemathesis items would share one node id and xdist would run one of them"
        )
    item._id = NodeId.parse(expected)


def _wrong_database(item: pytest.Item) -> str | None:
    """The skip reason when the item is declared for a database this run is not on."""
    for name, (vendor, label) in DATABASE_MARKERS.items():
        marker = item.get_closest_marker(name)
        if marker is not None and connection.vendor != vendor:
            reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "")
            return f"{label} only{': ' + reason if reason else ''}"
    return None


def _shared(ids: Iterable[str]) -> list[str]:
    return sorted(nodeid for nodeid, n in Counter(ids).items() if n > 1)


def _reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)
