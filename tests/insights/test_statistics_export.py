"""The 定量指标统计表 with actuals beside targets, read back with openpyxl;
厦门's plan from its 分年度目标 (quotes checked against the verbatim text)."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from django.test import Client
from openpyxl import load_workbook

from chanrong.core.models import AuditEntry, Region
from chanrong.insights import services
from chanrong.insights.exports import STAT_SHEET, statistics_xlsx
from chanrong.insights.models import IndicatorDefinition
from chanrong.insights.xiamen import TARGETS, load_xiamen_plan, xiamen_text
from chanrong.risk.models import LoanAccount


def test_statistics_workbook_layout(world):
    gov = world.user("gov_jiashan")
    jiashan = Region.objects.get(code="330421")
    plan = services.create_plan(gov, jiashan, "嘉善测试计划", 2022, 2023)
    services.set_targets(
        gov,
        plan,
        [
            {
                "definition": "manufacturing-loans",
                "year": 2022,
                "value": "320",
                "second_value": "30",
            },
            {"definition": "gdp", "year": 2022, "value": "714", "second_value": "9"},
            {"definition": "npl-ratio", "year": 2023, "value": "0.8"},
        ],
    )
    LoanAccount.objects.create(
        enterprise=world.ent, institution=world.bank, source="reported",
        principal=Decimal("250000000"), outstanding=Decimal("250000000"),
        disbursed_on=date(2022, 3, 1), maturity_on=date(2025, 3, 1),
    )  # fmt: skip
    services.report_actual(
        gov, region=jiashan, definition=IndicatorDefinition.objects.get(code="gdp"),
        period_type="year", year=2022, value="700",
        source_body="嘉善县统计局", source_document="2022年嘉善县国民经济和社会发展统计公报",
    )  # fmt: skip
    wb = load_workbook(io.BytesIO(statistics_xlsx(plan, today=date(2024, 6, 1))))
    assert wb.sheetnames == [STAT_SHEET]
    ws = wb[STAT_SHEET]
    assert ws["B2"].value == "定量指标" and ws["C2"].value == "指标类型"
    assert ws["D2"].value == "2022 年" and ws["H2"].value == "2023 年"
    assert [ws.cell(3, c).value for c in (4, 6, 8, 10)] == ["目标", "实际", "目标", "实际"]
    assert ws["L2"].value == "实际值来源" and ws["M2"].value == "指标口径"
    rows = {ws.cell(r, 2).value: r for r in range(4, ws.max_row + 1)}
    loans = rows["制造业贷款余额(亿元)及增速(%)"]
    assert ws.cell(loans, 3).value == "时点指标"
    assert ws.cell(loans, 4).value == 320 and ws.cell(loans, 5).value == 30
    assert ws.cell(loans, 6).value == 2.5  # 2.5 亿元 computed from the loan book
    assert ws.cell(loans, 6).comment.text == "平台计算"
    assert ws.cell(loans, 12).value == "平台计算"
    assert "门类 C" in ws.cell(loans, 13).value
    gdp = rows["地区生产总值(GDP)(亿元)及增速(%)"]
    assert ws.cell(gdp, 6).value == 700 and ws.cell(gdp, 6).comment is None
    assert ws.cell(gdp, 12).value == (
        "填报\n2022：嘉善县统计局，2022年嘉善县国民经济和社会发展统计公报，填报人 gov_jiashan"
    )
    npl = rows["不良贷款率(%)"]
    assert f"H{npl}:I{npl}" in {str(m) for m in ws.merged_cells.ranges}
    assert ws.cell(npl, 8).value == 0.8 and ws.cell(npl, 10).value == 0  # no bad loans


def test_statistics_export_page_is_audited_and_scoped(world):
    gov = world.user("gov_jiashan")
    plan = services.create_plan(gov, Region.objects.get(code="330421"), "计划", 2022, 2022)
    client = Client()
    client.force_login(gov)
    response = client.get(f"/insights/plans/{plan.pk}/statistics.xlsx")
    assert response.status_code == 200
    assert AuditEntry.objects.filter(action="insights.plan.export_statistics").count() == 1
    other = Client()
    other.force_login(world.user("gov_jiangsu"))
    assert other.get(f"/insights/plans/{plan.pk}/statistics.xlsx").status_code == 404
    assert other.get(f"/insights/plans/{plan.pk}/comparison/").status_code == 404
    page = client.get(f"/insights/plans/{plan.pk}/comparison/?year=2022")
    assert page.status_code == 200 and "制造业贷款余额" in page.content.decode()


def test_xiamen_plan_loads_and_computes(world):
    text = xiamen_text()
    for t in TARGETS:
        assert t.quote in text, t.quote
        assert t.value in t.quote
    plan = load_xiamen_plan(world.user("admin"))
    assert (plan.region_id, plan.start_year, plan.end_year) == ("350200", 2024, 2026)
    table = {row.definition.code: row for row in services.plan_table(plan)}
    assert table["manufacturing-loans"].cells[0].value == "2500"
    assert table["equity-funds"].cells[1].value == "90"
    assert table["equity-funds"].cells[1].second == "1500"
    rows = {r.definition.code: r for r in services.completion(plan, 2024, today=date(2025, 1, 2))}
    assert rows["manufacturing-loans"].computed and rows["manufacturing-loans"].actual == 0
