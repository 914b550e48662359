"""The covering index of the government's region filter (registry 0010,
issue 20): on PostgreSQL a county's enterprise counts are answered from
the index alone; SQLite has no such index (no INCLUDE) and needs none."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


@pytest.mark.postgres("INCLUDE and operator classes")
def test_the_region_filter_has_a_covering_index(world):
    """The definition (which plan PostgreSQL picks on a test-sized table is its
    own choice: the scale-100 figures are in docs/performance.md)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'enterprise_region_cover'"
        )
        (definition,) = cursor.fetchone()
    assert "varchar_pattern_ops" in definition and "INCLUDE (id, size, industry_id)" in definition
