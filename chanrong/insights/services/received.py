"""Received figures on the 统计分析 dashboard (issue 19): what child
deployments reported for regions of the subtree, each row beside this
deployment's own figure for the same region and month, and — for a child
region this deployment has no financing data of its own for — the child's
reported financing in the 按地区 table, marked as received.

Own figures here are read exactly as the dashboards read them (the monthly
rollup, the computed sources); a received figure is never added to them.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from chanrong.core.models import Region
from chanrong.core.money import WAN, YI

from ..received import FINANCING_STATS, ReceivedFigure, received_figures, totals
from ..sources import get_source
from .financing import financing_totals
from .values import format_number

LATEST_LIMIT = 60  # rows of the newest month shown (each costs its own lookup)
OWN_FINANCING = {"financings": 0, "financing_amount": 1}


def month_bounds(period: str) -> tuple[date, date] | None:
    try:
        year, month = int(period[:4]), int(period[5:7])
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    except (ValueError, IndexError):
        return None


def own_value(kind: str, key: str, prefix: str, start: date, end: date) -> Decimal | None:
    """This deployment's own figure for one received measure, region subtree
    and span; None where it has no such figure."""
    if kind == FINANCING_STATS:
        if key not in OWN_FINANCING:
            return None
        return Decimal(financing_totals(prefix, start, end)[OWN_FINANCING[key]])
    source = get_source(key)
    if source is None:
        return None
    value = source.fn(prefix, None if source.kind == "stock" else start, end)
    return None if value is None else Decimal(value)


def display(value: Decimal | None, unit: str) -> str:
    """元 as 万元 (two places), counts as they are; "—" for no figure."""
    if value is None:
        return "—"
    if unit == "元":
        return format_number(value / WAN)
    return format_number(value)


def display_unit(unit: str) -> str:
    return "万元" if unit == "元" else unit


@dataclass
class ReceivedRow:
    figure: ReceivedFigure
    value_text: str
    own_text: str
    unit: str


def latest_rows(actor, prefix: str, figures: list | None = None) -> list[ReceivedRow]:
    """The newest month each source reported for each region of the subtree,
    every measure of it, with this deployment's own figure beside.
    `figures`: the subtree's received figures when the caller has them."""
    if figures is None:
        figures = received_figures(actor, prefix)
    newest: dict[tuple[str, str], str] = {}
    for f in figures:
        mark = (f.source_id, f.region_code)
        newest[mark] = max(newest.get(mark, ""), f.period)
    chosen = sorted(
        (f for f in figures if f.period == newest[(f.source_id, f.region_code)]),
        key=lambda f: (f.region_code, f.source_name, f.kind, f.key),
    )[:LATEST_LIMIT]
    prefixes = dict(
        Region.objects.filter(code__in={f.region_code for f in chosen}).values_list(
            "code", "prefix"
        )
    )
    rows = []
    financing: dict[tuple[str, date, date], tuple[int, Decimal]] = {}
    for f in chosen:
        bounds = month_bounds(f.period)
        prefix_of = prefixes.get(f.region_code, f.region_code)
        if bounds is None:
            own = None
        elif f.kind == FINANCING_STATS and f.key in OWN_FINANCING:
            # 放款笔数 and 放款金额 of one region and month: one rollup read.
            memo = (prefix_of, *bounds)
            if memo not in financing:
                financing[memo] = financing_totals(prefix_of, *bounds)
            own = Decimal(financing[memo][OWN_FINANCING[f.key]])
        else:
            own = own_value(f.kind, f.key, prefix_of, *bounds)
        rows.append(
            ReceivedRow(f, display(f.value, f.unit), display(own, f.unit), display_unit(f.unit))
        )
    return rows


@dataclass
class ReceivedRegionRow:
    region: Region
    count: int
    amount: str  # 亿元, as the 按地区 table prints
    source_name: str
    period_text: str
    latest: ReceivedFigure | None


def child_nodes(prefix: str) -> list[Region]:
    """The dashboard's drill-down level (as financing_by_child_region)."""
    if prefix:
        parent = Region.objects.filter(prefix=prefix).order_by("code").first()
        return list(Region.objects.filter(parent=parent)) if parent else []
    return list(Region.objects.filter(parent__isnull=True))


def regions_without_own_data(
    actor, prefix: str, children: list[Region], own: set[str], figures: list | None = None
) -> list[ReceivedRegionRow]:
    """For each child node of the dashboard's region that has no financing of
    its own here (`own`: the child prefixes the rollup has), the financing
    its deployment reported (放款笔数, 放款金额 over every month received):
    shown in the 按地区 table as received, with its source. `figures`: the
    subtree's received figures (every kind) when the caller has them."""
    missing = [c for c in children if c.prefix not in own]
    if not missing:
        return []
    if figures is None:
        figures = received_figures(actor, prefix, kind=FINANCING_STATS, keys=list(OWN_FINANCING))
    else:
        figures = [f for f in figures if f.kind == FINANCING_STATS and f.key in OWN_FINANCING]
    out = []
    for child in missing:
        mine = [f for f in figures if f.region_code.startswith(child.prefix)]
        by_source: dict[str, list] = {}
        for total in totals(mine):
            by_source.setdefault(total.source_name, []).append(total)
        for source, rows in sorted(by_source.items()):
            count = sum((t.value for t in rows if t.key == "financings"), Decimal(0))
            amount = sum((t.value for t in rows if t.key == "financing_amount"), Decimal(0))
            latest = max((t.latest for t in rows if t.latest), key=lambda f: f.received_at)
            periods = sorted({p for t in rows for p in t.periods})
            out.append(
                ReceivedRegionRow(
                    region=child,
                    count=int(count),
                    amount=format_number(amount / YI),
                    source_name=source,
                    period_text=periods[0]
                    if len(periods) == 1
                    else f"{periods[0]} – {periods[-1]}",
                    latest=latest,
                )
            )
    return out
