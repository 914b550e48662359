"""What the demo's indicator table computes itself from, for every year of
嘉善's plan (2021–2023) and the year before it (2020, the base of 2021's
growth), plus 厦门's plan as a second one.

Choice (docs/indicators.md): the plan years stay as approved (2021–2023)
and the demo's loan history is extended back to them. The risk builder's
loan book reaches back five years from the build day, so on a build day in
2026 the year ends of 2020 and 2021 would hold almost no loans. This builder
adds the older part of the book: loans 嘉善's banks reported as made from
2019 up to the start of the risk builder's window, with their repayments
(settled at maturity), their five-category history (some fall 次级 and
later 可疑) and a few still running, so 制造业贷款余额, 中长期, 普惠型,
不良贷款率 and 绿色信贷 have a figure at every plan year end, rebuilt from
history like any other loan.

It also publishes 嘉善县绿色融资企业（项目）库 (ListType.GREEN), version 1 in
force from 2020-07-01 and version 2 from 2022-07-01 (some added, a few
removed), so 绿色信贷余额 follows the list in force at each date; and records
a few figures reported by 人民银行嘉善县支行 beside the computed ones, with the
explanation of the difference (计算值与填报值).

Written with bulk_create (no per-row audit; the list versions and the
comparisons through plain creates); random numbers from this builder's own
stream; nothing dated after the build day.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal

from chanrong.accounts.models import GovernmentAgency, User
from chanrong.core.models import Region
from chanrong.finance.models import FinancialInstitution, InstitutionKind
from chanrong.insights import services as insights
from chanrong.insights.models import IndicatorActual, IndicatorDefinition, PeriodType
from chanrong.insights.xiamen import load_xiamen_plan
from chanrong.registry.models import (
    Enterprise,
    EnterpriseList,
    EntryChange,
    ListEntry,
    ListType,
    ListVersion,
    VersionStatus,
)
from chanrong.risk.models import LoanAccount, LoanEvent, LoanStatus, Repayment

from .base import DemoContext, bulk_insert, refresh_statistics

NAME = "indicators"
# Rows go into tables the risk, registry and insights builders already declare.
MODELS: tuple[str, ...] = ()

PILOT_COUNTY = "330421"
HISTORY_FROM = date(2019, 1, 1)
WAN = Decimal(10_000)
#: Old loans at scale 1 (嘉善's reported book before the risk builder's window).
HISTORY_LOANS = 900


def build(ctx: DemoContext) -> None:
    rng = ctx.rng("indicators")
    enterprises = list(
        Enterprise.objects.filter(region_id=PILOT_COUNTY)
        .order_by("uscc")
        .values_list("pk", "industry_id", "size")
    )
    banks = list(
        FinancialInstitution.objects.filter(
            kind=InstitutionKind.BANK, region__code__startswith="33"
        )
        .order_by("name")
        .values_list("pk", flat=True)
    ) or list(FinancialInstitution.objects.order_by("name").values_list("pk", flat=True))
    if enterprises and banks:
        _history(ctx, rng, enterprises, banks)
        _green_list(ctx, rng, [pk for pk, _i, _s in enterprises])
    admin = User.objects.filter(username="admin").first()
    if admin is not None and Region.objects.filter(code="350200").exists():
        ctx.refs["xiamen_plan"] = load_xiamen_plan(admin)
        ctx.counts["indicator_plans"] = ctx.counts.get("indicator_plans", 0) + 1
    refresh_statistics()  # the comparisons compute figures over the loan book just written
    _comparisons(ctx)


def _window_start(ctx: DemoContext) -> date:
    """Where the risk builder's reported loans begin (REPORTED_YEARS back)."""
    from . import risk

    return ctx.today - timedelta(days=risk.REPORTED_YEARS * 365)


def _history(ctx: DemoContext, rng, enterprises, banks) -> None:
    end = min(_window_start(ctx), ctx.today)
    span = (end - HISTORY_FROM).days
    if span <= 0:
        return
    count = max(20, round(HISTORY_LOANS * ctx.scale))
    loans: list[LoanAccount] = []
    plans: list[tuple[int, str]] = []  # (years of term, fate)
    for n in range(count):
        enterprise_id, industry_id, size = rng.choice(enterprises)
        on = HISTORY_FROM + timedelta(days=rng.randrange(span))
        years = rng.choice((1, 1, 1, 2, 3, 5))
        maturity = date(on.year + years, on.month, min(on.day, 28))
        # Log-normal around 300 万元 for small firms, larger for the rest.
        centre = 300 if size in ("small", "micro") else 1500
        principal = Decimal(str(round(math.exp(rng.gauss(math.log(centre), 0.8)), 0))) * WAN
        fate = "bad" if rng.random() < 0.03 else "good"
        settled = fate == "good" and maturity <= ctx.today
        loans.append(
            LoanAccount(
                enterprise_id=enterprise_id,
                institution_id=rng.choice(banks),
                source="reported",
                contract_no=f"HIS-{on:%Y%m}-{n + 1:05d}",
                principal=principal,
                rate=Decimal(str(round(rng.uniform(3.6, 6.2), 2))),
                disbursed_on=on,
                maturity_on=maturity,
                status=LoanStatus.SETTLED if settled else LoanStatus.ACTIVE,
                classification="normal",
                repaid_principal=principal if settled else Decimal(0),
                outstanding=Decimal(0) if settled else principal,
                closed_on=maturity if settled else None,
                reported_on=min(maturity, ctx.today),
            )
        )
        plans.append((years, fate))
    bulk_insert(ctx, LoanAccount, loans, "indicator_history_loans")
    repayments: list[Repayment] = []
    events: list[LoanEvent] = []
    for loan, (_years, fate) in zip(loans, plans, strict=True):
        events.append(
            LoanEvent(
                loan=loan, kind="opened", on=loan.disbursed_on, classification="normal",
                outstanding=loan.principal,
            )
        )  # fmt: skip
        if loan.status == LoanStatus.SETTLED:
            repayments.append(
                Repayment(
                    loan=loan, paid_on=loan.maturity_on, principal=loan.principal,
                    reference=f"{loan.contract_no}-R",
                )
            )  # fmt: skip
            events.append(
                LoanEvent(
                    loan=loan, kind="settled", on=loan.maturity_on, classification="normal",
                    outstanding=Decimal(0),
                )
            )  # fmt: skip
        elif fate == "bad":
            first = loan.disbursed_on + timedelta(days=rng.randint(120, 400))
            previous = "normal"
            worst = "normal"
            for days, cls in ((30, "special_mention"), (90, "substandard"), (180, "doubtful")):
                on = first + timedelta(days=days)
                if on > ctx.today:
                    break
                events.append(
                    LoanEvent(
                        loan=loan, kind="status", on=on, classification=cls,
                        previous_classification=previous, days_overdue=days,
                        outstanding=loan.principal,
                    )
                )  # fmt: skip
                previous = worst = cls
            LoanAccount.objects.filter(pk=loan.pk).update(classification=worst)
    bulk_insert(ctx, Repayment, repayments, "indicator_history_repayments")
    bulk_insert(ctx, LoanEvent, events, "indicator_history_events")


def _green_list(ctx: DemoContext, rng, enterprise_ids: list[int]) -> None:
    agency = GovernmentAgency.objects.filter(region_id=PILOT_COUNTY).order_by("pk").first()
    if agency is None:
        return
    green = EnterpriseList.objects.create(
        list_type=ListType.GREEN,
        name="嘉善县绿色融资企业（项目）库",
        agency=agency,
        region_id=PILOT_COUNTY,
        description="演示数据：入库企业的贷款计入绿色信贷余额。",
    )
    first = sorted(rng.sample(enterprise_ids, max(1, len(enterprise_ids) // 12)))
    removed = set(first[: max(1, len(first) // 10)])
    listed = set(first)
    joining = sorted(
        rng.sample(
            [pk for pk in enterprise_ids if pk not in listed],
            max(1, len(enterprise_ids) // 25),
        )
    )
    v2_from = date(2022, 7, 1)
    dates = ((1, date(2020, 7, 1), v2_from - timedelta(days=1)), (2, v2_from, None))
    # bulk_create: a version is frozen once published, and save() says so.
    versions = ListVersion.objects.bulk_create(
        [
            ListVersion(
                list=green,
                number=number,
                status=VersionStatus.PUBLISHED,
                effective_from=start,
                effective_until=until,
                note="年度调整" if number == 2 else "首批入库",
            )
            for number, start, until in dates
        ]
    )
    entries = [
        ListEntry(version=versions[0], enterprise_id=pk, change=EntryChange.ADDED) for pk in first
    ]
    entries += [
        ListEntry(
            version=versions[1],
            enterprise_id=pk,
            change=EntryChange.REMOVED if pk in removed else EntryChange.KEPT,
            reason="不再符合入库条件" if pk in removed else "",
        )
        for pk in first
    ]
    entries += [
        ListEntry(version=versions[1], enterprise_id=pk, change=EntryChange.ADDED, reason="新入库")
        for pk in joining
    ]
    bulk_insert(ctx, ListEntry, entries, "green_list_entries")
    ctx.counts["green_list_versions"] = 2


#: What 人民银行嘉善县支行 reported for 2022 beside the platform's figures
#: (亿元 / %), and why they differ.
REPORTED_2022 = (
    ("manufacturing-loans", "380", "人行口径为辖内全部银行业金融机构的制造业贷款；平台只含在平台撮合或由机构报送的贷款。"),
    ("npl-ratio", "0.72", "人行按法人机构报表汇总；平台按借款企业所在地归集，且以最近一次报送的分类为准。"),
    ("inclusive-sme-loans", "640", "人行以各行单户授信额度判断普惠型；平台无授信数据，以在贷本金合计代替。"),
)  # fmt: skip


def _comparisons(ctx: DemoContext) -> None:
    gov = User.objects.filter(username="gov_jiashan").first()
    region = Region.objects.filter(code=PILOT_COUNTY).first()
    if gov is None or region is None:
        return
    definitions = {d.code: d for d in IndicatorDefinition.objects.all()}
    rows = []
    for code, value, note in REPORTED_2022:
        d = definitions.get(code)
        if d is None or not d.computed:
            continue
        computed = insights.indicator_value(d, region, date(2022, 1, 1), date(2022, 12, 31)).value
        rows.append(
            IndicatorActual(
                region=region, definition=d, period_type=PeriodType.YEAR, year=2022, number=1,
                period_start=date(2022, 1, 1), period_end=date(2022, 12, 31),
                value=Decimal(value), computed_value=computed, reported_by=gov,
                source_body="中国人民银行嘉善县支行",
                source_document="嘉善县2022年12月金融运行情况",
                source_date=date(2023, 1, 18), note=note,
            )
        )  # fmt: skip
    bulk_insert(ctx, IndicatorActual, rows, "indicator_comparisons")
