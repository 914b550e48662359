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

from .services import stats

SOURCES = {
    "listing.exchange_listed": (stats.exchange_listed, "境内上市企业数（listing）", False),
    "listing.neeq_listed": (stats.neeq_listed, "新三板挂牌企业数（listing）", False),
    "listing.regional_equity_listed": (
        stats.regional_equity_listed,
        "区域性股权市场挂牌企业数（listing）",
        False,
    ),
    "listing.ipo_proceeds": (stats.ipo_proceeds, "上市募集资金（listing）", True),
}


def register_sources() -> None:
    from chanrong.insights.sources import register_source

    for key, (fn, label, money) in SOURCES.items():
        register_source(key, fn, label=label, money=money)
