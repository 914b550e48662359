"""The covering index of the government's region filter (registry 0010,
issue 20): on PostgreSQL a county's enterprise counts are answered from
the index alone; SQLite has no such index (no INCLUDE) and needs none."""

from __future__ import annotations

import pytest
from django.db import connection

from chanrong.registry.models import Enterprise

pytestmark = pytest.mark.django_db


@pytest.mark.postgres("INCLUDE and operator classes")
def test_a_region_count_is_an_index_only_scan(world):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'enterprise_region_cover'"
        )
        (definition,) = cursor.fetchone()
    assert "varchar_pattern_ops" in definition and "INCLUDE (id, size, industry_id)" in definition
    queryset = (
        Enterprise.objects.filter(region__code__startswith="330421").order_by().values("size")
    )
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)  # noqa: S608 (Django's own statement)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan using enterprise_region_cover" in plan, plan
