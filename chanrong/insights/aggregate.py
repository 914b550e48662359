"""The arithmetic of 时期 / 时点 indicators, on plain values (no ORM), so the
rules can be tested exhaustively and read in one place.

Over time
- 时期指标 (flow): a span's value is the sum of the reports that tile it. The
  coarsest report that fits is used first (a yearly report, else its
  quarters, else its months), so a year reported both as a whole and month by
  month is not counted twice. Months nobody reported are left out and shown as
  partial coverage.
- 时点指标 (stock): the value at a date is the latest report whose period ends
  at or before that date. Never a sum over time.

Over the region tree
- A region's own report wins; only when it has none are its children's
  figures added up (recursively). A flow adds the children's flows over the
  same span, a stock the children's levels at the same date.

Rates (unit %)
- Never summed, over time or regions, and not averaged either: a weighted
  mean would need the weights (loan balances) that a plan does not carry, and
  an unweighted one would be wrong. A rate is whatever was reported for that
  region: for a 时期 rate, the report covering exactly the span asked for; for
  a 时点 rate (不良贷款率), the latest report at or before the date.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

SPAN_MONTHS = {"year": 12, "quarter": 3, "month": 1}
# Tie-break for stocks reported for several periods ending on the same day:
# the yearly figure is the reviewed one.
_TIE_PRIORITY = {"year": 3, "quarter": 2, "month": 1}


@dataclass(frozen=True)
class Report:
    region: str
    period_type: str
    start: date
    end: date
    value: Decimal
    second: Decimal | None = None


@dataclass(frozen=True)
class Figure:
    value: Decimal
    second: Decimal | None = None
    months_covered: int = 0  # flows: how many months of the span have data
    months_total: int = 0
    as_of: date | None = None  # stocks: period end of the report(s) used

    @property
    def complete(self) -> bool:
        return self.months_total == 0 or self.months_covered >= self.months_total


def month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def months_between(start: date, end: date) -> int:
    return month_index(end) - month_index(start) + 1


def flow(reports: Iterable[Report], start: date, end: date, *, rate: bool = False) -> Figure | None:
    """The flow over [start, end] (whole months) from one region's reports."""
    first, last = month_index(start), month_index(end)
    total = last - first + 1
    if rate:
        for r in reports:
            if month_index(r.start) == first and month_index(r.end) == last:
                return Figure(r.value, r.second, total, total)
        return None
    by_start: dict[tuple[int, int], Report] = {}
    for r in reports:
        span = SPAN_MONTHS[r.period_type]
        by_start[(month_index(r.start), span)] = r
    i = first
    value = Decimal(0)
    second: Decimal | None = Decimal(0)
    covered = 0
    used = 0
    while i <= last:
        for span in (12, 3, 1):
            r = by_start.get((i, span))
            if r is not None and i + span - 1 <= last:
                value += r.value
                second = None if (second is None or r.second is None) else second + r.second
                covered += span
                used += 1
                i += span
                break
        else:
            i += 1
    if used == 0:
        return None
    return Figure(value, second, covered, total)


def level(reports: Iterable[Report], at: date) -> Figure | None:
    """The stock at `at`: the latest report ending at or before it."""
    best: Report | None = None
    for r in reports:
        if r.end > at:
            continue
        if (
            best is None
            or r.end > best.end
            or (
                r.end == best.end and _TIE_PRIORITY[r.period_type] > _TIE_PRIORITY[best.period_type]
            )
        ):
            best = r
    if best is None:
        return None
    return Figure(best.value, best.second, as_of=best.end)


def add(figures: list[Figure]) -> Figure | None:
    """Children added at the same span / date."""
    if not figures:
        return None
    value = sum((f.value for f in figures), Decimal(0))
    seconds = [f.second for f in figures]
    second = None if any(s is None for s in seconds) else sum(seconds, Decimal(0))
    return Figure(
        value,
        second,
        months_covered=min(f.months_covered for f in figures),
        months_total=max(f.months_total for f in figures),
        as_of=max((f.as_of for f in figures if f.as_of), default=None),
    )


def over_tree(
    region: str,
    children: Mapping[str, list[str]],
    own: Callable[[str], Figure | None],
    *,
    roll_up: bool = True,
) -> Figure | None:
    """A region's own figure, else the sum of its children's (recursively)."""
    mine = own(region)
    if mine is not None or not roll_up:
        return mine
    parts = [over_tree(c, children, own) for c in children.get(region, [])]
    return add([p for p in parts if p is not None])


def figure_for(
    reports_by_region: Mapping[str, list[Report]],
    region: str,
    children: Mapping[str, list[str]],
    *,
    kind: str,
    rate: bool,
    start: date,
    end: date,
) -> Figure | None:
    """One indicator's figure for `region` over [start, end] (flow) or at `end` (stock)."""

    def own(code: str) -> Figure | None:
        reports = reports_by_region.get(code, [])
        if not reports:
            return None
        if kind == "stock":
            return level(reports, end)
        return flow(reports, start, end, rate=rate)

    return over_tree(region, children, own, roll_up=not rate)


def growth(current: Decimal | None, previous: Decimal | None) -> Decimal | None:
    """Growth in percent over the previous period; None when undefined."""
    if current is None or previous is None or previous == 0:
        return None
    return ((current / previous - 1) * 100).quantize(Decimal("0.01"))
