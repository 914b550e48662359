"""A pytest plugin (registered by tests/conftest.py) that keeps the suite's
count honest: every collected test must actually run.

Schemathesis node ids. schemathesis 4.32 makes one item per API operation
and names it ``test_x[GET /api/v1/...]``, but passes the bare function name
as ``originalname`` and no callspec; pytest 9.2 builds an item's node id
from ``originalname`` plus the callspec's id, so every operation's item got
the same node id, ``tests/api/test_schemathesis.py::test_x``. pytest-xdist
schedules by node id (``--dist loadfile`` keeps a dict per file keyed by
it), so under ``-n 2`` one item of each such test ran and the others were
silently dropped. The guard gives those items the node id their name says.
"""

from __future__ import annotations

import pytest
from _pytest.nodeid import NodeId


class SuiteGuard:
    """The hooks; one instance per pytest process (controller and workers)."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_itemcollected(self, item: pytest.Item) -> None:
        _give_schemathesis_item_its_own_node_id(item)


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
