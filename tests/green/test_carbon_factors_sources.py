"""The shipped national grid factors are the 生态环境部 / 国家统计局 published
averages of their year, each citing its announcement; a database that still
has the 2022 number shipped earlier (0.5703) is corrected by migration 0007,
and the reports that used it are accounted again, audited."""

from __future__ import annotations

import csv
import importlib
from decimal import Decimal

import pytest
from django.apps import apps as django_apps

from chanrong.core.models import AuditEntry
from chanrong.green.models import CarbonReport, EmissionFactor
from chanrong.green.services import carbon, carbon_corrections
from chanrong.green.services.carbon_factors import SHIPPED_CSV

pytestmark = pytest.mark.django_db

OLD_2022_SOURCE = (
    "生态环境部办公厅《关于做好2023—2025年部分重点行业企业温室气体排放报告与核查工作的通知》"
    "（环办气候函〔2023〕332号）：2022年度全国电网平均排放因子 0.5703 tCO2/MWh"
)


def test_shipped_grid_factors_cite_their_announcements():
    with SHIPPED_CSV.open(encoding="utf-8") as handle:
        grid = {
            int(r["year"]): r
            for r in csv.DictReader(handle)
            if r["code"] == "grid_electricity" and not r["region"]
        }
    assert {year: Decimal(r["factor"]) for year, r in grid.items()} == {
        2021: Decimal("0.5568"),
        2022: Decimal("0.5366"),
        2023: Decimal("0.5306"),
    }
    assert "公告2024年第12号" in grid[2021]["source"]
    assert "2024年12月20日" in grid[2022]["source"]
    assert "2023年电力二氧化碳排放因子" in grid[2023]["source"]
    for row in grid.values():
        assert "生态环境部、国家统计局" in row["source"]


def test_old_2022_number_is_corrected_and_its_reports_accounted_again(world):
    shipped = EmissionFactor.objects.get(code="grid_electricity", year=2022, region__isnull=True)
    EmissionFactor.objects.filter(pk=shipped.pk).update(
        factor=Decimal("0.5703"), source=OLD_2022_SOURCE, note=""
    )
    data = {
        "year": 2022,
        "lines": [
            {"item": "raw_coal", "quantity": "100", "unit": "t"},
            {"item": "grid_electricity", "quantity": "1000", "unit": "MWh"},
        ],
    }
    report = carbon.save_report(world.user("ent_user"), world.ent, data)
    assert report.lines.get(item="grid_electricity").co2 == Decimal("570.3000")

    migration = importlib.import_module("chanrong.green.migrations.0007_grid_factors_corrected")
    migration.forward(django_apps, None)

    shipped.refresh_from_db()
    assert shipped.factor == Decimal("0.5366") and "2024年12月20日" in shipped.source
    report = CarbonReport.objects.get(pk=report.pk)
    assert report.lines.get(item="grid_electricity").co2 == Decimal("536.6000")
    assert report.total == Decimal("722.6833")
    assert report.entered_by == world.user("ent_user")
    line = carbon.explain(report)["lines"][1]
    assert line["formula"] == "1000 MWh × 0.5366 tCO2/MWh"
    change = AuditEntry.objects.get(action="green.factor.corrected")
    assert change.changes["before"]["factor"] == "0.570300"
    assert AuditEntry.objects.filter(
        action="green.carbon_report.update", object_id=str(report.pk)
    ).exists()
    # Again: nothing left to correct.
    assert carbon_corrections.correct() == 0
    assert carbon_corrections.refresh_sources() == 0
