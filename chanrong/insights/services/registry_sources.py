"""Indicators the registry answers, computed by insights itself (insights sits
above registry and may read it):

- 国家高新技术企业(个) (时点): enterprises of the region subtree holding a
  verified 高新技术企业 qualification (registry QualificationKind.HIGH_TECH)
  valid at the date (valid_from ≤ D ≤ valid_until, an open end never
  expiring). An enterprise holding two overlapping certificates counts once;
  a declared certificate not yet verified does not count.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import Count

from chanrong.registry.models import Qualification, QualificationKind

from ..catalogue import SOURCE_HIGH_TECH


def _high_tech(prefix: str, on: date):
    qs = Qualification.objects.filter(kind=QualificationKind.HIGH_TECH).verified().active_on(on)
    if prefix:
        qs = qs.filter(enterprise__region__code__startswith=prefix)
    return qs


def high_tech_by_region(prefix: str, start: date | None, end: date) -> dict[str, Decimal]:
    rows = (
        _high_tech(prefix, end)
        .values("enterprise__region_id")
        .order_by()
        .annotate(n=Count("enterprise_id", distinct=True))
        .values_list("enterprise__region_id", "n")
    )
    return {code: Decimal(n) for code, n in rows}


def high_tech_count(prefix: str, start: date | None, end: date) -> Decimal:
    return Decimal(_high_tech(prefix, end).values("enterprise_id").distinct().count())


def register_registry_sources() -> None:
    from ..sources import register_source

    register_source(
        SOURCE_HIGH_TECH,
        high_tech_count,
        label="有效的国家高新技术企业（registry 资质）",
        kind="stock",
        by_region=high_tech_by_region,
    )
