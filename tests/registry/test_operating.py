"""Operating data: periods, plausibility flags (flagged, never refused),
the reviewers' confirm / correct, and the chart option."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from chanrong.core.errors import Conflict, NotAllowed, ValidationFailed
from chanrong.core.models import AuditEntry
from chanrong.registry import services
from chanrong.registry.models import OperatingRecord, ReviewStatus

pytestmark = pytest.mark.django_db
WAN = Decimal(10000)


def wan(n) -> Decimal:
    return Decimal(str(n)) * WAN


def fields(flags) -> list[str]:
    return [f["field"] for f in flags]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("2025-03", "2025-03"),
        ("2025/3", "2025-03"),
        ("２０２５年３月", "2025-03"),
        ("202503", "2025-03"),
        ("2025Q1", "2025Q1"),
        ("2025-q4", "2025Q4"),
        ("2025年第二季度", "2025Q2"),
        ("2025年3季度", "2025Q3"),
        (date(2025, 8, 19), "2025-08"),
    ],
)
def test_periods_as_people_write_them(today, text, code):
    assert services.parse_period(text).code == code


@pytest.mark.parametrize("text", ["2025-13", "2025Q5", "三月", "", "2027-01", "1999-12"])
def test_bad_periods_are_named(today, text):
    with pytest.raises(ValidationFailed) as exc:
        services.parse_period(text)
    assert exc.value.errors[0].field == "period"


def test_plausibility_rules_without_a_database():
    ok = {"output_value": wan(120), "revenue": wan(100), "profit": wan(-8), "tax_paid": wan(3), "employees": 50, "electricity_kwh": Decimal(12000)}  # fmt: skip
    assert services.plausibility_flags(ok, None) == []  # a loss is not implausible
    bad = {**ok, "revenue": wan(-1), "employees": -3}
    flags = services.plausibility_flags(bad, None)
    assert fields(flags) == ["revenue", "employees"]
    assert flags[0]["reason"] == "营业收入为负数（-1.00 万元）"
    assert flags[1]["reason"] == "从业人员为负数（-3 人）"
    rich = {**ok, "profit": wan(150)}
    assert services.plausibility_flags(rich, None)[0]["reason"] == (
        "利润总额（150.00 万元）高于同期营业收入（100.00 万元）"
    )
    # Year on year, against the bound (default 3.0: over 4x, or under a quarter).
    last_year = {**ok, "output_value": wan(100), "electricity_kwh": Decimal(40000)}
    jump = {**ok, "output_value": wan(560), "electricity_kwh": Decimal(9000)}
    flags = services.plausibility_flags(jump, last_year, Decimal("3.0"))
    assert fields(flags) == ["output_value", "electricity_kwh"]
    assert flags[0]["reason"] == (
        "工业总产值比去年同期增长 460.0%（去年同期 100.00 万元，本期 560.00 万元），超过 300% 的合理范围"
    )
    assert flags[1]["reason"] == (
        "用电量比去年同期下降 77.5%（去年同期 40,000 千瓦时，本期 9,000 千瓦时），不足去年同期的 1/4"
    )
    assert services.plausibility_flags(jump, last_year, Decimal("5")) == []
    # No baseline (nothing, or zero, last year) means no year-on-year check; a
    # profit is compared only when both years made one.
    assert (
        services.plausibility_flags(jump, {**last_year, "output_value": 0, "electricity_kwh": None})
        == []
    )
    swing = {**ok, "profit": wan(90)}
    assert services.plausibility_flags(swing, {**ok, "profit": wan(-40)}) == []
    assert fields(services.plausibility_flags(swing, {**ok, "profit": wan(5)})) == ["profit"]


def test_implausible_figures_are_stored_and_flagged(world, today):
    ent = world.user("ent_user")
    record = services.record_operating_data(
        ent,
        world.ent,
        "2025-03",
        {"output_value_wan": "１２０万元", "revenue_wan": 100, "profit_wan": -5, "tax_paid_wan": "3", "employees": "120", "electricity_kwh": "12,000"},
    )  # fmt: skip
    assert record.review_status == ReviewStatus.OK and record.flags == []
    assert record.output_value == wan(120) and record.electricity_kwh == Decimal(12000)
    later = services.record_operating_data(
        ent, world.ent, "2026-03", {"revenue_wan": 900, "tax_paid_wan": -2}
    )
    assert later.review_status == ReviewStatus.FLAGGED
    assert fields(later.flags) == ["tax_paid", "revenue"]
    assert later.revenue == wan(900)  # kept as entered, not refused
    entry = AuditEntry.objects.filter(action="operating.create").latest("seq")
    assert entry.changes["flags"] == ["tax_paid", "revenue"]
    assert entry.changes["review_status"] == [None, "flagged"]
    # Correcting last year's figure re-checks this year's record.
    services.record_operating_data(ent, world.ent, "2025-03", {"revenue_wan": 400})
    later.refresh_from_db()
    assert fields(later.flags) == ["tax_paid"]
    # Bad input is refused with the field named, and nothing is written.
    with pytest.raises(ValidationFailed) as exc:
        services.record_operating_data(
            ent,
            world.ent,
            "2025-04",
            {"revenue_wan": "一百", "electricity_kwh": "3万元", "profit": 1},
        )
    assert {e.field for e in exc.value.errors} == {"revenue_wan", "electricity_kwh", "profit"}
    assert OperatingRecord.objects.count() == 2


def test_the_bound_is_a_setting(world, today, settings):
    settings.CHANRONG_YOY_BOUND = "10"
    gov = world.user("gov_jiashan")
    services.record_operating_data(gov, world.ent, "2025Q1", {"revenue_wan": 100})
    record = services.record_operating_data(gov, world.ent, "2026Q1", {"revenue_wan": 900})
    assert record.review_status == ReviewStatus.OK
    settings.CHANRONG_YOY_BOUND = "nonsense"
    assert services.yoy_bound() == Decimal("3.0")


def test_reviewers_confirm_or_correct(world, today):
    ent = world.user("ent_user")
    services.record_operating_data(ent, world.ent, "2025-03", {"revenue_wan": 100})
    record = services.record_operating_data(ent, world.ent, "2026-03", {"revenue_wan": 1000})
    with pytest.raises(NotAllowed):
        services.confirm_operating_record(ent, record, note="没问题")
    with pytest.raises(NotAllowed):
        services.confirm_operating_record(world.user("gov_jiangsu"), record, note="没问题")
    with pytest.raises(ValidationFailed):
        services.confirm_operating_record(world.user("gov_jiashan"), record, note="")
    services.confirm_operating_record(
        world.user("gov_jiashan_staff"), record, note="已电话核实：新增大额订单"
    )
    record.refresh_from_db()
    assert record.review_status == ReviewStatus.CONFIRMED
    assert record.reviewed_by == world.user("gov_jiashan_staff")
    with pytest.raises(Conflict):  # only flagged records are confirmed
        services.confirm_operating_record(world.user("gov_jiashan"), record, note="再次")
    # The same figures entered again keep the confirmation.
    services.record_operating_data(ent, world.ent, "2026-03", {"revenue_wan": 1000})
    record.refresh_from_db()
    assert record.review_status == ReviewStatus.CONFIRMED
    # A correction by a reviewer derives the status from the new figures.
    other = services.record_operating_data(ent, world.ent, "2026-03", {"revenue_wan": -1000})
    assert other.review_status == ReviewStatus.FLAGGED
    with pytest.raises(NotAllowed):
        services.correct_operating_record(ent, other, {"revenue_wan": 120}, note="改")
    fixed = services.correct_operating_record(
        world.user("gov_jiashan"), other, {"revenue_wan": 120}, note="企业误填负号"
    )
    assert fixed.review_status == ReviewStatus.OK and fixed.review_note == "企业误填负号"
    assert fixed.revenue == wan(120)


def test_chart_option_marks_flagged_points(world, today):
    gov = world.user("gov_jiashan")
    services.record_operating_data(
        gov, world.ent, "2026-01", {"revenue_wan": 100, "output_value_wan": 110}
    )
    services.record_operating_data(gov, world.ent, "2026-02", {"revenue_wan": -1})
    records = list(world.ent.operating_records.order_by("period_start"))
    option = services.operating_chart_option(records)
    assert option["xAxis"]["data"] == ["2026-01", "2026-02"]
    revenue = next(s for s in option["series"] if s["name"] == "营业收入")
    assert revenue["data"][0] == 100.0
    assert revenue["data"][1] == {"value": -1.0, "itemStyle": {"color": "#d4380d"}}


def test_who_may_enter_operating_data(world, today):
    for username in ("ent2_user", "bank_staff", "gov_jiangsu"):
        with pytest.raises(NotAllowed):
            services.record_operating_data(
                world.user(username), world.ent, "2026-01", {"revenue_wan": 1}
            )
    services.record_operating_data(world.user("admin"), world.ent, "2026-01", {"revenue_wan": 1})
    assert OperatingRecord.objects.visible_to(world.user("bank_staff")).count() == 1
    assert OperatingRecord.objects.visible_to(world.user("bank2_staff")).count() == 0
