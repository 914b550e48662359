"""嘉善's 定量指标表 (seed 004) loads as a plan and renders back identically."""

from __future__ import annotations

from pathlib import Path

import pytest

from chanrong.core.errors import ValidationFailed
from chanrong.core.models import Region
from chanrong.insights import services
from chanrong.insights.tables import JIASHAN_TABLE, load_jiashan_table, parse_table

SEED = Path("/work/shared/seeds/004_bd10dd4be44d4a91.txt")


def _table_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.startswith("#")]


@pytest.mark.skipif(not SEED.exists(), reason="seeds not available")
def test_data_file_is_a_verbatim_copy_of_the_seed_attachment():
    seed = SEED.read_text(encoding="utf-8").splitlines()
    shipped = _table_lines(JIASHAN_TABLE.read_text(encoding="utf-8"))
    start = seed.index("嘉善县国家产融合作试点城市建设定量指标表")
    assert seed[start : start + len(shipped)] == shipped
    assert seed[start + len(shipped)].startswith("抄送") or not seed[start + len(shipped)].strip()


def test_parser_reads_both_pages():
    table = load_jiashan_table()
    assert table.years == [2021, 2022, 2023]
    assert len(table.rows) == 32
    assert [r.category for r in table.rows].count("金融资源") == 9
    names = [r.name for r in table.rows]
    assert names[0] == "地区生产总值(GDP)(亿元)及增速(%)"
    assert names[-1] == "政府投资基金数量（支）及规模（亿元）"
    # page 2 starts with the fund row; its stray nameless copy is set aside, not lost
    assert len(table.artifacts) == 1
    fund = next(r for r in table.rows if r.name.startswith("股权投资基金"))
    stray = table.artifacts[0][1].split("\t")[3:]
    assert [v for cell in fund.cells for v in cell] == stray


def _seed_rows():
    return [
        (r.category, r.name, r.kind_label, [tuple(c) for c in r.cells])
        for r in load_jiashan_table().rows
    ]


def _rendered(plan):
    return [
        (r.category, r.name, r.kind_label, [(c.value, c.second) for c in r.cells])
        for r in services.plan_table(plan)
    ]


def test_round_trip(world):
    jiashan = Region.objects.get(code="330421")
    text = JIASHAN_TABLE.read_text(encoding="utf-8")
    plan = services.import_plan_table(world.user("gov_jiashan"), jiashan, text)
    assert (plan.start_year, plan.end_year) == (2021, 2023)
    assert plan.title == "嘉善县国家产融合作试点城市建设定量指标表"
    assert _rendered(plan) == _seed_rows()
    # spot checks on what a careless loader would get wrong
    rows = {r.name: r for r in services.plan_table(plan)}
    assert rows["普惠型小微企业贷款利率(%)"].cells[0].value == "4.90"
    assert rows["政府投资基金数量（支）及规模（亿元）"].cells[0].second == "1.0"
    assert rows["工业企业利润(亿元)及增速(%)"].cells[1].value == "81"
    assert rows["制造业贷款余额(亿元)及增速(%)"].kind_label == "时点指标"
    assert rows["上交所深交所上市企业(个)、新三板挂牌企业(个)"].cells[0] == services.TableCell(
        "2", ""
    )


def test_import_refuses_a_retyped_indicator(world):
    jiashan = Region.objects.get(code="330421")
    text = JIASHAN_TABLE.read_text(encoding="utf-8").replace(
        "不良贷款率(%)\t时点指标", "不良贷款率(%)\t时期指标"
    )
    with pytest.raises(ValidationFailed):
        services.import_plan_table(world.user("gov_jiashan"), jiashan, text)
    assert not services.IndicatorPlan.objects.exists()


def test_parser_refuses_unknown_indicator():
    text = "\t定量指标\t指标类型\t2021 年\t\n产业发展\t不存在的指标(亿元)\t时期指标\t1\t\n"
    with pytest.raises(ValueError):
        parse_table(text)
