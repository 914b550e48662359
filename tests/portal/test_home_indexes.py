"""The indexes behind the government home page's counts (issue 20): registry
0011 on PostgreSQL (an enterprise's region by its key; sizes by region) and
risk 0011's partial index of the open warnings' enterprises (both databases).
Their definitions, not the plans a test-sized table gets (PostgreSQL's choice;
the scale-100 figures are in docs/performance.md)."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def _definition(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [name])
        row = cursor.fetchone()
    assert row is not None, f"index {name} is missing"
    return row[0]


@pytest.mark.postgres("INCLUDE and operator classes")
def test_the_enterprise_key_index_carries_the_region():
    definition = _definition("enterprise_id_region")
    assert "ON public.registry_enterprise USING btree (id) INCLUDE (region_id)" in definition


@pytest.mark.postgres("operator classes")
def test_sizes_are_indexed_by_region_prefix():
    definition = _definition("enterprise_size_region")
    assert "registry_enterprise USING btree (size, region_id varchar_pattern_ops)" in definition


@pytest.mark.postgres("the partial index's predicate as PostgreSQL states it")
def test_open_warnings_are_indexed_by_enterprise():
    definition = _definition("alert_open_enterprise")
    assert (
        "risk_alert USING btree (enterprise_id) WHERE ((state)::text = 'open'::text)" in definition
    )


def test_the_open_warnings_index_is_partial_on_both_databases():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "risk_alert")
    index = constraints["alert_open_enterprise"]
    assert index["index"] and index["columns"] == ["enterprise_id"]
    # Only the open warnings: a row in another state is not in the index.
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT sql FROM sqlite_master WHERE name = 'alert_open_enterprise'")
            (sql,) = cursor.fetchone()
        assert "WHERE" in sql and "'open'" in sql
