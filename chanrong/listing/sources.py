"""The indicator system's 上市 figures (insights computed sources), from the
listing pipelines. Each source is `fn(region_prefix, start, end)`
(insights.sources): the region is the enterprise's (its subtree, "" = the
whole country); the day that decides is the pipeline's `listed_on`.

- listing.exchange_listed — 境内上市企业数 (时点): enterprises listed on an
  exchange board (主板, 创业板, 科创板 on 上交所/深交所; 北交所) as of end.
- listing.neeq_listed — 新三板挂牌企业数 (时点) as of end.
- listing.regional_equity_listed — 区域性股权市场挂牌企业数 (时点), the
  专精特新专板 included, as of end.
- listing.ipo_proceeds — 首发募集资金 (时期, 元): proceeds of exchange
  listings whose day is in [start, end] (start None: everything up to end).

Registered from ListingConfig.ready: insights sits below this app and never
imports it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import Count, Sum

from .models import EXCHANGE_BOARDS, REGIONAL_BOARDS, Board, Pipeline, Stage
from .services import stats

# Every region under a prefix in one GROUP BY (insights' county table).


def _listed_by_region(prefix: str, end: date, boards, stage: str) -> dict[str, Decimal]:
    rows = (
        Pipeline.objects.in_region(prefix)
        .filter(stage=stage, board__in=boards, listed_on__lte=end)
        .values("enterprise__region_id")
        .order_by()
        .annotate(n=Count("enterprise_id", distinct=True))
        .values_list("enterprise__region_id", "n")
    )
    return {code: Decimal(n) for code, n in rows}


def exchange_listed_by_region(prefix: str, start: date | None, end: date):
    return _listed_by_region(prefix, end, EXCHANGE_BOARDS, Stage.LISTED)


def neeq_listed_by_region(prefix: str, start: date | None, end: date):
    return _listed_by_region(prefix, end, {Board.NEEQ}, Stage.QUOTED)


def regional_equity_listed_by_region(prefix: str, start: date | None, end: date):
    return _listed_by_region(prefix, end, REGIONAL_BOARDS, Stage.QUOTED)


def ipo_proceeds_by_region(prefix: str, start: date | None, end: date):
    rows = Pipeline.objects.in_region(prefix).filter(stage=Stage.LISTED, listed_on__lte=end)
    if start is not None:
        rows = rows.filter(listed_on__gte=start)
    grouped = (
        rows.values("enterprise__region_id")
        .order_by()
        .annotate(total=Sum("proceeds"))
        .values_list("enterprise__region_id", "total")
    )
    return {code: stats._fen(total) for code, total in grouped}


SOURCES = {
    "listing.exchange_listed": (
        stats.exchange_listed,
        "境内上市企业数（listing）",
        False,
        exchange_listed_by_region,
    ),
    "listing.neeq_listed": (
        stats.neeq_listed,
        "新三板挂牌企业数（listing）",
        False,
        neeq_listed_by_region,
    ),
    "listing.regional_equity_listed": (
        stats.regional_equity_listed,
        "区域性股权市场挂牌企业数（listing）",
        False,
        regional_equity_listed_by_region,
    ),
    "listing.ipo_proceeds": (
        stats.ipo_proceeds,
        "上市募集资金（listing）",
        True,
        ipo_proceeds_by_region,
    ),
}


def register_sources() -> None:
    from chanrong.insights.sources import register_source

    for key, (fn, label, money, by_region) in SOURCES.items():
        register_source(key, fn, label=label, money=money, by_region=by_region)
