"""The 督办看板's open and overdue lists are read in deadline order off
partial indexes of the open dispatches (demands 0007 and 0008, issue 20):
their definitions on both databases, not the plan a test-sized table gets (PostgreSQL's choice; the
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


def test_overdue_dispatches_are_indexed_by_their_stage_deadline():
    """The overdue list's order (sla._due_expression): the claim deadline
    for a dispatch not yet claimed, the decide deadline for a claimed one."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'dispatch_open_stage_due'"
            )
        else:
            cursor.execute("SELECT sql FROM sqlite_master WHERE name = 'dispatch_open_stage_due'")
        row = cursor.fetchone()
    assert row is not None, "dispatch_open_stage_due is missing"
    definition = " ".join(row[0].replace('"', "").split())
    assert "CASE WHEN" in definition
    assert "THEN claim_due_at ELSE decide_due_at END" in definition
    assert "WHERE" in definition and "'claimed'" in definition and "'offered'" not in definition
