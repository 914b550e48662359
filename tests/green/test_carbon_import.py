"""Carbon reports by file: errors by row and column, nothing written; a good
file makes one report per enterprise and period."""

from __future__ import annotations

import pytest

from chanrong.core.importing.services import create_job
from chanrong.green.models import CarbonReport, ReportSource
from tests.imports.conftest import xlsx

pytestmark = pytest.mark.django_db

HEADER = ["统一社会信用代码", "企业名称", "年度", "月份", "品种", "数量", "计量单位"]


def _job(world, rows, user="gov_jiashan"):
    return create_job(
        world.user(user), "green_carbon", filename="f.xlsx", data=xlsx(rows), mode="all"
    )


def _errors(job):
    return [(i["row"], i["column"], i["message"]) for i in job.issues if i["level"] == "error"]


def test_import_errors_by_row_and_column_then_a_good_file(world):
    rows = [
        HEADER,
        [world.ent.uscc, None, 2023, None, "原煤", 100, "t"],
        [world.ent.uscc, None, 2023, None, "天然气", 5, "t"],  # unit
        [world.ent.uscc, None, 2023, None, "铀", 1, "t"],  # item
        [world.ent_js.uscc, None, 2023, None, "原煤", 1, "t"],  # outside 嘉善
        [world.ent2.uscc, None, 2023, None, "柴油", -2, "t"],  # negative
    ]
    errors = _errors(_job(world, rows))
    assert any(r == 3 and c == "G" for r, c, _m in errors)
    assert any(r == 4 and c == "E" for r, c, _m in errors)
    assert (5, "A", "企业未登记或不在您的管辖范围内") in errors
    assert any(r == 6 and c == "F" for r, c, _m in errors)
    assert not CarbonReport.objects.exists()
    # Across rows: more green power than purchased, on the green row.
    rows = [
        HEADER,
        [world.ent.uscc, None, 2023, None, "外购电力", 10, "MWh"],
        [world.ent.uscc, None, 2023, None, "绿电", 20, "MWh"],
    ]
    assert any(r == 3 and c == "F" for r, c, _m in _errors(_job(world, rows)))
    assert not CarbonReport.objects.exists()
    rows = [
        HEADER,
        [world.ent.uscc, None, 2023, None, "原煤", 100, "t"],
        [world.ent.uscc, None, 2023, None, "外购电力", 100, "万kWh"],
        [world.ent2.uscc, None, 2023, 3, "天然气", 2000, "Nm3"],
    ]
    job = _job(world, rows)
    assert not _errors(job), job.issues
    report = CarbonReport.objects.get(enterprise=world.ent, year=2023, month=None)
    assert report.source == ReportSource.IMPORT and report.lines.count() == 2
    assert CarbonReport.objects.get(enterprise=world.ent2).month == 3
