"""Carbon accounting: the engine against hand-computed values (GB/T 32150-2015
defaults), the factor database's rules, bad input refused by field with
nothing written, and the grades' quintiles and fallback."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from chanrong.core.errors import NotAllowed, ValidationFailed
from chanrong.green.models import CarbonGrade, CarbonLine, CarbonReport, EmissionFactor
from chanrong.green.services import carbon, carbon_engine, carbon_factors, grades

REPORT = {
    "year": 2022,
    "lines": [
        {"item": "raw_coal", "quantity": "100", "unit": "t"},
        {"item": "natural_gas", "quantity": "10", "unit": "万Nm3"},
        {"item": "grid_electricity", "quantity": "100", "unit": "万kWh"},
        {"item": "green_electricity", "quantity": "200", "unit": "MWh"},
        {"item": "heat", "quantity": "1000", "unit": "GJ"},
    ],
}


def test_engine_hand_computed():
    # 100 t 原煤 × 20.908 GJ/t × 0.0261 tC/GJ × 0.93 × 44/12 = 186.0833 t CO2;
    # 500 MWh × 0.5703 = 285.15 t CO2 (scope 2); revenue 100 万元.
    table = carbon_engine.FactorTable(
        kind=np.array([carbon_engine.FUEL, carbon_engine.DIRECT], np.int8),
        ncv=np.array([20.908, 0]),
        cc=np.array([0.0261, 0]),
        of=np.array([0.93, 0]),
        ef=np.array([0, 0.5703]),
        scope=np.array([1, 2], np.int8),
    )
    result = carbon_engine.account(
        table,
        report=np.array([0, 0, 1]),
        factor=np.array([0, 1, 1]),
        quantity=np.array([100.0, 500.0, 10.0]),
        sign=np.array([1.0, 1.0, 1.0]),
        n_reports=2,
        revenue_wan=np.array([100.0, np.nan]),
        output=np.array([np.nan, 2.0]),
    )
    assert round(result.line_co2[0], 4) == 186.0833
    assert round(result.scope1[0], 4) == 186.0833
    assert round(result.scope2[0], 4) == 285.15
    assert round(result.intensity_revenue[0], 6) == round((186.0832893 + 285.15) / 100, 6)
    assert np.isnan(result.intensity_revenue[1])
    assert round(result.intensity_output[1], 4) == 2.8515


def test_grades_quintiles_fallback_and_benchmark():
    intensity = np.array([float(i) for i in range(1, 11)] + [5.0, 1.0, 9.0, np.nan])
    division = np.array([0] * 10 + [0, 1, 1, 0])
    province = np.array([33] * 10 + [32, 32, 32, 33])
    g = carbon_engine.grade(intensity, division, province, benchmarks={1: np.array([1, 2, 3, 4])})
    # Ten peers in 33: quintile bounds 2.8, 4.6, 6.4, 8.2 -> 1,1,2,2,3,3,4,4,5,5.
    assert list(g.grade[:10]) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert set(g.basis[:10]) == {carbon_engine.BASIS_PROVINCE}
    # One peer in 32: the division's national quintiles (11 peers).
    assert g.basis[10] == carbon_engine.BASIS_NATIONAL and g.peers[10] == 11
    # Division 1 has a configured benchmark; equal to a bound gets the better grade.
    assert list(g.grade[11:13]) == [1, 5]
    assert g.grade[13] == 0  # no intensity: not graded


@pytest.mark.django_db
def test_report_accounted_line_by_line(world):
    report = carbon.save_report(world.user("ent_user"), world.ent, REPORT)
    co2 = dict(report.lines.values_list("item", "co2"))
    assert co2["raw_coal"] == Decimal("186.0833")
    assert co2["natural_gas"] == Decimal("216.2189")
    assert co2["grid_electricity"] == Decimal("536.6000")  # 100 万kWh = 1000 MWh × 0.5366
    assert co2["green_electricity"] == Decimal("-107.3200")
    assert co2["heat"] == Decimal("110.0000")
    assert report.scope1 == Decimal("402.3022")
    assert report.scope2 == Decimal("539.2800")
    assert report.total == Decimal("941.5822")
    # No operating records: the profile's 营业收入 3,500 万元.
    assert report.intensity_revenue == Decimal("0.269023")
    explained = carbon.explain(report)
    coal = explained["lines"][0]
    assert coal["formula"] == "100 t × 20.908 GJ/t × 0.0261 tC/GJ × 93% × 44/12"
    assert "GB/T 32150-2015" in coal["source"]
    power = explained["lines"][2]
    assert power["formula"] == "100 万kWh（= 1000 MWh） × 0.5366 tCO2/MWh"
    assert "《关于发布2022年电力二氧化碳排放因子的公告》" in power["source"]
    # Re-reporting the year replaces its lines.
    carbon.save_report(world.user("ent_user"), world.ent, {**REPORT, "lines": REPORT["lines"][:1]})
    assert CarbonLine.objects.filter(report__enterprise=world.ent).count() == 1


@pytest.mark.django_db
def test_later_year_uses_latest_published_grid_factor(world):
    report = carbon.save_report(
        world.user("ent_user"),
        world.ent,
        {"year": 2024, "lines": [{"item": "grid_electricity", "quantity": "1", "unit": "MWh"}]},
    )
    line = carbon.explain(report)["lines"][0]
    assert line["factor_year"] == 2023 and "2024年因子未发布" in line["note"]


@pytest.mark.django_db
def test_bad_input_refused_by_field_nothing_written(world):
    bad = {
        "year": 2022,
        "lines": [
            {"item": "natural_gas", "quantity": "100", "unit": "t"},  # unit mismatch
            {"item": "raw_coal", "quantity": "-5", "unit": "t"},  # negative
            {"item": "uranium", "quantity": "1", "unit": "t"},  # unknown
            {"item": "green_electricity", "quantity": "5", "unit": "MWh"},  # no purchase
        ],
    }
    with pytest.raises(ValidationFailed) as exc:
        carbon.save_report(world.user("ent_user"), world.ent, bad)
    fields = {e.field for e in exc.value.errors}
    assert fields == {"lines[0].unit", "lines[1].quantity", "lines[2].item", "lines[3].quantity"}
    assert not CarbonReport.objects.exists()
    with pytest.raises(NotAllowed):
        carbon.save_report(world.user("ent2_user"), world.ent, REPORT)
    with pytest.raises(NotAllowed):
        carbon.save_report(world.user("bank_staff"), world.ent, REPORT)


@pytest.mark.django_db
def test_factor_without_source_refused(world):
    admin = world.user("admin")
    data = {"code": "grid_electricity", "year": 2024, "factor": "0.55", "source": " "}
    with pytest.raises(ValidationFailed) as exc:
        carbon_factors.add_factor(admin, data)
    assert [e.field for e in exc.value.errors] == ["source"]
    with pytest.raises(NotAllowed):
        carbon_factors.add_factor(world.user("gov_national"), {**data, "source": "x"})
    factor = carbon_factors.add_factor(admin, {**data, "source": "某公告"})
    assert factor.co2_per_unit == Decimal("0.55")
    assert EmissionFactor.objects.filter(code="grid_electricity", year=2024).count() == 1
    with pytest.raises(ValidationFailed):
        carbon_factors.add_factor(admin, {**data, "source": "again"})  # same year twice


@pytest.mark.django_db
def test_grades_written_and_visible_by_authorisation(world):
    carbon.save_report(world.user("ent_user"), world.ent, REPORT)
    # One enterprise in C34 nationally: below the minimum peers, not graded.
    assert not CarbonGrade.objects.exists()
    grades.set_benchmark(
        world.user("admin"),
        {
            "division": "C34",
            "bound1": "0.1",
            "bound2": "0.2",
            "bound3": "0.3",
            "bound4": "0.4",
            "source": "测试基准",
        },
    )
    grade = CarbonGrade.objects.get(enterprise=world.ent, year=2022)
    assert grade.grade == 3 and grade.basis == "benchmark"  # 0.2767 t/万元
    assert grades.latest_grade(world.user("bank_staff"), world.ent) == grade  # authorised
    assert grades.latest_grade(world.user("bank2_staff"), world.ent) is None
    assert grades.latest_grade(world.user("ent2_user"), world.ent) is None
    assert grades.latest_grade(world.user("gov_jiangsu"), world.ent) is None
    assert grades.latest_grade(world.user("gov_jiashan"), world.ent) == grade
