"""The indicator system's figures from the policy tables (insights computed
sources): what the 财政支持 rows of a 定量指标表 used to have typed in.

Each source is `fn(region_prefix, start, end)` (insights.sources): the
region is the enterprise's (its subtree, "" = the whole country), the period
[start, end] both included (start None: everything up to end). Money in 元;
insights turns it into 亿元.

- policy.interest_subsidy — 贷款贴息资金: 贴息 paid (拨付) in the period,
  by payment date (`paid_on`) — money that left the budget, not promises.
- policy.risk_compensation — 风险补偿资金: compensation the 风险补偿 pools
  paid in the period (by `paid_on`), gross: recoveries flowing back later
  do not reduce it (they are the pool's income, shown on the pool's page).
- policy.bridge_amount / policy.bridge_count — 转贷应急金额 / 笔数: draws the
  转贷应急 funds paid out in the period (by `drawn_on`), repaid or not.
- policy.guarantee_fee_rate — 平均担保费率 (%): of the loans GUARANTEED in
  the period (loan date in it, guarantor and fee rate confirmed by the
  bank), the average fee rate weighted by loan amount — the market's price
  of a guarantee, which 嘉善's plan wants at 1 % or below; not only the
  loans that got a subsidy. None when no guaranteed loan is known.

Registered from PolicyConfig.ready: insights sits below policy and never
imports it.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, QuerySet, Sum

from chanrong.insights import catalogue

from .models import (
    Application,
    ApplicationState,
    BridgeDraw,
    BridgeState,
    ClaimState,
    Loan,
    LossClaim,
    ProgrammeKind,
)

# The keys the catalogue's entries name (insights.catalogue owns them).
SOURCE_INTEREST = catalogue.SOURCE_POLICY_INTEREST
SOURCE_COMPENSATION = catalogue.SOURCE_POLICY_COMPENSATION
SOURCE_BRIDGE_AMOUNT = catalogue.SOURCE_POLICY_BRIDGE_AMOUNT
SOURCE_BRIDGE_COUNT = catalogue.SOURCE_POLICY_BRIDGE_COUNT
SOURCE_GUARANTEE_RATE = catalogue.SOURCE_POLICY_GUARANTEE_RATE

FEN = Decimal("0.01")
RATE_PLACES = Decimal("0.0001")


def _window(qs: QuerySet, field: str, prefix: str, region_path: str, start, end) -> QuerySet:
    qs = qs.filter(**{f"{field}__lte": end})
    if start is not None:
        qs = qs.filter(**{f"{field}__gte": start})
    if prefix:
        qs = qs.filter(**{f"{region_path}__code__startswith": prefix})
    return qs


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(FEN, rounding=ROUND_HALF_UP)


def interest_subsidy(prefix: str, start: date | None, end: date) -> Decimal:
    qs = Application.objects.filter(
        programme__kind=ProgrammeKind.INTEREST, state=ApplicationState.PAID
    )
    qs = _window(qs, "paid_on", prefix, "enterprise__region", start, end)
    return _money(qs.aggregate(s=Sum("amount"))["s"])


def risk_compensation(prefix: str, start: date | None, end: date) -> Decimal:
    qs = LossClaim.objects.filter(state=ClaimState.PAID)
    qs = _window(qs, "paid_on", prefix, "registration__loan__enterprise__region", start, end)
    return _money(qs.aggregate(s=Sum("compensation"))["s"])


def _draws(prefix: str, start: date | None, end: date) -> QuerySet:
    qs = BridgeDraw.objects.filter(state__in=(BridgeState.DRAWN, BridgeState.REPAID))
    return _window(qs, "drawn_on", prefix, "enterprise__region", start, end)


def bridge_amount(prefix: str, start: date | None, end: date) -> Decimal:
    return _money(_draws(prefix, start, end).aggregate(s=Sum("amount"))["s"])


def bridge_count(prefix: str, start: date | None, end: date) -> Decimal:
    return Decimal(_draws(prefix, start, end).aggregate(n=Count("pk"))["n"] or 0)


def guarantee_fee_rate(prefix: str, start: date | None, end: date) -> Decimal | None:
    qs = Loan.objects.filter(
        guarantor__isnull=False, guarantee_fee_rate__isnull=False, confirmed_at__isnull=False
    )
    qs = _window(qs, "loan_date", prefix, "enterprise__region", start, end)
    # Summed here in exact Decimal (a database may sum a product in floating
    # point), rounded once, to 0.0001 %, at the end.
    weighted = total = Decimal(0)
    for principal, rate in qs.values_list("principal", "guarantee_fee_rate").iterator(
        chunk_size=5000
    ):
        weighted += principal * rate
        total += principal
    if not total:
        return None
    return (weighted / total).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


# --------------------------------------------------------------------------
# every region under a prefix in one GROUP BY (insights' county table)


def _grouped(qs: QuerySet, region_path: str, **aggregates) -> list[tuple]:
    key = f"{region_path}_id"
    return list(qs.values(key).order_by().annotate(**aggregates).values_list(key, *aggregates))


def interest_subsidy_by_region(prefix: str, start: date | None, end: date) -> dict[str, Decimal]:
    qs = Application.objects.filter(
        programme__kind=ProgrammeKind.INTEREST, state=ApplicationState.PAID
    )
    qs = _window(qs, "paid_on", prefix, "enterprise__region", start, end)
    return {code: _money(s) for code, s in _grouped(qs, "enterprise__region", s=Sum("amount"))}


def risk_compensation_by_region(prefix: str, start: date | None, end: date) -> dict[str, Decimal]:
    path = "registration__loan__enterprise__region"
    qs = LossClaim.objects.filter(state=ClaimState.PAID)
    qs = _window(qs, "paid_on", prefix, path, start, end)
    return {code: _money(s) for code, s in _grouped(qs, path, s=Sum("compensation"))}


def bridge_amount_by_region(prefix: str, start: date | None, end: date) -> dict[str, Decimal]:
    rows = _grouped(_draws(prefix, start, end), "enterprise__region", s=Sum("amount"))
    return {code: _money(s) for code, s in rows}


def bridge_count_by_region(prefix: str, start: date | None, end: date) -> dict[str, Decimal]:
    rows = _grouped(_draws(prefix, start, end), "enterprise__region", n=Count("pk"))
    return {code: Decimal(n or 0) for code, n in rows}


def guarantee_fee_rate_by_region(prefix: str, start: date | None, end: date) -> dict[str, Decimal]:
    qs = Loan.objects.filter(
        guarantor__isnull=False, guarantee_fee_rate__isnull=False, confirmed_at__isnull=False
    )
    qs = _window(qs, "loan_date", prefix, "enterprise__region", start, end)
    sums: dict[str, list[Decimal]] = {}
    for code, principal, rate in qs.values_list(
        "enterprise__region_id", "principal", "guarantee_fee_rate"
    ).iterator(chunk_size=5000):
        pair = sums.setdefault(code, [Decimal(0), Decimal(0)])
        pair[0] += principal * rate
        pair[1] += principal
    return {
        code: (weighted / total).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)
        for code, (weighted, total) in sums.items()
        if total
    }


def register_sources() -> None:
    from chanrong.insights.sources import register_source

    for key, fn, by_region, label, money in (
        (SOURCE_INTEREST, interest_subsidy, interest_subsidy_by_region,
         "已拨付的贷款贴息（policy）", True),
        (SOURCE_COMPENSATION, risk_compensation, risk_compensation_by_region,
         "风险补偿资金池已代偿（policy）", True),
        (SOURCE_BRIDGE_AMOUNT, bridge_amount, bridge_amount_by_region,
         "转贷应急资金出款金额（policy）", True),
        (SOURCE_BRIDGE_COUNT, bridge_count, bridge_count_by_region,
         "转贷应急资金出款笔数（policy）", False),
        (SOURCE_GUARANTEE_RATE, guarantee_fee_rate, guarantee_fee_rate_by_region,
         "担保贷款加权平均担保费率（policy）", False),
    ):  # fmt: skip
        register_source(key, fn, label=label, money=money, by_region=by_region)
