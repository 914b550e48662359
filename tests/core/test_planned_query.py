"""core.lookups.PlannedQuery with one int key: a values_list query compiled
once, run with only its key substituted, gives the rows the queryset gives,
for every key, as the rows are now (it keeps SQL, never results); a query it
cannot plan goes through the ORM each time. On both databases. (Several keys,
lists and instances: tests/demands/test_compiled_lookups.py.)"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from chanrong.core import lookups
from chanrong.core.lookups import PlannedQuery
from chanrong.matching.adapter import AnyOf
from chanrong.registry.models import Enterprise, Qualification

FIELDS = ("pk", "name", "region_id", "region__name", "revenue", "founded_on", "size")


def _enterprise_rows(key):
    return Enterprise.objects.filter(pk=key).values_list(*FIELDS)


def _qualification_rows(key):
    return (
        Qualification.objects.filter(enterprise_id=key)
        .order_by("-valid_from", "kind")
        .values_list("enterprise_id", "kind", "valid_from", "valid_until", "status")
    )


class _one:
    """A PlannedQuery of one int key, as matching's adapter uses it."""

    def __init__(self, build):
        self.query = PlannedQuery(lambda _context, key: build(key))

    def rows(self, key: int) -> list:
        return self.query.rows("one", None, key)


def _qualify(enterprise, kind: str, start: date, until: date | None = None) -> None:
    Qualification.objects.create(
        enterprise=enterprise,
        kind=kind,
        issuer="科技厅",
        valid_from=start,
        valid_until=until,
        status="verified",
    )


@pytest.mark.django_db
def test_the_rows_of_each_key_as_the_queryset_gives_them(world):
    Enterprise.objects.filter(pk=world.ent.pk).update(founded_on=date(2009, 3, 1))
    Enterprise.objects.filter(pk=world.ent2.pk).update(revenue=Decimal("123.45"))
    built: list[int] = []

    def build(key):
        built.append(key)
        return _enterprise_rows(key)

    query = _one(build)
    for enterprise in (world.ent, world.ent2, world.ent_js, world.ent):
        assert query.rows(enterprise.pk) == list(_enterprise_rows(enterprise.pk))
    (row,) = query.rows(world.ent.pk)
    # The compiler's converters ran: a date and a Decimal, not text (SQLite).
    assert row[5] == date(2009, 3, 1) and isinstance(row[4], Decimal)
    assert query.rows(world.ent2.pk)[0][4] == Decimal("123.45")
    assert query.rows(2_000_000_000) == []
    # Built (and compiled) once, with the stand-in, not once per key.
    assert built == [lookups.SENTINELS[int]]


@pytest.mark.django_db
def test_rows_changed_after_compiling_are_read(world):
    """It keeps the SQL, not the answer: later rows and edits are seen."""
    today = date(2026, 6, 1)
    query = _one(_qualification_rows)
    assert query.rows(world.ent.pk) == []
    _qualify(world.ent, "high_tech", today - timedelta(days=10))
    _qualify(world.ent, "tech_sme", today - timedelta(days=3), today + timedelta(days=300))
    _qualify(world.ent2, "specialised", today)
    with CaptureQueriesContext(connection) as queries:
        rows = query.rows(world.ent.pk)
    assert len(queries) == 1
    assert rows == list(_qualification_rows(world.ent.pk))
    assert [r[1] for r in rows] == ["tech_sme", "high_tech"]
    assert rows[0][3] == today + timedelta(days=300)
    Qualification.objects.filter(enterprise=world.ent, kind="tech_sme").delete()
    assert [r[1] for r in query.rows(world.ent.pk)] == ["high_tech"]
    assert [r[1] for r in query.rows(world.ent2.pk)] == ["specialised"]


@pytest.mark.django_db
def test_a_query_it_cannot_plan_goes_through_the_orm(world):
    """The key twice among the parameters, inside an array parameter
    (PostgreSQL's = ANY), or a queryset of instances: run as a queryset,
    every time, and still right."""
    twice = _one(lambda key: Enterprise.objects.filter(pk=key, id__gte=key).values_list(*FIELDS))
    # Columns the compiler puts in another order than the values_list's.
    reordered = _one(
        lambda key: (
            Enterprise.objects.filter(pk=key)
            .annotate(doubled=F("employees") * 2)
            .values_list("doubled", "name")
        )
    )
    queries = [twice, reordered]
    if connection.vendor == "postgresql":
        in_array = _one(
            lambda key: Enterprise.objects.filter(AnyOf(F("pk"), [key])).values_list(*FIELDS),
        )
        queries.append(in_array)
    for enterprise in (world.ent, world.ent_js):
        assert twice.rows(enterprise.pk) == list(_enterprise_rows(enterprise.pk))
        assert reordered.rows(enterprise.pk) == [
            (
                enterprise.employees * 2 if enterprise.employees is not None else None,
                enterprise.name,
            )
        ]
        if connection.vendor == "postgresql":
            assert in_array.rows(enterprise.pk) == list(_enterprise_rows(enterprise.pk))
    assert [list(q.query._plans().values()) for q in queries] == [[lookups._UNPLANNED]] * len(
        queries
    )


@pytest.mark.django_db
def test_forget_plans_compiles_again(world):
    built: list[int] = []

    def build(key):
        built.append(key)
        return _enterprise_rows(key)

    query = _one(build)
    query.rows(world.ent.pk)
    query.rows(world.ent2.pk)
    lookups.forget_plans()
    assert query.rows(world.ent_js.pk) == list(_enterprise_rows(world.ent_js.pk))
    assert built == [lookups.SENTINELS[int]] * 2
