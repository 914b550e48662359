"""The indicator system's 应收账款融资 figures (insights computed sources),
from the supply-chain financing table.

Each source is `fn(region_prefix, start, end)` (insights.sources): the region
is the supplier's (the receivable's creditor; its subtree, "" = the whole
country), the period [start, end] both included, by the day the bank lent
(`financed_on`); start None: everything up to end. Money in 元 (insights
turns it into 亿元).

- supplychain.financing_amount — 应收账款融资额: what banks lent on
  receivables in the period (pledge or factoring), repaid or not.
- supplychain.financing_count — 应收账款融资笔数: how many financings.

Registered from SupplychainConfig.ready: insights sits below supplychain and
never imports it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from chanrong.core.grouping import count_and_total_by
from chanrong.insights import catalogue

from .models import Financing
from .services.stats import _money, _window, period_totals

SOURCE_AMOUNT = catalogue.SOURCE_SUPPLYCHAIN_AMOUNT
SOURCE_COUNT = catalogue.SOURCE_SUPPLYCHAIN_COUNT


def financing_amount(prefix: str, start: date | None, end: date) -> Decimal:
    return period_totals(prefix, start, end)[1]


def financing_count(prefix: str, start: date | None, end: date) -> Decimal:
    return Decimal(period_totals(prefix, start, end)[0])


def _by_region(prefix: str, start: date | None, end: date) -> dict[str, tuple[int, Decimal]]:
    """period_totals for every region under `prefix` in one GROUP BY (the
    supplier's region code)."""
    qs = _window(Financing.objects.all(), start, end)
    if prefix:
        qs = qs.filter(receivable__creditor__region__code__startswith=prefix)
    totals = count_and_total_by(qs, "receivable__creditor__region_id", "amount")
    return {code: (n, _money(s)) for code, (n, s) in totals.items()}


def financing_amount_by_region(prefix: str, start: date | None, end: date) -> dict[str, Decimal]:
    return {code: amount for code, (_n, amount) in _by_region(prefix, start, end).items()}


def financing_count_by_region(prefix: str, start: date | None, end: date) -> dict[str, Decimal]:
    return {code: Decimal(n) for code, (n, _a) in _by_region(prefix, start, end).items()}


def register_sources() -> None:
    from chanrong.insights.sources import register_source

    register_source(
        SOURCE_AMOUNT,
        financing_amount,
        label="应收账款融资金额（supplychain）",
        money=True,
        by_region=financing_amount_by_region,
    )
    register_source(
        SOURCE_COUNT,
        financing_count,
        label="应收账款融资笔数（supplychain）",
        by_region=financing_count_by_region,
    )
