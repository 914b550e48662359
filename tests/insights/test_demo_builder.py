"""The insights demo builder, run on top of a small foundation demo."""

from __future__ import annotations

from datetime import date

from chanrong.accounts.models import User
from chanrong.core.models import Region
from chanrong.demo import services as demo
from chanrong.events.models import Event, EventStatus
from chanrong.insights import services
from chanrong.insights.models import FinancingRollup, IndicatorPlan


def test_builds_plan_actuals_financing_and_events(refdata_loaded, settings):
    settings.CHANRONG_DEMO_PASSWORD = "Demo-password-for-tests-1"
    # The demo command runs the insights builder as one of its steps.
    ctx = demo.build_demo(seed=11, scale=0.05)
    plan = IndicatorPlan.objects.get(region_id="330421")
    # 厦门's yearly targets ship as a second plan
    assert IndicatorPlan.objects.get(region_id="350200").years == [2024, 2025, 2026]
    assert ctx.counts["financing_records"] > 100
    assert FinancingRollup.objects.filter(region="").exists()
    count, _amount = services.financing_totals("")
    assert count == ctx.counts["financing_records"]
    assert Event.objects.filter(status=EventStatus.CLOSED).count() >= 7
    rows = {r.definition.code: r for r in services.completion(plan, 2022, today=date(2024, 7, 1))}
    assert rows["gdp"].actual is not None and rows["gdp"].actual_second is not None
    assert rows["matching-events"].actual == 2
    assert rows["platform-financing-count"].actual > 0
    # every year of the plan (and 2020, the base of 2021's growth) has computed
    # loan-book and registry figures, rebuilt from the history of each loan
    computed = (
        "manufacturing-loans", "manufacturing-long-term-loans", "inclusive-sme-loans",
        "green-credit", "high-tech-enterprises",
    )  # fmt: skip
    for year in (2021, 2022, 2023):
        rows = {r.definition.code: r for r in services.completion(plan, year)}
        for code in computed:
            assert rows[code].computed and rows[code].actual > 0, (code, year)
            if rows[code].definition.second_kind == "growth":  # over the year before
                assert rows[code].actual_second is not None, (code, year)
        assert rows["npl-ratio"].computed and rows["npl-ratio"].actual is not None
        assert rows["inclusive-sme-loan-rate"].actual > 0
    compared = {r.definition.code: r for r in services.comparisons(plan.region, 2022)}
    assert compared["manufacturing-loans"].reported is not None
    assert compared["manufacturing-loans"].note
    summary = services.summary(User.objects.get(username="gov_jiashan"))
    assert summary.financing_count > 0
    assert Region.objects.filter(code="330421").exists()
    # the demo ends with the plans' computed figures kept (issue 20), equal to
    # the live ones at their date
    from chanrong.insights.services import snapshots

    assert ctx.counts["figure_snapshots"] == 2  # 嘉善 and 厦门
    for year in (2021, 2022, 2023):
        kept = snapshots.plan_figures(plan, year)
        assert not kept.live
        live = services.completion(plan, year, today=kept.as_of)
        assert [(r.definition.code, r.actual, r.actual_second, r.status) for r in kept.rows] == [
            (r.definition.code, r.actual, r.actual_second, r.status) for r in live
        ]
