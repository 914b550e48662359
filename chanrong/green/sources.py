"""The green app's figures for the indicator system (insights.sources).

Both are 时点 counts (the level on the day, never summed over time), read
from the registry's green list (ListType.GREEN, 绿色融资企业（项目）库): the
library's applications become members when the list version they are drafted
into is published (green/models/library.py), so the published versions are
the library as of any day.

- green.library_enterprises — 绿色融资企业库入库企业数 (时点): distinct
  enterprises, under the region prefix (the enterprise's county), that are a
  member (not removed) of a published green-list version in force at D, as
  an enterprise entry (not through a project).
- green.library_projects — 绿色融资项目库入库项目数 (时点): distinct projects
  that are members at D, counted where the project is (the project's county).

The loan-book figures (绿色贷款余额 by use, 绿色融资额) are the risk app's
(risk/sources_green.py): the green app does not read the loan book, and the
loan book does not know this app.

Each source answers one region prefix (`fn`) and every county under it in one
grouped pass (`by_region`); `fn` sums `by_region`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import Count

from chanrong.registry.models import ListEntry, ListType

SOURCE_LIBRARY_ENTERPRISES = "green.library_enterprises"
SOURCE_LIBRARY_PROJECTS = "green.library_projects"


def _members(on: date):
    return ListEntry.objects.in_force(on).filter(version__list__list_type=ListType.GREEN)


def library_enterprises_by_region(prefix: str, start: date | None, end: date):
    rows = _members(end).filter(project__isnull=True)
    if prefix:
        rows = rows.filter(enterprise__region__code__startswith=prefix)
    grouped = (
        rows.order_by()
        .values("enterprise__region_id")
        .annotate(n=Count("enterprise_id", distinct=True))
        .values_list("enterprise__region_id", "n")
    )
    return {code: Decimal(n) for code, n in grouped}


def library_projects_by_region(prefix: str, start: date | None, end: date):
    rows = _members(end).filter(project__isnull=False)
    if prefix:
        rows = rows.filter(project__region__code__startswith=prefix)
    grouped = (
        rows.order_by()
        .values("project__region_id")
        .annotate(n=Count("project_id", distinct=True))
        .values_list("project__region_id", "n")
    )
    return {code: Decimal(n) for code, n in grouped}


def library_enterprises(prefix: str, start: date | None, end: date) -> Decimal:
    return sum(library_enterprises_by_region(prefix, start, end).values(), Decimal(0))


def library_projects(prefix: str, start: date | None, end: date) -> Decimal:
    return sum(library_projects_by_region(prefix, start, end).values(), Decimal(0))


def register_sources() -> None:
    """Register the green figures with insights (insights never imports this app)."""
    from chanrong.insights.sources import register_source

    register_source(
        SOURCE_LIBRARY_ENTERPRISES,
        library_enterprises,
        label="绿色融资企业库入库企业数（green）",
        kind="stock",
        by_region=library_enterprises_by_region,
    )
    register_source(
        SOURCE_LIBRARY_PROJECTS,
        library_projects,
        label="绿色融资项目库入库项目数（green）",
        kind="stock",
        by_region=library_projects_by_region,
    )
