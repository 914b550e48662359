"""Indicators, financing outcomes and events for the demo pilot county.

- 嘉善's 定量指标表 (2021–2023, seed 004) as the county's indicator plan,
  loaded through the same parser and service the import page uses;
- reported actuals for 2021–2023 near the targets (monthly for a few flows,
  year-end for stocks, yearly for the rest), then every later year up to the
  build day's month continuing the 2023 trend (the build year: stocks at its
  month, monthly flows up to it, yearly flows not yet);
- platform financing outcomes (FinancingRecord, ~1,100 a year at scale 1,
  growing, mostly in 嘉善, some elsewhere in 嘉兴) from 2021 up to the build
  day, with their rollup built in one pass;
- 银企对接会 / 路演 with invitations, registrations and signed deals, most of
  them held (closed) so they count towards the 信息对接 indicators: the plan
  years' fixed ones, then twice a year up to the build day, one cancelled,
  one published a few weeks ahead and one draft for later.

Every date is placed relative to the build day (`ctx.today`).

Written with bulk_create (no per-row audit), except the plan, which goes
through insights.services so that the demo shows the import path.
"""

from __future__ import annotations

import calendar
import math
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from chanrong.accounts.models import GovernmentAgency, User
from chanrong.core.models import Region
from chanrong.events.models import (
    Event,
    EventStatus,
    Invitation,
    Registration,
    SignedDeal,
)
from chanrong.finance.models import FinancialInstitution
from chanrong.insights import services as insights
from chanrong.insights.catalogue import sync_catalogue
from chanrong.insights.models import (
    FinancingRecord,
    IndicatorActual,
    IndicatorDefinition,
    IndicatorTarget,
)
from chanrong.insights.tables import JIASHAN_TABLE
from chanrong.registry.models import Enterprise

from .base import DemoContext, add_months, bulk_insert, next_workday

NAME = "insights"

PILOT_COUNTY = "330421"
PILOT_CITY = "330400"
PLAN_YEARS = (2021, 2022, 2023)
# Flows reported month by month (the rest yearly): shows the monthly roll-up.
MONTHLY = {"fixed-asset-investment", "industrial-value-added", "fiscal-funds"}
YI = Decimal(100_000_000)
WAN = Decimal(10_000)


def build(ctx: DemoContext) -> None:
    # The catalogue is reference data from a migration; a demo rebuild may have
    # flushed it with the business tables, so put it back first.
    sync_catalogue(IndicatorDefinition)
    gov = User.objects.get(username="gov_jiashan")
    plan = insights.import_plan_table(
        gov,
        Region.objects.get(code=PILOT_COUNTY),
        JIASHAN_TABLE.read_text(encoding="utf-8"),
    )
    ctx.counts["indicator_plans"] = 1
    ctx.refs["indicator_plan"] = plan
    _actuals(ctx, plan, gov, ctx.today)
    _financing(ctx)
    _events(ctx)


def _q(value: float, places: int = 2) -> Decimal:
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _actuals(ctx: DemoContext, plan, gov: User, today: date) -> None:
    """Actuals from 2021 up to `today`'s month: the build year is reported
    so far (stocks at the current month, monthly flows up to it)."""
    rng = ctx.rng("insights-actuals")
    current = today.year
    after = PLAN_YEARS[-1]
    targets = {
        (t.definition.code, t.year): t
        for t in IndicatorTarget.objects.filter(plan=plan).select_related("definition")
    }
    definitions = [d for d in IndicatorDefinition.objects.order_by("sort_order") if not d.source]
    rows: list[IndicatorActual] = []
    for d in definitions:
        for year in range(PLAN_YEARS[0], current + 1):
            target = targets.get((d.code, min(year, after)))
            if target is None or target.value is None:
                continue
            # Later years continue the 2023 trend; the plan years land near target.
            if year <= after:
                factor = rng.uniform(0.93, 1.07)
            elif d.is_rate:
                factor = rng.uniform(1.0, 1.06)
            else:
                factor = 1.08 ** (year - after) * rng.uniform(0.97, 1.03)
            level = float(target.value) * factor
            places = target.value_places or 0
            second = None
            if target.second_value is not None and d.second_kind == "measure":
                second = _q(float(target.second_value) * rng.uniform(0.95, 1.05), 2)
            if d.kind == "stock":
                if d.unit in ("个", "支"):
                    level = round(level)
                    places = 0
                ends = [(year, 12)] if year < current else [(current, today.month)]
                for y, m in ends:
                    start, end = date(y, m, 1), date(y, m, calendar.monthrange(y, m)[1])
                    rows.append(
                        IndicatorActual(
                            region_id=PILOT_COUNTY,
                            definition=d,
                            period_type="month",
                            year=y,
                            number=m,
                            period_start=start,
                            period_end=end,
                            value=_q(level, max(places, 0)),
                            second_value=second,
                            reported_by=gov,
                        )
                    )
            elif d.code in MONTHLY and not d.is_rate:
                months = 12 if year < current else today.month
                weights = [1 + 0.25 * math.sin(m / 2) + rng.uniform(-0.1, 0.1) for m in range(12)]
                total = sum(weights)
                for m in range(1, months + 1):
                    start = date(year, m, 1)
                    end = date(year, m, calendar.monthrange(year, m)[1])
                    rows.append(
                        IndicatorActual(
                            region_id=PILOT_COUNTY,
                            definition=d,
                            period_type="month",
                            year=year,
                            number=m,
                            period_start=start,
                            period_end=end,
                            value=_q(level * weights[m - 1] / total, 2),
                            reported_by=gov,
                        )
                    )
            elif year < current:
                rows.append(
                    IndicatorActual(
                        region_id=PILOT_COUNTY,
                        definition=d,
                        period_type="year",
                        year=year,
                        number=1,
                        period_start=date(year, 1, 1),
                        period_end=date(year, 12, 31),
                        value=_q(level, max(places, 2) if d.is_rate else 2),
                        second_value=second,
                        reported_by=gov,
                    )
                )
    # A baseline for 2020 so that 2021's growth rates have something to grow from.
    for d in definitions:
        if d.second_kind != "growth":
            continue
        t = targets.get((d.code, 2021))
        if t is None or t.value is None or t.second_value is None:
            continue
        base = float(t.value) / (1 + float(t.second_value) / 100)
        if d.kind == "stock":
            period = ("month", 12, date(2020, 12, 1), date(2020, 12, 31))
        else:
            period = ("year", 1, date(2020, 1, 1), date(2020, 12, 31))
        if d.code in MONTHLY:
            # Monthly flows: a 2020 yearly figure, which the roll-up uses whole.
            period = ("year", 1, date(2020, 1, 1), date(2020, 12, 31))
        rows.append(
            IndicatorActual(
                region_id=PILOT_COUNTY,
                definition=d,
                period_type=period[0],
                year=2020,
                number=period[1],
                period_start=period[2],
                period_end=period[3],
                value=_q(base, 2),
                reported_by=gov,
            )
        )
    bulk_insert(ctx, IndicatorActual, rows, "indicator_actuals")


def _financing(ctx: DemoContext) -> None:
    rng = ctx.rng("insights-financing")
    enterprises = list(
        Enterprise.objects.filter(region__code__startswith="3304")
        .order_by("uscc")
        .values_list("pk", "region_id", "industry_id")
    )
    if not enterprises:
        return
    institutions = list(FinancialInstitution.objects.order_by("name").values_list("pk", flat=True))
    local_first = list(
        FinancialInstitution.objects.filter(region__code__startswith="33")
        .order_by("name")
        .values_list("pk", flat=True)
    )
    weights = [3.0 if pk in local_first else 1.0 for pk in institutions]
    today = ctx.today
    # ~1,100 in 2021, growing by ~120 a year; the build year up to today.
    records: list[FinancingRecord] = []
    serial = 0
    for year in range(PLAN_YEARS[0], today.year + 1):
        count = 1100 + 120 * (year - PLAN_YEARS[0])
        days = 366 if calendar.isleap(year) else 365
        if year == today.year:
            count = count * today.timetuple().tm_yday / days
            days = today.timetuple().tm_yday
        for _ in range(max(1, round(count * ctx.scale))):
            enterprise_id, region_id, industry_id = rng.choice(enterprises)
            on = date(year, 1, 1) + timedelta(days=rng.randrange(days))
            # Log-normal around 800 万元: most loans small, a few very large.
            amount = Decimal(str(round(math.exp(rng.gauss(math.log(600), 0.9)), 2))) * WAN
            serial += 1
            records.append(
                FinancingRecord(
                    region_id=region_id,
                    industry_id=industry_id,
                    section=(industry_id or "")[:1],
                    institution_id=rng.choices(institutions, weights)[0],
                    enterprise_id=enterprise_id,
                    date=on,
                    amount=amount.quantize(Decimal("0.01")),
                    source_ref=f"demo:{serial}",
                )
            )
    bulk_insert(ctx, FinancingRecord, records, "financing_records")
    ctx.counts["financing_rollup_rows"] = insights.rebuild_rollups()


EVENT_TITLES = (
    ("matchmaking", "嘉善县制造业银企对接会"),
    ("matchmaking", "长三角一体化示范区金融服务对接会"),
    ("roadshow", "科创企业投融资路演"),
    ("matchmaking", "“专精特新”企业融资对接会"),
    ("roadshow", "数字经济产业项目路演"),
)
PLACES = ("嘉善县行政中心", "祥符荡科创绿谷", "嘉善县人民大会堂", "西塘古镇会议中心")


def event_plan(today: date) -> list[tuple[date, str]]:
    """When the demo's events are held: the plan years' (fixed: the 信息对接
    indicators of 2021–2023 count them), then one in spring and one in
    autumn of every later year up to `today` (the autumn one of the first
    later year cancelled), one published for about three weeks ahead and a
    draft about two months ahead. Events fall on working days."""
    plan = [
        (date(2021, 5, 18), EventStatus.CLOSED),
        (date(2021, 11, 9), EventStatus.CLOSED),
        (date(2022, 4, 22), EventStatus.CLOSED),
        (date(2022, 10, 14), EventStatus.CLOSED),
        (date(2023, 3, 30), EventStatus.CLOSED),
        (date(2023, 6, 16), EventStatus.CLOSED),
        (date(2023, 11, 2), EventStatus.CLOSED),
    ]
    for year in range(PLAN_YEARS[-1] + 1, today.year + 1):
        for month, day in ((5, 10), (10, 20)):
            on = next_workday(date(year, month, day))
            if on >= today:
                break
            cancelled = year == PLAN_YEARS[-1] + 1 and month == 10
            plan.append((on, EventStatus.CANCELLED if cancelled else EventStatus.CLOSED))
    plan.append((next_workday(today + timedelta(days=21)), EventStatus.PUBLISHED))
    plan.append((next_workday(add_months(today, 2) + timedelta(days=9)), EventStatus.DRAFT))
    return plan


def _events(ctx: DemoContext) -> None:
    rng = ctx.rng("insights-events")
    organiser = GovernmentAgency.objects.filter(name="嘉善县经济和信息化局").first()
    if organiser is None:
        return
    enterprises = list(Enterprise.objects.filter(region_id=PILOT_COUNTY).order_by("uscc")[:400])
    banks = list(
        FinancialInstitution.objects.filter(region__code__startswith="33").order_by("name")
    ) or list(FinancialInstitution.objects.order_by("name"))
    if not enterprises or not banks:
        return
    ent_users = {
        u.enterprise_id: u
        for u in User.objects.filter(enterprise__isnull=False, enterprise__region_id=PILOT_COUNTY)
    }
    inst_users = {
        u.institution_id: u
        for u in User.objects.filter(institution__isnull=False).order_by("username")
    }
    creator = User.objects.filter(username="gov_jiashan").first()
    events: list[Event] = []
    plan = event_plan(ctx.today)
    for i, (on, status) in enumerate(plan):
        y = on.year
        kind, title = EVENT_TITLES[i % len(EVENT_TITLES)]
        events.append(
            Event(
                kind=kind,
                title=f"{y}年{title}",
                description="由嘉善县经济和信息化局会同人行嘉善县支行、县金融发展服务中心举办。",
                date=on,
                place=PLACES[i % len(PLACES)],
                region_id=PILOT_COUNTY,
                organiser=organiser,
                is_open=i % 3 == 0,
                status=status,
                created_by=creator,
            )
        )
    bulk_insert(ctx, Event, events, "events")
    invitations: list[Invitation] = []
    registrations: list[Registration] = []
    deals: list[SignedDeal] = []
    for event in events:
        if event.status == EventStatus.DRAFT:
            continue
        invited_e = rng.sample(enterprises, min(len(enterprises), 25))
        invited_b = rng.sample(banks, min(len(banks), 8))
        invitations += [Invitation(event=event, enterprise=e) for e in invited_e]
        invitations += [Invitation(event=event, institution=b) for b in invited_b]
        for party in (*invited_e, *invited_b):
            user = (
                ent_users.get(party.pk)
                if isinstance(party, Enterprise)
                else inst_users.get(party.pk)
            )
            if user is not None:
                registrations.append(
                    Registration(
                        event=event,
                        user=user,
                        enterprise=party if isinstance(party, Enterprise) else None,
                        institution=party if isinstance(party, FinancialInstitution) else None,
                    )
                )
        if event.status != EventStatus.CLOSED:
            continue
        # Big matchmaking fairs sign 30–60 亿元 in a few dozen agreements.
        for _ in range(max(3, round(rng.randint(20, 35) * min(ctx.scale, 1)))):
            amount = Decimal(str(round(rng.uniform(3000, 30000), 0))) * WAN
            deals.append(
                SignedDeal(
                    event=event,
                    enterprise=rng.choice(invited_e),
                    institution=rng.choice(invited_b),
                    amount=amount,
                    signed_on=event.date,
                    recorded_by=creator,
                )
            )
    bulk_insert(ctx, Invitation, invitations, "event_invitations")
    bulk_insert(ctx, Registration, registrations, "event_registrations")
    bulk_insert(ctx, SignedDeal, deals, "event_deals")
