"""The indicator table of every county under a region at once (a province's
定量指标 by county): each computed source asked once per date through its
`by_region` pass when it has one (else once per county), reported figures
loaded once and rolled up per county. bench/indicators_compute.py times it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from chanrong.core.models import Region
from chanrong.core.money import YI

from .. import aggregate
from ..models import IndicatorActual, IndicatorDefinition, Kind, SecondKind
from ..sources import batches, get_source
from .definitions import has_computed_second, is_computed, source_keys

Table = dict[str, dict[str, dict[int, tuple[Decimal | None, Decimal | None]]]]


def _per_county(
    key: str,
    kind: str,
    unit: str,
    prefix: str,
    counties: list[str],
    year: int,
    *,
    rate: bool = False,
    cache: dict | None = None,
):
    """{county: value} of one source for one year. A `by_region` pass answers
    only the counties it found rows for; the others get what the source's
    `fn` answers for a county with no rows: 0, or None for a rate."""
    source = get_source(key)
    start, end = date(year, 1, 1), date(year, 12, 31)
    start_arg = None if kind == Kind.STOCK else start
    memo = (key, start_arg, end, rate)
    values = cache.get(memo) if cache is not None else None
    if values is None:
        asked = cache.get((key, start_arg, end)) if cache is not None else None
        if asked is not None or source.by_region is not None:
            found = asked if asked is not None else source.by_region(prefix, start_arg, end)
            missing = None if rate else Decimal(0)
            values = {c: found.get(c, missing) for c in counties}
        else:
            values = {c: source.fn(c, start_arg, end) for c in counties}
        if cache is not None:
            cache[memo] = values
    scale = YI if source.money and unit == "亿元" else Decimal(1)
    return {c: (Decimal(v) / scale if v is not None else None) for c, v in values.items()}


def _windows(d: IndicatorDefinition, years: list[int]) -> list[tuple[str, date | None, date]]:
    """(source key, start, end) of every source window `county_table` asks
    for definition `d` (the same windows `_per_county` computes)."""
    out = []
    for year in years:
        start = None if d.kind == Kind.STOCK else date(year, 1, 1)
        keys = list(source_keys(d))
        if has_computed_second(d):
            keys.append(d.second_source)
        out += [(key, start, date(year, 12, 31)) for key in keys]
    return out


def _ask_many(prefix: str, definitions, years: list[int], asked: list[int], cache: dict) -> None:
    """Every window of the sources that answer many windows at once asked
    now, into `cache` under (key, start, end): the batches first (the loan
    book's five balances in one pass), then each `by_region_many` once."""
    wanted: dict[str, set] = defaultdict(set)
    for d in definitions:
        if not is_computed(d):
            continue
        for key, start, end in _windows(d, asked if d.second_kind == SecondKind.GROWTH else years):
            wanted[key].add((start, end))
    for batch in batches().values():
        for key, answers in batch(
            prefix, {k: sorted(w, key=_order) for k, w in wanted.items()}
        ).items():
            for (start, end), found in answers.items():
                cache[(key, start, end)] = found
            wanted.pop(key, None)
    for key, windows in wanted.items():
        source = get_source(key)
        if source is None or source.by_region_many is None:
            continue
        for (start, end), found in source.by_region_many(
            prefix, sorted(windows, key=_order)
        ).items():
            cache[(key, start, end)] = found


def _order(window: tuple[date | None, date]):
    return (window[1], window[0] or window[1])


def county_table(
    region: Region, years: list[int], definitions: list[IndicatorDefinition] | None = None
) -> Table:
    """{county code: {indicator code: {year: (value, second)}}} for every
    county under `region`; growth against the year before for 金额及增速."""
    definitions = definitions or list(IndicatorDefinition.objects.all())
    counties = list(
        Region.objects.filter(code__startswith=region.prefix, level="county").values_list(
            "code", flat=True
        )
    )
    asked = sorted({*years, *(y - 1 for y in years)})
    table: Table = {c: defaultdict(dict) for c in counties}
    reports: dict[int, dict[str, list[aggregate.Report]]] = defaultdict(lambda: defaultdict(list))
    for row in IndicatorActual.objects.filter(
        region__code__startswith=region.prefix, definition__in=definitions
    ).values_list(
        "definition_id",
        "region_id",
        "period_type",
        "period_start",
        "period_end",
        "value",
        "second_value",
    ):
        did, code, ptype, start, end, value, second = row
        reports[did][code].append(aggregate.Report(code, ptype, start, end, value, second))
    asked_sources: dict = {}  # (key, start, end, rate) -> {county: value}: each source once
    _ask_many(region.prefix, definitions, years, asked, asked_sources)
    for d in definitions:
        values: dict[int, dict[str, Decimal | None]] = {}
        seconds: dict[int, dict[str, Decimal | None]] = {}
        for year in asked if d.second_kind == SecondKind.GROWTH else years:
            if is_computed(d):
                total: dict[str, Decimal | None] = {}
                for key in source_keys(d):
                    for c, v in _per_county(
                        key,
                        d.kind,
                        d.unit,
                        region.prefix,
                        counties,
                        year,
                        rate=d.is_rate,
                        cache=asked_sources,
                    ).items():
                        if v is not None:
                            total[c] = (total.get(c) or Decimal(0)) + v
                values[year] = total
                if has_computed_second(d):
                    seconds[year] = _per_county(
                        d.second_source,
                        d.kind,
                        d.second_unit,
                        region.prefix,
                        counties,
                        year,
                        cache=asked_sources,
                    )
            else:
                start, end = date(year, 1, 1), date(year, 12, 31)
                own = reports.get(d.pk, {})
                figures = {
                    c: aggregate.figure_for(
                        own, c, {}, kind=d.kind, rate=d.is_rate, start=start, end=end
                    )
                    for c in counties
                    if own.get(c)
                }
                values[year] = {c: f.value for c, f in figures.items() if f is not None}
                seconds[year] = {c: f.second for c, f in figures.items() if f is not None}
        for year in years:
            for c in counties:
                value = values.get(year, {}).get(c)
                if d.second_kind == SecondKind.GROWTH:
                    second = aggregate.growth(value, values.get(year - 1, {}).get(c))
                else:
                    second = seconds.get(year, {}).get(c)
                table[c][d.code][year] = (value, second)
    return table
