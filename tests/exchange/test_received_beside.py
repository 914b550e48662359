"""Received figures beside the local ones (issue 19 part 1): the parent's
统计分析 dashboard and the ministry's pilot evaluation show what a child
deployment reported, marked with its source deployment, batch and date, and
never add it into this deployment's own figures — except in the 按地区 table
for a region this deployment has no financing data of its own for, where the
row is marked as received."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from openpyxl import load_workbook

from chanrong.core.models import Region
from chanrong.insights import services as insights_services
from chanrong.insights.received import received_figures, totals
from chanrong.insights.services.financing import record_financing
from chanrong.pilots.models import Application as PilotApplication
from chanrong.pilots.models import (
    ApplicationKind,
    ApplicationState,
    Batch,
    BatchState,
    MinistryReview,
    MinistryState,
)

from .conftest import JIASHAN, post

URL = "/api/v1/exchange/batches"
YEAR = 2026
pytestmark = pytest.mark.django_db


def _indicators(child, period: str, amount: str, count: str) -> dict:
    return child.batch(
        kind="indicator_actuals",
        period=period,
        payload={
            "period_start": f"{period}-01",
            "period_end": f"{period}-28",
            "figures": [
                {
                    "key": "platform.financing_amount",
                    "label": "平台融资记录",
                    "unit": "元",
                    "kind": "period",
                    "value": amount,
                },
                {
                    "key": "platform.financing_count",
                    "label": "平台融资记录笔数",
                    "unit": "",
                    "kind": "period",
                    "value": count,
                },
            ],
        },
    )


@pytest.fixture
def reported(client, child):
    """The child sent October's financing aggregates and two months of
    indicator actuals."""
    for document in (
        child.batch(),  # financing_stats 2026-10: 2 loans, 2,800,000 元
        _indicators(child, f"{YEAR}-09", "100000000.00", "4"),
        _indicators(child, f"{YEAR}-10", "150000000.00", "6"),
    ):
        response, answer = post(client, URL, child.body(document))
        assert response.status_code == 201, answer
    return child


@pytest.fixture
def as_user(world):
    def login(name: str) -> Client:
        c = Client()
        c.force_login(world.user(name))
        return c

    return login


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_registry_hands_insights_the_figures_with_their_source(world, reported):
    figures = received_figures(world.user("gov_zhejiang"), "33")
    assert {f.kind for f in figures} == {"indicator_actuals", "financing_stats"}
    amount = [f for f in figures if f.key == "platform.financing_amount"]
    assert sorted(f.period for f in amount) == [f"{YEAR}-09", f"{YEAR}-10"]
    assert {f.source_name for f in amount} == {"嘉善县产融合作平台"}
    assert all(f.batch_url.startswith("/exchange/inbound/") for f in amount)
    # A flow's months of one source add up; nothing else is added to them.
    (total,) = [t for t in totals(amount)]
    assert total.value == Decimal("250000000.00")
    assert total.periods == [f"{YEAR}-09", f"{YEAR}-10"]
    # Scoped: another province sees nothing of it; an enterprise nothing at all.
    assert received_figures(world.user("gov_jiangsu"), "") == []
    assert received_figures(world.user("ent_user"), "") == []


def test_the_dashboard_shows_received_figures_beside_its_own_marked_with_their_source(
    world, reported, as_user
):
    page = as_user("gov_zhejiang").get("/insights/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="received-panel"' in html
    text = _text(html)
    assert "下级平台报送数据" in text
    assert "来源：嘉善县产融合作平台，批次 #3" in text
    assert "平台融资记录" in text and "15000" in text  # 150,000,000 元 = 15000 万元
    # 嘉兴市 has no financing of its own here: the child's figure stands in the
    # 按地区 table, marked as received, with its source.
    region_rows = re.search(r'data-testid="by-region".*?</table>', html, re.S).group(0)
    assert 'data-received="330400"' in region_rows
    assert "下级平台报送" in _text(region_rows)
    # …and is not added into the platform's own totals.
    assert re.search(r'data-stat="financing_count">\s*0\s*<', html)


def test_a_region_with_own_data_keeps_its_own_figure_in_the_region_table(world, reported, as_user):
    record_financing(
        region=Region.objects.get(code=JIASHAN),
        institution=world.bank,
        amount=Decimal("1000000"),
        on=date(YEAR, 10, 15),
    )
    html = as_user("gov_zhejiang").get("/insights/").content.decode()
    region_rows = re.search(r'data-testid="by-region".*?</table>', html, re.S).group(0)
    assert 'data-received="330400"' not in region_rows  # own data: not replaced, not summed
    assert "嘉兴市" in region_rows
    assert re.search(r'data-stat="financing_count">\s*1\s*<', html)
    # The received panel still lists the child's figure beside the own one.
    assert "来源：嘉善县产融合作平台" in _text(html)


def test_nothing_received_nothing_shown(world, as_user, parent):
    html = as_user("gov_zhejiang").get("/insights/").content.decode()
    assert 'data-testid="received-panel"' not in html
    assert "data-received=" not in html


@pytest.fixture
def jiashan_pilot(world):
    """A published pilot, 嘉善县, with a 平台融资额 target for 2026."""
    ministry = world.user("gov_national")
    batch = Batch.objects.create(
        number=2,
        name="第二批",
        notice_title="关于组织申报第二批产融合作试点城市的通知",
        application_deadline=date(YEAR - 1, 6, 1),
        provincial_deadline=date(YEAR - 1, 7, 1),
        state=BatchState.PUBLISHED,
    )
    region = Region.objects.get(code=JIASHAN)
    plan = insights_services.create_plan(
        world.user("gov_jiashan"), region, "嘉善县试点指标", YEAR, YEAR
    )
    insights_services.set_targets(
        world.user("gov_jiashan"),
        plan,
        [{"definition": "platform-financing-amount", "year": YEAR, "value": "5"}],
    )
    application = PilotApplication.objects.create(
        batch=batch,
        region=region,
        review_region=Region.objects.get(code="330000"),
        kind=ApplicationKind.NEW,
        title="嘉善县实施方案",
        start_year=YEAR,
        end_year=YEAR,
        state=ApplicationState.SUBMITTED,
        indicator_plan=plan,
    )
    MinistryReview.objects.create(
        application=application, batch=batch, state=MinistryState.APPROVED
    )
    return ministry, application


def test_the_pilot_evaluation_shows_the_pilots_reported_figures_beside_its_own(
    world, reported, jiashan_pilot, as_user
):
    ministry, application = jiashan_pilot
    client = as_user("gov_national")
    html = client.get(f"/pilot/tracking/?year={YEAR}").content.decode()
    cell = re.search(r'data-testid="received-cell">(.*?)</td>', html, re.S).group(1)
    text = _text(cell)
    # Matched to the plan's indicator, converted into its unit (亿元): 2.5.
    assert "产融合作平台融资额（亿元）：报送 2.5 亿元" in text
    assert f"{YEAR}-09 – {YEAR}-10" in text
    assert "来源：嘉善县产融合作平台，批次 #3" in text
    # The completion stays this deployment's own (no financing here: 0).
    (row,) = [r for r in insights_services.completion(application.indicator_plan, YEAR)]
    assert row.actual == 0
    export = client.get(f"/pilot/tracking/export.xlsx?year={YEAR}")
    sheet = load_workbook(io.BytesIO(export.content))["下级平台报送"]
    values = [[c.value for c in r] for r in sheet.iter_rows(min_row=2)]
    assert values[0][:4] == ["嘉善县", YEAR, "产融合作平台融资额（亿元）", "2.5"]
    assert values[0][7] == "嘉善县产融合作平台"
