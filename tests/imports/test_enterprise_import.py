"""Importing enterprises: messy files, reports by row and column, all or
nothing, valid rows only, idempotence, the importer's region, permissions."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest

from chanrong.core.audit import verify
from chanrong.core.errors import NotAllowed, ValidationFailed
from chanrong.core.importing.services import create_job
from chanrong.core.models import AuditEntry, ImportJob
from chanrong.registry.models import Enterprise

from .conftest import HEADER, csv_bytes, enterprise_row, uscc, xlsx

pytestmark = pytest.mark.django_db


def _import(world, data, user="gov_jiashan", mode="all", filename="企业.xlsx") -> ImportJob:
    return create_job(world.user(user), "enterprises", filename=filename, data=data, mode=mode)


def _errors(job):
    return [(i["row"], i["column"], i["message"]) for i in job.issues if i["level"] == "error"]


def _ours():
    return Enterprise.objects.filter(name__contains="导入测试")


def test_messy_but_valid_file_imports(world):
    """Title row, a two-row header under merged group cells, aliases, units in
    headers, full-width digits, 万元/亿元, stray spaces, dates as text."""
    rows = [
        ["2024 年嘉善县企业名录（导入测试）"],
        ["基本信息", None, None, None, "经营情况", None, None, "成立日期"],
        [
            "信用代码",
            " 企业名称 ",
            "所在地区",
            "所属行业",
            "从业人数",
            "营业收入(亿元)",
            "资产总额",
            None,
        ],
        [
            uscc(201),
            "  嘉善导入测试甲  有限公司 ",
            "330421",
            "c39",
            "１２０人",
            "0.35",
            "1.2亿元",
            "2015年3月1日",
        ],
        [uscc(202), "嘉善导入测试乙有限公司", 330421, "39", 80, "5000万元", "８０００", "20180105"],
        [],
        [uscc(203), "嘉善导入测试丙有限公司", "嘉善县", "C34", None, None, None, 42005],
    ]
    data = xlsx(rows, merges=["A1:H1", "A2:D2", "E2:G2", "H2:H3"])
    job = _import(world, data)
    assert job.status == "done", job.issues
    assert (job.created_count, job.updated_count, job.error_rows) == (3, 0, 0)
    first = Enterprise.objects.get(uscc=uscc(201))
    assert first.name == "嘉善导入测试甲 有限公司"
    assert first.employees == 120
    assert first.revenue == Decimal("35000000.00")  # 0.35 亿元 (unit from the header)
    assert first.assets == Decimal("120000000.00")
    assert first.founded_on == date(2015, 3, 1)
    assert first.industry_id == "C39" and first.size
    second = Enterprise.objects.get(uscc=uscc(202))
    assert second.revenue == Decimal("50000000.00") and second.assets == Decimal("80000000.00")
    assert second.founded_on == date(2018, 1, 5)
    third = Enterprise.objects.get(uscc=uscc(203))
    assert third.region_id == "330421" and third.founded_on == date(2015, 1, 1)
    assert verify().ok


def test_errors_are_reported_by_excel_row_and_column_and_nothing_is_written(world):
    bad_uscc = uscc(301)[:-1] + ("0" if uscc(301)[-1] != "0" else "1")
    rows = [
        HEADER,
        enterprise_row(300),
        enterprise_row(301, uscc=bad_uscc),
        enterprise_row(302, employees="很多"),
        enterprise_row(303, region="320508"),  # 苏州: outside 嘉善
        enterprise_row(304, industry="C"),
        enterprise_row(305, revenue="-5"),
    ]
    job = _import(world, xlsx(rows))
    assert job.status == "rejected"
    assert not _ours().exists()
    errors = _errors(job)
    assert (
        3,
        "A",
        f"统一社会信用代码校验码错误：第 18 位应为 {uscc(301)[-1]}，当前为 {bad_uscc[-1]}",
    ) in errors
    assert any(row == 4 and col == "E" and "整数" in msg for row, col, msg in errors)
    assert (5, "C", "只能导入本辖区内的企业") in errors
    assert (6, "D", "应为行业大类代码，如 C39") in errors
    assert (7, "F", "不能为负数") in errors
    assert job.error_rows == 5 and job.valid_rows == 1
    assert "未导入任何数据" in job.message
    issue = next(i for i in job.issues if i["row"] == 3)
    assert issue["header"] == "统一社会信用代码" and issue["value"] == bad_uscc


def test_valid_rows_only_imports_the_rest(world):
    rows = [HEADER, enterprise_row(310), enterprise_row(311, employees="x"), enterprise_row(312)]
    job = _import(world, xlsx(rows), mode="valid_only")
    assert job.status == "done"
    assert (job.created_count, job.error_rows) == (2, 1)
    assert set(_ours().values_list("uscc", flat=True)) == {uscc(310), uscc(312)}
    assert "1 行有误" in job.message


def test_duplicate_uscc_in_one_file_reports_both_rows(world):
    rows = [
        HEADER,
        enterprise_row(320),
        enterprise_row(321),
        enterprise_row(320, name="嘉善导入测试重复有限公司"),
    ]
    job = _import(world, xlsx(rows))
    assert job.status == "rejected"
    errors = _errors(job)
    assert (2, "A", "统一社会信用代码在文件中重复出现（另见第 4 行）") in errors
    assert (4, "A", "统一社会信用代码与第 2 行重复") in errors
    job = _import(world, xlsx(rows), mode="valid_only")
    assert set(_ours().values_list("uscc", flat=True)) == {uscc(321)}


def test_reimport_updates_and_never_duplicates(world):
    rows = [HEADER, enterprise_row(330), enterprise_row(331)]
    first = _import(world, xlsx(rows))
    assert (first.created_count, first.updated_count) == (2, 0)
    again = _import(world, xlsx(rows))
    assert (again.created_count, again.updated_count) == (0, 0)
    assert "2 条无变化" in again.message
    changed = [HEADER, enterprise_row(330, employees=999), enterprise_row(331)]
    third = _import(world, xlsx(changed))
    assert (third.created_count, third.updated_count) == (0, 1)
    assert _ours().count() == 2
    assert Enterprise.objects.get(uscc=uscc(330)).employees == 999


def test_blank_cells_keep_stored_values(world):
    _import(world, xlsx([HEADER, enterprise_row(340)]))
    job = _import(world, xlsx([["信用代码", "从业人员"], [uscc(340), 77]]))
    assert job.status == "done" and job.updated_count == 1
    stored = Enterprise.objects.get(uscc=uscc(340))
    assert stored.employees == 77 and stored.revenue == Decimal("13400000.00")


def test_new_enterprise_needs_its_core_fields(world):
    job = _import(world, xlsx([["信用代码", "从业人员"], [uscc(341), 77]]))
    assert job.status == "rejected"
    assert {msg for _r, _c, msg in _errors(job)} == {"必填（新登记的企业）"}


def test_existing_enterprise_outside_the_region_is_refused(world):
    row = enterprise_row(0, name="嘉善导入测试冒用有限公司", uscc=world.ent_js.uscc)
    job = _import(world, xlsx([HEADER, row]))
    assert (2, "A", "该统一社会信用代码已由其他辖区登记") in _errors(job)
    world.ent_js.refresh_from_db()
    assert world.ent_js.name == "苏州姑苏电子有限公司"


def test_csv_in_gbk(world):
    data = csv_bytes([HEADER, enterprise_row(350), enterprise_row(351)], encoding="gbk")
    job = _import(world, data, filename="企业.csv")
    assert job.status == "done" and job.created_count == 2


def test_formula_cells(world):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(enterprise_row(360, employees="=100+20"))
    buffer = io.BytesIO()
    workbook.save(buffer)
    job = _import(world, buffer.getvalue())
    assert job.status == "rejected"
    [(row, col, msg)] = _errors(job)
    assert (row, col) == (2, "E") and "公式" in msg and "计算结果" in msg


def test_formula_with_cached_value_is_read(world):
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer)
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, HEADER)
    sheet.write_row(1, 0, enterprise_row(361)[:4])
    sheet.write_formula(1, 4, "=100+20", None, 120)
    workbook.close()
    job = _import(world, buffer.getvalue())
    assert job.status == "done", job.issues
    assert Enterprise.objects.get(uscc=uscc(361)).employees == 120


def test_missing_required_column_and_unknown_columns(world):
    job = _import(world, xlsx([["企业名称", "备注"], ["嘉善导入测试无码有限公司", "x"]]))
    assert job.status == "rejected"
    assert "缺少必填列：统一社会信用代码" in job.message
    job = _import(world, xlsx([[*HEADER, "备注"], [*enterprise_row(370), "随便写"]]))
    assert job.status == "done"
    warnings = [i for i in job.issues if i["level"] == "warning"]
    assert warnings[0]["column"] == "G" and warnings[0]["header"] == "备注"


def test_not_a_spreadsheet_and_too_large_are_refused_before_anything(world, settings):
    with pytest.raises(ValidationFailed) as exc:
        _import(world, b"%PDF-1.4 fake", filename="企业.xlsx")
    assert exc.value.errors[0].field == "file" and "PDF" in exc.value.errors[0].message
    settings.CHANRONG_IMPORT_MAX_BYTES = 1000
    with pytest.raises(ValidationFailed) as exc:
        _import(world, xlsx([HEADER, enterprise_row(380)]))
    assert "超过上限 1000 B" in exc.value.errors[0].message
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize("user", ["ent_user", "bank_staff", "bank_manager"])
def test_only_government_and_platform_may_import(world, user):
    with pytest.raises(NotAllowed):
        _import(world, xlsx([HEADER, enterprise_row(390)]), user=user)


def test_one_audit_entry_per_import(world):
    before = AuditEntry.objects.filter(action="enterprise.import").count()
    job = _import(world, xlsx([HEADER, enterprise_row(400), enterprise_row(401)]))
    entries = AuditEntry.objects.filter(action="enterprise.import")
    assert entries.count() == before + 1
    entry = entries.order_by("-seq").first()
    assert entry.changes["created"] == 2 and entry.changes["job"] == job.pk
    assert entry.changes["sha256"] == job.sha256
    assert sorted(entry.changes["created_usccs"]) == [uscc(400), uscc(401)]


def test_failure_inside_the_write_leaves_nothing(world, monkeypatch):
    from chanrong.core import audit

    def broken(*args, **kwargs):
        if args and args[0] == "enterprise.import":
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    real = audit.record
    monkeypatch.setattr(audit, "record", broken)
    job = _import(world, xlsx([HEADER, *[enterprise_row(410 + i) for i in range(5)]]))
    assert job.status == "failed" and "未写入任何数据" in job.message
    assert not _ours().exists()
    assert job.content is None
