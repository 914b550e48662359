"""Computed sources: indicators the platform measures itself instead of having
them typed in (信息对接: 对接活动场次/融资额 from events, 平台融资额/笔数 from
financing outcomes).

A source is a function `fn(region_prefix, start_date, end_date) -> Decimal`:
- `region_prefix` is a region's code prefix ("" = the whole country), the
  subtree to count;
- for a 时期指标 the flow within [start_date, end_date] (both inclusive);
  for a 时点指标 `start_date` is None and the answer is the level at end_date;
- money in 元 and counts as plain numbers: insights converts 元 to the
  indicator's unit (亿元), so sources never need to know how a plan is printed.

A source may declare its `kind` ("period" flow / "stock" level): an
indicator definition that would add a stock over time (a 时期 indicator
reading a 时点 source) is refused by services.definitions. It may also give
`by_region(region_prefix, start_date, end_date) -> {6-digit region code:
Decimal}`, the same figure for every county under the prefix in one pass
(the indicator table of a whole province; values are per county, never
added together by insights when they are rates). And it may give
`by_region_many(region_prefix, windows) -> {(start_date, end_date): {code:
Decimal}}`, the `by_region` answer for several windows (the year ends of a
plan) in one statement, which the county table asks once per source. An
app whose sources share their costly part (the loan book's balances all
scan the book) may register a batch (`register_batch`): one function asked
first with every window of every source the table wants, answering those of
its own sources in one pass.

Apps register their sources when they are ready (AppConfig.ready) so insights
never imports them; a later registration under the same key replaces the
earlier one only with `replace=True`, so a default can be overridden on
purpose but not by accident.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

SourceFn = Callable[[str, date | None, date], Decimal]
ByRegionFn = Callable[[str, date | None, date], dict[str, Decimal]]
Window = tuple[date | None, date]
ByRegionManyFn = Callable[[str, list[Window]], dict[Window, dict[str, Decimal]]]
BatchFn = Callable[[str, dict[str, list[Window]]], dict[str, dict[Window, dict[str, Decimal]]]]


@dataclass(frozen=True)
class Source:
    key: str
    fn: SourceFn
    label: str
    money: bool  # True: fn answers in 元
    kind: str | None = None  # "period" | "stock" | None (not declared)
    by_region: ByRegionFn | None = None
    by_region_many: ByRegionManyFn | None = None


_REGISTRY: dict[str, Source] = {}


def register_source(
    key: str,
    fn: SourceFn,
    *,
    label: str = "",
    money: bool = False,
    replace: bool = False,
    kind: str | None = None,
    by_region: ByRegionFn | None = None,
    by_region_many: ByRegionManyFn | None = None,
) -> None:
    if key in _REGISTRY and not replace and _REGISTRY[key].fn is not fn:
        raise ValueError(f"computed source {key!r} is already registered")
    if kind not in (None, "period", "stock"):
        raise ValueError(f"computed source {key!r}: kind must be period or stock")
    _REGISTRY[key] = Source(
        key=key,
        fn=fn,
        label=label or key,
        money=money,
        kind=kind,
        by_region=by_region,
        by_region_many=by_region_many,
    )


_BATCHES: dict[str, BatchFn] = {}


def register_batch(name: str, fn: BatchFn) -> None:
    """`fn(region_prefix, {source key: [window …]}) -> {source key: {window:
    {region code: Decimal}}}` answers, in one pass, the keys it knows among
    those asked (the others are left out of its answer)."""
    _BATCHES[name] = fn


def batches() -> dict[str, BatchFn]:
    return dict(_BATCHES)


def unregister_source(key: str) -> None:
    _REGISTRY.pop(key, None)


def get_source(key: str) -> Source | None:
    return _REGISTRY.get(key)


def registered() -> dict[str, Source]:
    return dict(_REGISTRY)
