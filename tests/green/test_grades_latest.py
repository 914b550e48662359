"""`latest_grades`, what finance.carbon (product conditions, matching) reads:
the latest year's grade of each enterprise, in one statement whatever the
number of enterprises asked for (one array parameter on PostgreSQL)."""

from __future__ import annotations

from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chanrong.green.models import CarbonGrade, GradeBasis
from chanrong.green.services.grades import latest_grades


def test_latest_grades_keeps_the_latest_year_of_each(world):
    year = timezone.localdate().year
    for enterprise, grades in ((world.ent, {year - 2: 5, year - 1: 2}), (world.ent2, {year: 3})):
        for y, g in grades.items():
            CarbonGrade.objects.create(
                enterprise=enterprise,
                year=y,
                grade=g,
                intensity=Decimal("0.1"),
                division="C34",
                basis=GradeBasis.NATIONAL,
                peers=10,
                bounds=["0.1", "0.2", "0.3", "0.4"],
            )
    ids = [world.ent.pk, world.ent2.pk, world.ent_js.pk]
    with CaptureQueriesContext(connection) as queries:
        found = latest_grades(ids)
    assert found == {world.ent.pk: 2, world.ent2.pk: 3}
    assert len(queries) == 1
    assert latest_grades([]) == {}


def test_latest_grades_agrees_with_the_old_rule(world):
    """The old rule: every grade of the enterprises, latest year first, the first kept."""
    year = timezone.localdate().year
    enterprises = [world.ent, world.ent2, world.ent_js]
    for n, enterprise in enumerate(enterprises):
        for k in range(n + 1):
            CarbonGrade.objects.create(
                enterprise=enterprise,
                year=year - k * 2,
                grade=1 + (n + k) % 5,
                intensity=Decimal("0.1"),
                basis=GradeBasis.NATIONAL,
                division="C34",
                peers=10,
                bounds=["0.1", "0.2", "0.3", "0.4"],
            )
    ids = [e.pk for e in enterprises]
    old: dict[int, int] = {}
    for eid, grade in (
        CarbonGrade.objects.filter(enterprise_id__in=ids)
        .order_by("enterprise_id", "-year")
        .values_list("enterprise_id", "grade")
    ):
        old.setdefault(eid, grade)
    assert latest_grades(ids) == old
    assert latest_grades(ids[:1]) == {ids[0]: old[ids[0]]}
