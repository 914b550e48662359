"""Provincial grid factors (issue 18): a report uses its province's 省级电力平均
二氧化碳排放因子 of its year when one is published (2021: 公告2024年第12号)
and the national factor otherwise; the explanation names which."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chanrong.green.models import EmissionFactor
from chanrong.green.services import carbon, carbon_factors

ONE_MWH = [{"item": "grid_electricity", "quantity": "1000", "unit": "MWh"}]


@pytest.fixture
def provincial(world):
    """The shipped file loaded once the regions are there, as `refdata load` does."""
    carbon_factors.load_shipped()
    return world


@pytest.mark.django_db
def test_shipped_provincial_factors_load_once(provincial):
    regional = EmissionFactor.objects.filter(code="grid_electricity", region__isnull=False)
    assert regional.filter(year=2021).count() == 30
    assert carbon_factors.load_shipped() == 0
    zj = regional.get(year=2021, region_id="330000")
    assert zj.factor == Decimal("0.5422") and "公告2024年第12号" in zj.source


@pytest.mark.django_db
def test_zhejiang_2021_electricity_uses_zhejiang_factor(provincial):
    world = provincial
    report = carbon.save_report(world.user("ent_user"), world.ent, {"year": 2021, "lines": ONE_MWH})
    line = carbon.explain(report)["lines"][0]
    assert line["formula"] == "1000 MWh × 0.5422 tCO2/MWh"
    assert line["factor_region"] == "浙江省" and line["factor_year"] == 2021
    assert "省级电力平均二氧化碳排放因子（浙江）" in line["source"]
    assert report.scope2 == Decimal("542.2000")


@pytest.mark.django_db
def test_newer_national_year_beats_older_province(provincial):
    world = provincial
    report = carbon.save_report(world.user("ent_user"), world.ent, {"year": 2023, "lines": ONE_MWH})
    line = carbon.explain(report)["lines"][0]
    assert line["formula"] == "1000 MWh × 0.5306 tCO2/MWh"
    assert line["factor_region"] == "全国"


@pytest.mark.django_db
def test_province_without_published_factor_uses_national(provincial):
    # 西藏 (540000) has no 2021 provincial factor in the announcement.
    book = carbon_factors.FactorBook()
    chosen = book.choose("grid_electricity", 2021, "540000")
    assert chosen.factor.region_id is None and chosen.factor.factor == Decimal("0.5568")
    assert chosen.note == ""
    zj = book.choose("grid_electricity", 2021, "330000")
    assert zj.factor.region_id == "330000"
