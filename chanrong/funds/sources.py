"""The indicator system's fund figures (insights computed sources).

Each source is `fn(region_prefix, start, end)` (insights.sources); the
region is a subtree ("" = the whole country); money in 元.

- funds.equity_fund_count (时点) — 股权投资基金数: every fund registered in
  the region that is active on `end` (inception_date ≤ end, not wound up by
  then: closed_on empty or after end), of any kind.
- funds.equity_fund_size (时点, 元) — their size, counted as the PAID-IN size
  (实缴规模) as recorded today (the platform keeps no history of paid-in
  capital calls), not the target size.
- funds.government_fund_count / funds.government_fund_size — the same for
  政府引导基金 and 政府投资基金 only.
- funds.equity_investment_amount (时期, 元) — what funds invested in
  enterprises located in the region, by investment date in [start, end]
  (start None: everything up to end); exits are not subtracted.

Registered from FundsConfig.ready: insights sits below funds and never imports it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from .services.stats import fund_totals, investment_amount

EQUITY_FUND_COUNT = "funds.equity_fund_count"
EQUITY_FUND_SIZE = "funds.equity_fund_size"
GOVERNMENT_FUND_COUNT = "funds.government_fund_count"
GOVERNMENT_FUND_SIZE = "funds.government_fund_size"
EQUITY_INVESTMENT_AMOUNT = "funds.equity_investment_amount"


def equity_fund_count(prefix: str, start: date | None, end: date) -> Decimal:
    return Decimal(fund_totals(prefix, end)[0])


def equity_fund_size(prefix: str, start: date | None, end: date) -> Decimal:
    return fund_totals(prefix, end)[1]


def government_fund_count(prefix: str, start: date | None, end: date) -> Decimal:
    return Decimal(fund_totals(prefix, end, government_only=True)[0])


def government_fund_size(prefix: str, start: date | None, end: date) -> Decimal:
    return fund_totals(prefix, end, government_only=True)[1]


def equity_investment_amount(prefix: str, start: date | None, end: date) -> Decimal:
    return investment_amount(prefix, start, end)


def register_sources() -> None:
    from chanrong.insights.sources import register_source

    register_source(EQUITY_FUND_COUNT, equity_fund_count, label="股权投资基金数（funds）")
    register_source(
        EQUITY_FUND_SIZE, equity_fund_size, label="股权投资基金实缴规模（funds）", money=True
    )
    register_source(
        GOVERNMENT_FUND_COUNT, government_fund_count, label="政府引导/投资基金数（funds）"
    )
    register_source(
        GOVERNMENT_FUND_SIZE,
        government_fund_size,
        label="政府引导/投资基金实缴规模（funds）",
        money=True,
    )
    register_source(
        EQUITY_INVESTMENT_AMOUNT,
        equity_investment_amount,
        label="基金股权投资金额（funds）",
        money=True,
    )
