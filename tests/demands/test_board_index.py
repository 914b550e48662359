"""The 督办看板's open list is read in deadline order off a partial index of
the open dispatches (demands 0007, issue 20): its definition on both
databases, not the plan a test-sized table gets (PostgreSQL's choice; the
figures are in docs/performance.md)."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_open_dispatches_are_indexed_in_deadline_order():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "demands_dispatch")
        index = constraints["dispatch_open_due"]
        assert index["index"] and index["columns"] == ["claim_due_at", "id"]
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'dispatch_open_due'")
        else:
            cursor.execute("SELECT sql FROM sqlite_master WHERE name = 'dispatch_open_due'")
        (definition,) = cursor.fetchone()
    # Only the open states: a dispatch that was answered, declined or expired is not in it.
    assert "WHERE" in definition
    assert "'dispatched'" in definition and "'claimed'" in definition
    assert "'offered'" not in definition
