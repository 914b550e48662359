"""Demo carbon reports and 碳效 grades (issue 18), after `registry` (it reads
the enterprises' revenue and monthly operating records).

A few hundred manufacturing enterprises of 嘉兴 (嘉善 first, and enough of
the city's other counties that most divisions have ten peers in 浙江) report
the last three years' energy and material use: purchased electricity (a
part of it green for some), natural gas, diesel, coal for a few, and the
process lines of the divisions that have them (水泥熟料 and 石灰 in C30,
石灰石 as flux in C31). Quantities follow each enterprise's revenue and a
carbon intensity drawn around its division's typical level, so the grades
spread over 1–5. A handful report month by month instead of yearly. The
demo enterprises: ent_user's reports every year with green power; ent2_user's
the last year only. Accounting goes through `services.carbon.account` (the
engine, the shipped factors), grades through `services.grades.recompute`.

Written with bulk_create (no per-row audit); random numbers from this
builder's own stream; deterministic by seed.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Sum

from chanrong.green.models import (
    CarbonLine,
    CarbonReport,
    EmissionFactor,
    ReportSource,
)
from chanrong.green.services import grades
from chanrong.green.services.carbon import CleanLine, CleanReport, account
from chanrong.green.services.carbon_factors import FactorBook, load_shipped
from chanrong.green.services.carbon_items import ITEMS
from chanrong.registry.models import Enterprise, OperatingRecord, PeriodType

from .base import DemoContext, bulk_insert

NAME = "green_carbon"
MODELS = ("green.carbonreport", "green.carbonline", "green.carbongrade")

JIASHAN = "330421"
JIAXING = "3304"
#: Typical t CO2 per 万元 revenue by division (rough orders of magnitude for
#: the demo only; grades come from the peers, not from these).
TYPICAL = {"C30": 2.5, "C31": 3.0, "C26": 0.9, "C22": 0.8, "C17": 0.5, "C32": 1.2}
DEFAULT_TYPICAL = 0.25
#: Share of emissions by item for an ordinary manufacturer (electricity first).
MIX = (("grid_electricity", 0.62), ("natural_gas", 0.2), ("diesel", 0.05), ("raw_coal", 0.13))


def _unit_co2(book: FactorBook, code: str, year: int, province: str) -> float:
    chosen = book.choose(ITEMS[code].factor_code, year, province)
    return float(chosen.factor.co2_per_unit)


def _lines(rng, book, division: str, year: int, province: str, tonnes: float, green: bool):
    """Lines whose emissions add up to about `tonnes` t CO2."""
    mix = list(MIX)
    if division == "C30":
        mix = [("clinker", 0.55), ("lime", 0.05), ("raw_coal", 0.25), ("grid_electricity", 0.15)]
    elif division == "C31":
        mix = [
            ("coke", 0.55),
            ("limestone", 0.08),
            ("grid_electricity", 0.3),
            ("natural_gas", 0.07),
        ]
    elif rng.random() < 0.6:
        mix = [(code, share) for code, share in mix if code != "raw_coal"]
    if rng.random() < 0.25:
        mix.append(("heat", 0.08))
    lines = []
    for code, share in mix:
        co2 = tonnes * share * rng.uniform(0.7, 1.3)
        quantity = co2 / _unit_co2(book, code, year, province)
        item = ITEMS[code]
        if code in ("grid_electricity",):
            unit, q = "万kWh", Decimal(str(round(quantity / 10, 2)))
        elif code == "natural_gas":
            unit, q = "万Nm3", Decimal(str(round(quantity, 3)))
        elif code == "heat":
            unit, q = "GJ", Decimal(str(round(quantity, 1)))
        else:
            unit, q = "t", Decimal(str(round(quantity, 2)))
        if q <= 0:
            continue
        lines.append(CleanLine(code, q, unit, q * item.units[unit]))
        if code == "grid_electricity" and green:
            part = (q * Decimal(str(rng.uniform(0.1, 0.4)))).quantize(Decimal("0.01"))
            lines.append(CleanLine("green_electricity", part, unit, part * item.units[unit]))
    return lines


def _revenues(enterprise_ids: list[int], years: list[int]) -> dict[tuple[int, int], Decimal]:
    """Revenue of each enterprise-year with all twelve monthly records."""
    rows = (
        OperatingRecord.objects.filter(
            enterprise_id__in=enterprise_ids,
            period_type=PeriodType.MONTH,
            period_start__year__in=years,
            revenue__isnull=False,
        )
        .values("enterprise_id", "period_start__year")
        .annotate(n=Count("pk"), total=Sum("revenue"))
    )
    return {(r["enterprise_id"], r["period_start__year"]): r["total"] for r in rows if r["n"] == 12}


def build(ctx: DemoContext) -> None:
    rng = ctx.rng(NAME)
    if not EmissionFactor.objects.exists():
        load_shipped()
    book = FactorBook()
    years = [ctx.today.year - 3, ctx.today.year - 2, ctx.today.year - 1]
    demo = [e.pk for e in ctx.refs.get("demo_enterprises", [])]
    # A few hundred (300 at scale 0.2, 400 from scale 0.27 up): enough that the
    # larger divisions have the ten peers a grade needs.
    wanted = max(60, min(400, round(1500 * ctx.scale)))
    manufacturers = Enterprise.objects.filter(
        industry__code__startswith="C", revenue__gt=0
    ).exclude(pk__in=demo)
    chosen = list(
        manufacturers.filter(region_id=JIASHAN)
        .order_by("pk")
        .values_list("pk", flat=True)[: wanted // 2]
    )
    chosen += list(
        manufacturers.filter(region__code__startswith=JIAXING)
        .exclude(region_id=JIASHAN)
        .order_by("pk")
        .values_list("pk", flat=True)[: wanted - len(chosen)]
    )
    enterprises = list(
        Enterprise.objects.filter(pk__in=[*demo, *chosen])
        .order_by("pk")
        .only("pk", "region_id", "industry_id", "revenue")
    )
    from_records = _revenues([e.pk for e in enterprises], years)

    plans: list[tuple[Enterprise, int, int | None, Decimal, str]] = []
    cleaned: list[CleanReport] = []
    for e in enterprises:
        division = e.industry_id[:3]
        typical = TYPICAL.get(division, DEFAULT_TYPICAL) * rng.lognormvariate(0, 0.45)
        green = e.pk == (demo[0] if demo else None) or rng.random() < 0.2
        monthly = e.pk not in demo and rng.random() < 0.03
        report_years = years[-1:] if demo[1:] and e.pk == demo[1] else years
        for year in report_years:
            revenue = from_records.get((e.pk, year))
            basis = f"名录库经营数据（{year}年12个月合计）"
            if revenue is None:
                revenue = (e.revenue * Decimal(str(rng.uniform(0.85, 1.1)))).quantize(
                    Decimal("0.01")
                )
                basis = "企业档案营业收入"
            trend = 1 - 0.04 * (year - years[0])  # a little cleaner each year
            tonnes = float(revenue) / 10_000 * typical * trend
            province = e.region_id[:2] + "0000"
            months = range(1, 13) if monthly else [None]
            for month in months:
                share = 1 / 12 if month else 1
                lines = _lines(rng, book, division, year, province, tonnes * share, green)
                if not lines:
                    continue
                part = (revenue / 12).quantize(Decimal("0.01")) if month else revenue
                plans.append((e, year, month, part, basis if not month else "企业月度填报"))
                cleaned.append(CleanReport(year, month, lines))

    results = account(
        cleaned,
        [p[0].region_id[:2] + "0000" for p in plans],
        [p[3] for p in plans],
        book,
    )
    reports, line_rows = [], []
    for (e, year, month, revenue, basis), accounted in zip(plans, results, strict=True):
        if isinstance(accounted, list):  # no factor: cannot happen with the shipped data
            continue
        report = CarbonReport(
            enterprise_id=e.pk,
            year=year,
            month=month,
            revenue=revenue,
            revenue_basis=basis,
            scope1=accounted.scope1,
            scope2=accounted.scope2,
            total=accounted.total,
            intensity_revenue=accounted.intensity_revenue,
            source=ReportSource.ENTERPRISE if rng.random() < 0.7 else ReportSource.IMPORT,
        )
        reports.append(report)
        line_rows.append(accounted.lines)
    bulk_insert(ctx, CarbonReport, reports, "carbon reports")
    lines = [
        CarbonLine(
            report=report,
            position=i,
            item=line.item,
            quantity=line.quantity,
            unit=line.unit,
            quantity_base=line.quantity_base,
            factor=factor,
            co2=co2,
        )
        for report, accounted_lines in zip(reports, line_rows, strict=True)
        for i, (line, factor, co2) in enumerate(accounted_lines)
    ]
    bulk_insert(ctx, CarbonLine, lines, "carbon report lines")
    graded = sum(grades.recompute(year) for year in years)
    ctx.counts["carbon grades"] = ctx.counts.get("carbon grades", 0) + graded
