"""时期 vs 时点: flows add up over months and regions; stocks never add up over time."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chanrong.core.errors import ValidationFailed
from chanrong.core.models import Region
from chanrong.insights import aggregate, services
from chanrong.insights.aggregate import Report
from chanrong.insights.models import IndicatorDefinition

D = Decimal


def month(y, m, v):
    start, end = services.period_bounds("month", y, m)
    return Report("330421", "month", start, end, D(v))


def test_flow_sums_months_and_stock_takes_latest():
    reports = [month(2022, m, m * 10) for m in range(1, 13)]
    year = (date(2022, 1, 1), date(2022, 12, 31))
    flow = aggregate.flow(reports, *year)
    assert flow.value == sum(D(m * 10) for m in range(1, 13))
    assert flow.complete
    stock = aggregate.level(reports, year[1])
    assert stock.value == D(120)  # December's level, not the sum
    assert stock.as_of == date(2022, 12, 31)


def test_flow_prefers_the_coarsest_report_and_never_double_counts():
    reports = [month(2022, m, 1) for m in range(1, 13)]
    q2 = services.period_bounds("quarter", 2022, 2)
    reports.append(Report("x", "quarter", *q2, D(100)))
    figure = aggregate.flow(reports, date(2022, 1, 1), date(2022, 12, 31))
    assert figure.value == D(9 + 100)  # Q2 replaces April–June, not added to them
    reports.append(Report("x", "year", date(2022, 1, 1), date(2022, 12, 31), D(500)))
    assert aggregate.flow(reports, date(2022, 1, 1), date(2022, 12, 31)).value == D(500)


def test_partial_flow_is_marked_incomplete():
    figure = aggregate.flow([month(2022, 1, 5)], date(2022, 1, 1), date(2022, 3, 31))
    assert figure.value == D(5) and figure.months_covered == 1 and not figure.complete


def test_rate_is_neither_summed_nor_averaged():
    reports = [month(2022, m, "4.9") for m in range(1, 13)]
    assert aggregate.flow(reports, date(2022, 1, 1), date(2022, 12, 31), rate=True) is None
    assert aggregate.flow(reports, date(2022, 3, 1), date(2022, 3, 31), rate=True).value == D("4.9")


@given(st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=36))
def test_stock_is_never_a_sum_over_time(values):
    reports = []
    for i, v in enumerate(values):
        y, m = 2020 + i // 12, i % 12 + 1
        reports.append(month(y, m, v))
    end = reports[-1].end
    assert aggregate.level(reports, end).value == D(values[-1])
    total = aggregate.flow(reports, reports[0].start, end)
    assert total.value == sum(D(v) for v in values)


def test_tree_uses_own_report_before_children():
    children = {"330400": ["330421", "330424"]}
    by_region = {
        "330421": [month(2022, 12, 7)],
        "330424": [month(2022, 12, 5)],
    }
    kw = dict(kind="stock", rate=False, start=date(2022, 1, 1), end=date(2022, 12, 31))
    assert aggregate.figure_for(by_region, "330400", children, **kw).value == D(12)
    by_region["330400"] = [month(2022, 12, 20)]
    assert aggregate.figure_for(by_region, "330400", children, **kw).value == D(20)


# --- through the database ------------------------------------------------------


# The platform computes these from the loan book and the registry; here they
# stand for any reported 时点 figure and rate, so they are made reported.
REPORTED_HERE = ("manufacturing-loans", "npl-ratio", "high-tech-enterprises")


@pytest.fixture
def defs(db):
    IndicatorDefinition.objects.filter(code__in=REPORTED_HERE).update(
        source="", added_sources=[], second_source=""
    )
    return {d.code: d for d in IndicatorDefinition.objects.all()}


def _report_months(actor, region, definition, year, values):
    for m, v in enumerate(values, start=1):
        services.report_actual(
            actor,
            region=region,
            definition=definition,
            period_type="month",
            year=year,
            number=m,
            value=v,
        )


def test_period_summed_and_stock_not_over_months(world, defs):
    gov = world.user("gov_jiashan")
    jiashan = Region.objects.get(code="330421")
    _report_months(gov, jiashan, defs["fixed-asset-investment"], 2022, [10] * 12)
    _report_months(gov, jiashan, defs["high-tech-enterprises"], 2022, range(400, 412))
    year = (date(2022, 1, 1), date(2022, 12, 31))
    flow = services.indicator_value(defs["fixed-asset-investment"], jiashan, *year)
    stock = services.indicator_value(defs["high-tech-enterprises"], jiashan, *year)
    assert flow.value == D(120)
    assert stock.value == D(411)
    q3 = services.period_bounds("quarter", 2022, 3)
    assert services.indicator_value(defs["high-tech-enterprises"], jiashan, *q3).value == D(408)
    assert services.indicator_value(defs["fixed-asset-investment"], jiashan, *q3).value == D(30)


def test_growth_is_computed_from_previous_period(world, defs):
    gov = world.user("gov_jiashan")
    jiashan = Region.objects.get(code="330421")
    gdp = defs["gdp"]
    for year, value in ((2021, "714"), (2022, "778")):
        services.report_actual(
            gov, region=jiashan, definition=gdp, period_type="year", year=year, value=value
        )
    result = services.indicator_value(gdp, jiashan, date(2022, 1, 1), date(2022, 12, 31))
    assert result.value == D(778)
    assert result.second == D("8.96")
    with pytest.raises(ValidationFailed):
        services.report_actual(
            gov,
            region=jiashan,
            definition=gdp,
            period_type="year",
            year=2022,
            value="778",
            second_value="9",
        )


def test_rollup_over_region_tree(world, defs):
    admin = world.user("admin")
    jiashan = Region.objects.get(code="330421")
    pinghu = Region.objects.get(code="330482")
    jiaxing = Region.objects.get(code="330400")
    zhejiang = Region.objects.get(code="330000")
    loans = defs["manufacturing-loans"]  # 时点
    investment = defs["fixed-asset-investment"]  # 时期
    npl = defs["npl-ratio"]  # rate
    for region, base in ((jiashan, 100), (pinghu, 50)):
        _report_months(admin, region, loans, 2022, [base + m for m in range(12)])
        _report_months(admin, region, investment, 2022, [base] * 12)
        services.report_actual(
            admin, region=region, definition=npl, period_type="year", year=2022, value="0.8"
        )
    year = (date(2022, 1, 1), date(2022, 12, 31))
    # stocks add over regions at the same date, never over months
    assert services.indicator_value(loans, jiaxing, *year).value == D(111 + 61)
    assert services.indicator_value(loans, zhejiang, *year).value == D(111 + 61)
    # flows add over months and regions
    assert services.indicator_value(investment, jiaxing, *year).value == D(1200 + 600)
    # rates are not rolled up
    assert services.indicator_value(npl, jiaxing, *year).value is None
    assert services.indicator_value(npl, jiashan, *year).value == D("0.8")
    # a region's own report wins over its children's sum
    services.report_actual(
        admin, region=jiaxing, definition=investment, period_type="year", year=2022, value="2500"
    )
    assert services.indicator_value(investment, jiaxing, *year).value == D(2500)
    assert services.indicator_value(investment, zhejiang, *year).value == D(2500)


def test_reporting_is_scoped(world, defs):
    from chanrong.core.errors import NotAllowed, NotFound

    jiangsu_region = Region.objects.get(code="320508")
    with pytest.raises(NotFound):
        services.report_actual(
            world.user("gov_jiashan"),
            region=jiangsu_region,
            definition=defs["gdp"],
            period_type="year",
            year=2022,
            value="1",
        )
    with pytest.raises(NotAllowed):
        services.report_actual(
            world.user("bank_staff"),
            region=Region.objects.get(code="330421"),
            definition=defs["gdp"],
            period_type="year",
            year=2022,
            value="1",
        )
    with pytest.raises(ValidationFailed):
        services.report_actual(
            world.user("gov_jiashan"),
            region=Region.objects.get(code="330421"),
            definition=defs["matching-events"],
            period_type="year",
            year=2022,
            value="1",
        )


def test_completion_against_targets(world, defs):
    gov = world.user("gov_jiashan")
    jiashan = Region.objects.get(code="330421")
    plan = services.create_plan(gov, jiashan, "测试计划", 2022, 2022)
    services.set_targets(
        gov,
        plan,
        [
            {
                "definition": "fixed-asset-investment",
                "year": 2022,
                "value": "100",
                "second_value": "15",
            },
            {"definition": "high-tech-enterprises", "year": 2022, "value": "400"},
            {"definition": "npl-ratio", "year": 2022, "value": "0.9"},
            {"definition": "gdp", "year": 2022, "value": "700"},
        ],
    )
    _report_months(gov, jiashan, defs["fixed-asset-investment"], 2022, [10] * 12)
    _report_months(gov, jiashan, defs["high-tech-enterprises"], 2022, [300] * 11 + [390])
    services.report_actual(
        gov,
        region=jiashan,
        definition=defs["npl-ratio"],
        period_type="year",
        year=2022,
        value="0.8",
    )
    rows = {r.definition.code: r for r in services.completion(plan, 2022, today=date(2023, 3, 1))}
    assert rows["fixed-asset-investment"].actual == D(120)
    assert rows["fixed-asset-investment"].status == "met"
    assert rows["high-tech-enterprises"].actual == D(390)
    assert rows["high-tech-enterprises"].status == "behind"
    assert rows["npl-ratio"].status == "met"  # lower is better
    assert rows["gdp"].status == "no_data"


def test_set_targets_is_all_or_nothing(world):
    gov = world.user("gov_jiashan")
    plan = services.create_plan(gov, Region.objects.get(code="330421"), "计划", 2021, 2023)
    with pytest.raises(ValidationFailed) as info:
        services.set_targets(
            gov,
            plan,
            [
                {"definition": "gdp", "year": 2021, "value": "714", "second_value": "9"},
                {"definition": "gdp", "year": 2030, "value": "1"},
                {"definition": "nope", "year": 2021, "value": "1"},
                {"definition": "npl-ratio", "year": 2021, "value": "abc"},
            ],
        )
    fields = {e.field for e in info.value.errors}
    assert fields == {"rows[1].year", "rows[2].definition", "rows[3].value"}
    assert not plan.targets.exists()


def test_plans_visible_to_government_subtree(world):
    plan = services.create_plan(
        world.user("gov_jiashan"), Region.objects.get(code="330421"), "计划", 2021, 2023
    )
    from chanrong.insights.models import IndicatorPlan

    for name, sees in (
        ("gov_jiashan", True),
        ("gov_zhejiang", True),
        ("gov_national", True),
        ("admin", True),
        ("gov_jiangsu", False),
        ("bank_staff", False),
        ("ent_user", False),
    ):
        assert (
            IndicatorPlan.objects.visible_to(world.user(name)).filter(pk=plan.pk).exists() is sees
        ), name
