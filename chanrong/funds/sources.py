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

from django.db.models import Q, Sum

from chanrong.core.grouping import count_and_total_by

from .models import GOVERNMENT_KINDS, Fund, FundInvestment
from .services.stats import _money, fund_totals, investment_amount

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


# --------------------------------------------------------------------------
# every region under a prefix in one GROUP BY (insights' county table)


def _fund_rows(prefix: str, end: date, government_only: bool) -> dict[str, tuple[int, Decimal]]:
    qs = Fund.objects.active_on(end)
    if prefix:
        qs = qs.filter(region__code__startswith=prefix)
    if government_only:
        qs = qs.filter(kind__in=GOVERNMENT_KINDS)
    totals = count_and_total_by(qs, "region_id", "paid_in_size")
    return {code: (n, _money(s)) for code, (n, s) in totals.items()}


def equity_fund_count_by_region(prefix: str, start: date | None, end: date):
    return {c: Decimal(n) for c, (n, _s) in _fund_rows(prefix, end, False).items()}


def equity_fund_size_by_region(prefix: str, start: date | None, end: date):
    return {c: s for c, (_n, s) in _fund_rows(prefix, end, False).items()}


def government_fund_count_by_region(prefix: str, start: date | None, end: date):
    return {c: Decimal(n) for c, (n, _s) in _fund_rows(prefix, end, True).items()}


def government_fund_size_by_region(prefix: str, start: date | None, end: date):
    return {c: s for c, (_n, s) in _fund_rows(prefix, end, True).items()}


def equity_investment_amount_by_region(prefix: str, start: date | None, end: date):
    where = Q(invested_on__lte=end)
    if start is not None:
        where &= Q(invested_on__gte=start)
    if prefix:
        where &= Q(enterprise__region__code__startswith=prefix)
    rows = (
        FundInvestment.objects.filter(where)
        .values("enterprise__region_id")
        .order_by()
        .annotate(s=Sum("amount"))
        .values_list("enterprise__region_id", "s")
    )
    return {code: _money(s) for code, s in rows}


def register_sources() -> None:
    from chanrong.insights.sources import register_source

    for key, fn, by_region, label, money in (
        (EQUITY_FUND_COUNT, equity_fund_count, equity_fund_count_by_region,
         "股权投资基金数（funds）", False),
        (EQUITY_FUND_SIZE, equity_fund_size, equity_fund_size_by_region,
         "股权投资基金实缴规模（funds）", True),
        (GOVERNMENT_FUND_COUNT, government_fund_count, government_fund_count_by_region,
         "政府引导/投资基金数（funds）", False),
        (GOVERNMENT_FUND_SIZE, government_fund_size, government_fund_size_by_region,
         "政府引导/投资基金实缴规模（funds）", True),
        (EQUITY_INVESTMENT_AMOUNT, equity_investment_amount, equity_investment_amount_by_region,
         "基金股权投资金额（funds）", True),
    ):  # fmt: skip
        register_source(key, fn, label=label, money=money, by_region=by_region)
