"""This deployment's own figure beside a received one, for the same region
and period: what the parent itself measured for the child's region (its
computed indicator sources; its own financing records), so that a gap
between the two — data one side lacks — shows at a glance. None where the
parent has no figure of its own for that measure (demand counts are the
child's: its demands are not on the parent's platform)."""

from __future__ import annotations

from decimal import Decimal

from chanrong.insights.services.financing import financing_totals
from chanrong.insights.sources import get_source

from . import collect

OWN_FINANCING = {"financings": 0, "financing_amount": 1}


def own_value(kind: str, key: str, region_code: str, period: str) -> Decimal | None:
    if not collect.PERIOD_MONTH.match(period):
        return None
    start, end = collect.month_bounds(period)
    prefix = collect.prefix_of(region_code)
    if kind == "indicator_actuals":
        source = get_source(key)
        if source is None:
            return None
        value = source.fn(prefix, None if source.kind == "stock" else start, end)
        return None if value is None else Decimal(value)
    if kind == "financing_stats" and key in OWN_FINANCING:
        return Decimal(financing_totals(prefix, start, end)[OWN_FINANCING[key]])
    return None


def annotate(figures) -> list:
    """Each figure of a page with `own` set (one lookup per distinct measure)."""
    seen: dict[tuple[str, str, str, str], Decimal | None] = {}
    rows = list(figures)
    for figure in rows:
        key = (figure.kind, figure.key, figure.region_code, figure.period)
        if key not in seen:
            seen[key] = own_value(*key)
        figure.own = seen[key]
    return rows
