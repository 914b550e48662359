"""产业基金 in the demo: a handful of funds and their investments.

- 嘉善县产业引导基金 (政府引导基金, managed by 嘉善产业基金, registered in
  嘉善): manufacturing divisions of the county's chains, 初创/成长期;
- 浙江省产业投资基金 (政府投资基金, 浙江产业基金, the province) and a
  provincial 创业投资基金 (浙商证券's arm, 嘉兴) for 种子/初创期 tech
  enterprises, and a 私募股权基金 (财通证券's arm, the province) for 成长/成熟期;
- an older 产业投资基金 of 嘉兴 that was wound up two years before the
  build day (so the 时点 counts change over the years).

Investments go into enterprises of each fund's region, spread from the
fund's inception (or five years back) to the day before the build day, each
within the fund's ticket and the whole within its paid-in size. The equity
demands the funds match are the demands builder's (DemandKind.EQUITY).

Written with bulk_create (no per-row audit); every choice from this
builder's own stream, every date relative to the build day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from chanrong.core.models import Region
from chanrong.funds.models import Fund, FundInvestment, FundKind, FundStatus, InvestmentRound
from chanrong.registry.models import Enterprise

from .base import DemoContext

NAME = "funds"
MODELS = ("funds.fund", "funds.fundinvestment")

WAN = Decimal(10000)


@dataclass(frozen=True)
class FundSpec:
    name: str
    kind: str
    manager: str  # organisations' institution key
    region: str
    target_yi: int  # 亿元
    paid_in_yi: int
    industries: tuple[str, ...]
    stages: tuple[str, ...]
    ticket_wan: tuple[int, int]
    age_years: int  # inception, years before the build day
    investments: int  # at scale 1
    closed_years_ago: int | None = None


FUNDS = (
    FundSpec(
        "嘉善县产业引导基金",
        FundKind.GUIDANCE,
        "jsfund",
        "330421",
        10,
        5,
        ("C34", "C35", "C38", "C39"),
        ("startup", "growth"),
        (500, 5000),
        6,
        24,
    ),
    FundSpec(
        "浙江省产业投资基金",
        FundKind.GOVERNMENT,
        "zjfund",
        "330000",
        200,
        80,
        ("C",),
        ("growth", "mature"),
        (3000, 30000),
        8,
        40,
    ),
    FundSpec(
        "浙商创新创业投资基金",
        FundKind.VENTURE,
        "czsec",
        "330400",
        5,
        3,
        ("C39", "C40", "I"),
        ("seed", "startup"),
        (200, 2000),
        5,
        20,
    ),
    FundSpec(
        "财通产融私募股权投资基金",
        FundKind.PRIVATE_EQUITY,
        "ctsec",
        "330000",
        30,
        20,
        (),
        ("growth", "mature"),
        (2000, 20000),
        4,
        16,
    ),
    FundSpec(
        "嘉兴市先进制造产业投资基金",
        FundKind.INDUSTRY,
        "zjfund",
        "330400",
        10,
        6,
        ("C",),
        ("growth",),
        (1000, 8000),
        9,
        10,
        closed_years_ago=2,
    ),
)

ROUNDS = {
    "seed": (InvestmentRound.ANGEL, InvestmentRound.PRE_A),
    "startup": (InvestmentRound.PRE_A, InvestmentRound.A),
    "growth": (InvestmentRound.B, InvestmentRound.C, InvestmentRound.PROJECT),
    "mature": (InvestmentRound.PRE_IPO, InvestmentRound.PRIVATE_PLACEMENT),
}


def _day(today: date, years_ago: float) -> date:
    return today - timedelta(days=round(365.25 * years_ago))


def build(ctx: DemoContext) -> None:
    rng = ctx.rng(NAME)
    institutions = ctx.refs["institutions"]
    today = ctx.today
    funds: list[Fund] = []
    for spec in FUNDS:
        closed_on = None if spec.closed_years_ago is None else _day(today, spec.closed_years_ago)
        funds.append(
            Fund(
                name=spec.name,
                kind=spec.kind,
                target_size=spec.target_yi * 10000 * WAN,
                paid_in_size=spec.paid_in_yi * 10000 * WAN,
                manager=institutions[spec.manager],
                region_id=spec.region,
                focus_industries=list(spec.industries),
                focus_stages=list(spec.stages),
                ticket_min=spec.ticket_wan[0] * WAN,
                ticket_max=spec.ticket_wan[1] * WAN,
                inception_date=_day(today, spec.age_years),
                closed_on=closed_on,
                status=FundStatus.CLOSED if closed_on else FundStatus.INVESTING,
            )
        )
    Fund.objects.bulk_create(funds)

    investments: list[FundInvestment] = []
    for spec, fund in zip(FUNDS, funds, strict=True):
        prefix = Region.objects.get(code=spec.region).prefix
        candidates = list(
            Enterprise.objects.filter(region__code__startswith=prefix)
            .order_by("pk")
            .values_list("pk", flat=True)[:2000]
        )
        if not candidates:
            continue
        n = max(3, round(spec.investments * min(1.0, ctx.scale * 10)))
        start = max(fund.inception_date, _day(today, 5))
        end = (fund.closed_on or today) - timedelta(days=1)
        span = max(1, (end - start).days)
        room = fund.paid_in_size
        for _i in range(n):
            amount = Decimal(rng.randint(spec.ticket_wan[0], spec.ticket_wan[1])) * WAN
            if amount > room:
                break
            room -= amount
            stage = rng.choice(spec.stages)
            investments.append(
                FundInvestment(
                    fund=fund,
                    enterprise_id=rng.choice(candidates),
                    round=rng.choice(ROUNDS[stage]),
                    amount=amount,
                    invested_on=start + timedelta(days=rng.randrange(span)),
                    share_pct=Decimal(rng.randint(200, 2000)) / 100,
                    exited_on=None,
                )
            )
    FundInvestment.objects.bulk_create(investments, batch_size=ctx.batch_size)
    ctx.counts["funds"] = len(funds)
    ctx.counts["fund_investments"] = len(investments)


def digest_rows():
    yield (
        "funds",
        Fund.objects.order_by("name").values_list(
            "name", "kind", "manager__name", "region_id", "paid_in_size", "inception_date", "status"
        ),
    )
    yield (
        "fund_investments",
        FundInvestment.objects.order_by("fund__name", "invested_on", "enterprise__uscc", "amount")
        .values_list("fund__name", "enterprise__uscc", "round", "amount", "invested_on")
        .iterator(chunk_size=5000),
    )
