"""The 定量指标统计表 export keeps the layout of the printed attachment."""

from __future__ import annotations

import io

import pytest
from django.utils import translation
from openpyxl import load_workbook

from chanrong.core.models import Region
from chanrong.insights import services
from chanrong.insights.exports import FIRST_YEAR_COLUMN, plan_xlsx
from chanrong.insights.tables import JIASHAN_TABLE, load_jiashan_table


@pytest.fixture
def plan(world):
    return services.import_plan_table(
        world.user("gov_jiashan"),
        Region.objects.get(code="330421"),
        JIASHAN_TABLE.read_text(encoding="utf-8"),
    )


def _shown(cell) -> str:
    """The text Excel shows for a numeric cell with its number format."""
    if cell.value is None:
        return ""
    if isinstance(cell.value, str):
        return cell.value
    places = cell.number_format.split(".")[1].count("0") if "." in cell.number_format else 0
    return f"{cell.value:.{places}f}"


def test_layout(plan):
    ws = load_workbook(io.BytesIO(plan_xlsx(plan))).active
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert ws["A1"].value == "嘉善县国家产融合作试点城市建设定量指标表"
    assert "A1:I1" in merged
    assert (ws["B2"].value, ws["C2"].value) == ("定量指标", "指标类型")
    assert [ws.cell(row=2, column=c).value for c in (4, 6, 8)] == ["2021 年", "2022 年", "2023 年"]
    assert {"D2:E2", "F2:G2", "H2:I2"} <= merged
    # category cells merged down their group: 产业发展 9 rows, 金融资源 9, 金融科技 4, 信息对接 5, 财政支持 5
    assert {"A3:A11", "A12:A20", "A21:A24", "A25:A29", "A30:A34"} <= merged
    assert [ws.cell(row=r, column=1).value for r in (3, 12, 21, 25, 30)] == [
        "产业发展",
        "金融资源",
        "金融科技",
        "信息对接",
        "财政支持",
    ]
    # compound indicator: two separate cells per year; single value: the year group merged
    assert ws["B3"].value == "地区生产总值(GDP)(亿元)及增速(%)"
    assert (ws["D3"].value, ws["E3"].value) == (714, 9)
    assert "D3:E3" not in merged
    assert ws["B8"].value == "规上企业研发费用(亿元)"
    assert "D8:E8" in merged and "H8:I8" in merged
    # every seed row and value, as printed
    seed = load_jiashan_table().rows
    for offset, row in enumerate(seed):
        r = 3 + offset
        assert ws.cell(row=r, column=2).value == row.name
        assert ws.cell(row=r, column=3).value == row.kind_label
        for i, (value, second) in enumerate(row.cells):
            column = FIRST_YEAR_COLUMN + 2 * i
            assert _shown(ws.cell(row=r, column=column)) == value, (row.name, i)
            assert _shown(ws.cell(row=r, column=column + 1)) == second, (row.name, i)
    assert ws.max_row == 2 + len(seed)


def test_download_view(plan, client, world):
    client.force_login(world.user("gov_zhejiang"))
    response = client.get(f"/insights/plans/{plan.pk}/export.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert load_workbook(io.BytesIO(response.content)).active["A1"].value == plan.title
    client.force_login(world.user("gov_jiangsu"))
    assert client.get(f"/insights/plans/{plan.pk}/export.xlsx").status_code == 404


def test_the_document_stays_chinese_in_an_english_session(plan):
    with translation.override("en"):
        ws = load_workbook(io.BytesIO(plan_xlsx(plan))).active
    assert {ws.cell(row=r, column=3).value for r in range(3, ws.max_row + 1)} == {
        "时期指标",
        "时点指标",
    }
