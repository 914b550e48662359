"""Where a reported indicator figure comes from (issue 21: "the rest are
marked 'reported' and entered with their source"): the 指标填报 form and the
API ask for 填报单位/人, 依据文件 and 报送日期, refuse them by field, record the
user; the plan's table, its completion API and the 定量指标统计表 show the
source beside the figure."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from chanrong.core.errors import ValidationFailed
from chanrong.core.models import Region
from chanrong.insights import services
from chanrong.insights.exports import STAT_SHEET, statistics_xlsx
from chanrong.insights.models import IndicatorActual, IndicatorDefinition

API = "/api/v1/indicators"


@pytest.fixture
def setting(world):
    gov = world.user("gov_jiashan")
    jiashan = Region.objects.get(code="330421")
    plan = services.create_plan(gov, jiashan, "嘉善测试计划", 2022, 2023)
    services.set_targets(gov, plan, [{"definition": "gdp", "year": 2022, "value": "714"}])
    client = Client()
    client.force_login(gov)
    return world, gov, jiashan, plan, client, IndicatorDefinition.objects.get(code="gdp")


def _form(gdp, **extra):
    return {
        "region": "330421",
        "definition": gdp.pk,
        "period_type": "year",
        "year": 2022,
        "number": 1,
        "value": "778",
        "source_body": "嘉善县统计局 张三",
        "source_document": "嘉统〔2023〕5号",
        "source_date": "2023-02-10",
    } | extra


def test_the_form_records_the_source_and_the_user_and_the_table_shows_it(setting):
    world, gov, _jiashan, plan, client, gdp = setting
    assert client.post("/insights/report/", _form(gdp)).status_code == 302
    actual = IndicatorActual.objects.get(definition=gdp, region_id="330421")
    assert (actual.source_body, actual.source_document, actual.source_date) == (
        "嘉善县统计局 张三",
        "嘉统〔2023〕5号",
        date(2023, 2, 10),
    )
    assert actual.reported_by == gov
    recent = client.get("/insights/report/").content.decode()
    assert "嘉统〔2023〕5号" in recent and "gov_jiashan" in recent
    detail = client.get(f"/insights/plans/{plan.pk}/?year=2022").content.decode()
    assert "嘉善县统计局 张三，嘉统〔2023〕5号，报送 2023-02-10，填报人 gov_jiashan" in detail
    completion = client.get(f"{API}/plans/{plan.pk}/completion", {"year": 2022}).json()
    row = next(r for r in completion if r["code"] == "gdp")
    assert row["actual"] == "778" and row["source"] == {
        "body": "嘉善县统计局 张三",
        "document": "嘉统〔2023〕5号",
        "reported_on": "2023-02-10",
        "reporter": "gov_jiashan",
        "period_end": "2022-12-31",
    }
    ws = load_workbook(io.BytesIO(statistics_xlsx(plan, today=date(2024, 6, 1))))[STAT_SHEET]
    rows = {ws.cell(r, 2).value: r for r in range(4, ws.max_row + 1)}
    assert (
        "2022：嘉善县统计局 张三，嘉统〔2023〕5号"
        in ws.cell(rows["地区生产总值(GDP)(亿元)及增速(%)"], 12).value
    )
    # a computed indicator has no reported source, nor a reported one not yet reported
    assert all(r["source"] is None for r in completion if r["code"] != "gdp")


def test_the_form_refuses_a_missing_or_impossible_source_by_field(setting):
    _world, _gov, _jiashan, _plan, client, gdp = setting
    page = client.post(
        "/insights/report/", _form(gdp, source_body="", source_document=" ", source_date="")
    )
    assert page.status_code == 200
    errors = page.context["form"].errors
    assert {"source_body", "source_document", "source_date"} <= set(errors)
    tomorrow = timezone.localdate() + timedelta(days=1)
    page = client.post("/insights/report/", _form(gdp, source_date=tomorrow.isoformat()))
    assert page.context["form"].errors["source_date"] == ["报送日期不能晚于今天"]
    page = client.post("/insights/report/", _form(gdp, source_date="2021-12-31"))
    assert "不能早于报告期开始" in page.context["form"].errors["source_date"][0]
    assert not IndicatorActual.objects.exists()


def test_the_api_asks_for_the_source_by_field(setting):
    _world, _gov, jiashan, _plan, client, gdp = setting
    payload = {
        "region_code": "330421",
        "indicator": "gdp",
        "period_type": "quarter",
        "year": 2022,
        "number": 2,
        "value": "190",
    }
    bad = client.post(f"{API}/actuals", payload, content_type="application/json")
    assert bad.status_code == 422
    fields = {e["field"] for e in bad.json()["errors"]}
    assert {"source_body", "source_document", "source_date"} <= fields, fields
    early = client.post(
        f"{API}/actuals",
        payload | {"source_body": "统计局", "source_document": "季报", "source_date": "2022-03-31"},
        content_type="application/json",
    )
    assert early.status_code == 422 and early.json()["errors"][0]["field"] == "source_date"
    good = client.post(
        f"{API}/actuals",
        payload | {"source_body": "统计局", "source_document": "季报", "source_date": "2022-07-15"},
        content_type="application/json",
    )
    assert good.status_code == 201, good.content
    body = good.json()
    assert body["reported_by"] == "gov_jiashan" and body["source_date"] == "2022-07-15"
    assert not IndicatorActual.objects.filter(period_type="year").exists()
    # the service keeps the source optional for its other callers, but checks a date
    with pytest.raises(ValidationFailed) as refused:
        services.report_actual(
            _gov, region=jiashan, definition=gdp, period_type="year", year=2022,
            value="1", source_date=date(2021, 5, 1),
        )  # fmt: skip
    assert refused.value.errors[0].field == "source_date"
