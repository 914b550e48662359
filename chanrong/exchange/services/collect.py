"""The payload of each kind of batch, built from this deployment's own data.
Aggregates only: no person, no contact, no single loan; list versions carry
the published list's USCC and name (public list data).

Amounts are decimal strings in 元 with two places (rounded once, half up,
when the payload is built); counts are integers.
"""

from __future__ import annotations

import calendar
import re
from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import CharField, Count, Q, Sum, Value
from django.db.models.functions import Coalesce, Substr

from chanrong.core.models import Region
from chanrong.demands.models import Demand, DemandState
from chanrong.insights.models import FinancingRecord
from chanrong.insights.sources import registered
from chanrong.pilots.models import ProgressReport
from chanrong.registry.models import EntryChange, ListEntry, ListVersion

PERIOD_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
CENT = Decimal("0.01")
FOUR = Decimal("0.0001")


def money(value) -> str:
    return str(Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP))


def number(value) -> str:
    return str(Decimal(value or 0).quantize(FOUR, rounding=ROUND_HALF_UP).normalize())


def month_bounds(period: str) -> tuple[date, date]:
    year, month = int(period[:4]), int(period[5:7])
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def prefix_of(region_code: str) -> str:
    if not region_code:
        return ""
    region = Region.objects.filter(code=region_code).first()
    return region.prefix if region else region_code


# --- indicator actuals ---------------------------------------------------------


def indicator_actuals(region_code: str, period: str) -> dict[str, Any]:
    """Every computed indicator source (insights.sources) for the region's
    subtree over the month: flows within it, stocks at its last day."""
    start, end = month_bounds(period)
    prefix = prefix_of(region_code)
    figures = []
    for key, source in sorted(registered().items()):
        value = source.fn(prefix, None if source.kind == "stock" else start, end)
        if value is None:
            continue
        figures.append(
            {
                "key": key,
                "label": str(source.label)[:100],
                "unit": "元" if source.money else "",
                "kind": source.kind or "period",
                "value": money(value) if source.money else number(value),
            }
        )
    return {"period_start": start.isoformat(), "period_end": end.isoformat(), "figures": figures}


# --- demand and financing statistics --------------------------------------------------


def financing_stats(region_code: str, period: str) -> dict[str, Any]:
    """Per county × industry section × enterprise size: demands published in
    the month (count, amount), demands granted (count, amount), financing
    disbursed (count, amount). Three GROUP BY queries, however many
    enterprises."""
    start, end = month_bounds(period)
    prefix = prefix_of(region_code)
    cells: dict[tuple[str, str, str], dict[str, Any]] = defaultdict(_empty_cell)
    demands = (
        Demand.objects.filter(enterprise__region__code__startswith=prefix)
        .exclude(state=DemandState.DRAFT)
        .filter(published_at__date__gte=start, published_at__date__lte=end)
        .values(
            "enterprise__region_id",
            "enterprise__size",
            section=Substr("enterprise__industry_id", 1, 1),
        )
        .annotate(
            n=Count("pk"),
            amount=Sum("amount"),
            granted=Count("pk", filter=Q(granted_amount__isnull=False)),
            granted_amount=Coalesce(Sum("granted_amount"), Decimal(0)),
        )
    )
    for row in demands:
        cell = cells[
            (row["enterprise__region_id"], row["section"] or "", row["enterprise__size"] or "")
        ]
        cell["demands"] += row["n"]
        cell["demand_amount"] += row["amount"] or 0
        cell["granted"] += row["granted"]
        cell["granted_amount"] += row["granted_amount"] or 0
    records = (
        FinancingRecord.objects.filter(
            region__code__startswith=prefix, date__gte=start, date__lte=end
        )
        .values(
            "region_id",
            "section",
            size=Coalesce("enterprise__size", Value("", output_field=CharField())),
        )
        .annotate(n=Count("pk"), amount=Sum("amount"))
    )
    for row in records:
        cell = cells[(row["region_id"], row["section"] or "", row["size"] or "")]
        cell["financings"] += row["n"]
        cell["financing_amount"] += row["amount"] or 0
    rows = []
    for (region, section, size), cell in sorted(cells.items()):
        rows.append(
            {
                "region": region,
                "section": section,
                "size": size,
                "demands": cell["demands"],
                "demand_amount": money(cell["demand_amount"]),
                "granted": cell["granted"],
                "granted_amount": money(cell["granted_amount"]),
                "financings": cell["financings"],
                "financing_amount": money(cell["financing_amount"]),
            }
        )
    return {"period_start": start.isoformat(), "period_end": end.isoformat(), "rows": rows}


def _empty_cell() -> dict[str, Any]:
    return {
        "demands": 0,
        "demand_amount": Decimal(0),
        "granted": 0,
        "granted_amount": Decimal(0),
        "financings": 0,
        "financing_amount": Decimal(0),
    }


#: What a financing_stats batch adds up to, per region (ReceivedFigure keys).
STAT_KEYS = {
    "demands": ("融资需求笔数", "笔"),
    "demand_amount": ("融资需求金额", "元"),
    "granted": ("获授信笔数", "笔"),
    "granted_amount": ("授信金额", "元"),
    "financings": ("放款笔数", "笔"),
    "financing_amount": ("放款金额", "元"),
}


# --- pilot progress --------------------------------------------------------------


def pilot_progress(report: ProgressReport) -> dict[str, Any]:
    return {
        "region": report.application.region_id,
        "year": report.year,
        "period": report.period,
        "summary": report.summary,
        "problems": report.problems,
        "next_steps": report.next_steps,
        "submitted_at": report.submitted_at.isoformat() if report.submitted_at else None,
    }


def progress_period(report: ProgressReport) -> str:
    return f"{report.year}-{report.period}"


def submitted_reports(region_code: str):
    return ProgressReport.objects.filter(
        state="submitted", application__region__code__startswith=prefix_of(region_code)
    ).select_related("application")


# --- published list versions ------------------------------------------------------


def list_version(version: ListVersion) -> dict[str, Any]:
    lst = version.list
    entries = (
        ListEntry.objects.filter(version=version)
        .exclude(change=EntryChange.REMOVED)
        .select_related("enterprise", "project")
        .order_by("pk")
    )
    return {
        "list": {
            "type": lst.list_type,
            "name": lst.name,
            "sector": lst.sector,
            "region": lst.region_id or "",
            "agency": lst.agency.name,
        },
        "version": {
            "number": version.number,
            "effective_from": version.effective_from.isoformat()
            if version.effective_from
            else None,
            "published_at": version.published_at.isoformat() if version.published_at else None,
            "note": version.note,
        },
        "entries": [
            {
                "uscc": entry.enterprise.uscc,
                "name": entry.enterprise.name,
                "project": entry.project.name if entry.project_id else None,
            }
            for entry in entries
        ],
    }


def list_period(version: ListVersion) -> str:
    day = version.effective_from or (version.published_at.date() if version.published_at else None)
    return day.isoformat() if day else str(version.created_at.year)


def published_versions(region_code: str):
    """This deployment's own published versions of its subtree's lists
    (received lists are left out: their source sends them itself)."""
    prefix = prefix_of(region_code)
    return (
        ListVersion.objects.filter(status="published", list__source_ref="")
        .filter(Q(list__region__code__startswith=prefix) if prefix else Q())
        .select_related("list", "list__agency")
    )
