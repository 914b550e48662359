"""Insights pages: dashboard drill-down, plans, reporting; scoped by region."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection

from chanrong.core.models import Industry, Region
from chanrong.insights import services
from chanrong.insights.models import FinancingRollup
from chanrong.insights.tables import JIASHAN_TABLE


@pytest.fixture
def financed(world):
    jiashan = Region.objects.get(code="330421")
    gusu = Region.objects.get(code="320508")
    c34 = Industry.objects.get(code="C34")
    for i, (region, amount) in enumerate(
        [(jiashan, "5000000"), (jiashan, "3000000"), (gusu, "7000000")]
    ):
        services.record_financing(
            region=region,
            institution=world.bank if i < 2 else world.bank2,
            industry=c34,
            amount=amount,
            on=date(2024, 3 + i, 10),
            source_ref=f"test:{i}",
        )
    return world


def test_rollup_is_incremental_and_matches_rebuild(financed):
    before = {
        (r.region, r.section, r.institution_id, r.month): (r.count, r.amount)
        for r in FinancingRollup.objects.all()
    }
    assert services.financing_totals("")[0] == 3
    assert services.financing_totals("3304")[0] == 2
    assert services.financing_totals("330421", date(2024, 4, 1), date(2024, 4, 30))[0] == 1
    # recording the same outcome twice counts it once
    services.record_financing(
        region=Region.objects.get(code="330421"),
        institution=financed.bank,
        amount="1",
        on=date(2024, 3, 1),
        source_ref="test:0",
    )
    services.rebuild_rollups()
    after = {
        (r.region, r.section, r.institution_id, r.month): (r.count, r.amount)
        for r in FinancingRollup.objects.all()
    }
    assert after == before
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(
            cursor, FinancingRollup._meta.db_table
        )
    assert "financing_rollup_by_inst" in constraints  # rebuilt after the bulk load


def test_dashboard_scopes_and_drills(financed, client):
    client.force_login(financed.user("gov_zhejiang"))
    page = client.get("/insights/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-stat="financing_count">2<' in body
    assert "嘉兴市" in body  # the child region row
    assert 'id="region-heading"' in body
    # A county has no lower level: no empty 按地区 panel.
    county = client.get("/insights/?region=330421").content.decode()
    assert 'id="region-heading"' not in county and 'data-stat="financing_count">2<' in county
    # drill down to 嘉善 and by section
    page = client.get("/insights/?region=330421&section=C")
    assert page.status_code == 200
    assert 'data-stat="financing_count">2<' in page.content.decode()
    # outside the subtree: 404
    assert client.get("/insights/?region=320508").status_code == 404
    client.force_login(financed.user("gov_national"))
    assert 'data-stat="financing_count">3<' in client.get("/insights/").content.decode()
    client.force_login(financed.user("ent_user"))
    assert client.get("/insights/").status_code == 404


def test_the_institution_count_agrees_with_the_directory_it_links_to(world, client):
    """入驻金融机构数 counted 26 while the directory listed 30: the figure now
    links to the directory filtered by the same rule (based there or a branch
    there), and the two agree. 工商银行 is based in Beijing with a branch in 嘉善;
    a third bank has no presence in 浙江."""
    from chanrong.finance.models import Branch, BranchLevel, FinancialInstitution

    Branch.objects.create(
        institution=world.bank2, name="工商银行嘉善支行", level=BranchLevel.SUB, region_id="330421"
    )
    FinancialInstitution.objects.create(name="江苏某银行", kind="bank", region_id="320508")
    client.force_login(world.user("gov_zhejiang"))
    page = client.get("/insights/?region=330421").content.decode()
    assert '?region=330421" title="总部或分支机构在本地区的金融机构">2</a>' in page
    listed = client.get("/institutions/?region=330421").content.decode()
    assert "嘉善农商行" in listed and "工商银行" in listed and "江苏某银行" not in listed
    assert "江苏某银行" in client.get("/institutions/").content.decode()


def test_plan_pages(world, client):
    gov = world.user("gov_jiashan")
    plan = services.import_plan_table(
        gov, Region.objects.get(code="330421"), JIASHAN_TABLE.read_text(encoding="utf-8")
    )
    client.force_login(gov)
    detail = client.get(f"/insights/plans/{plan.pk}/?year=2022")
    assert detail.status_code == 200
    body = detail.content.decode()
    assert "普惠型小微企业贷款利率(%)" in body and "4.90" in body
    assert 'rowspan="9"' in body  # 产业发展 merged over its 9 rows
    printed = client.get(f"/insights/plans/{plan.pk}/print/")
    assert printed.status_code == 200 and "@media print" not in printed.content.decode()
    assert client.get(f"/insights/plans/{plan.pk}/targets/").status_code == 200
    response = client.post(
        f"/insights/plans/{plan.pk}/targets/",
        {f"v-{plan.targets.first().definition_id}-2021": "abc"},
    )
    assert response.status_code == 200 and "无法识别的数值" in response.content.decode()
    client.force_login(world.user("gov_jiangsu"))
    assert client.get(f"/insights/plans/{plan.pk}/").status_code == 404
    client.force_login(world.user("gov_zhejiang"))
    assert client.get(f"/insights/plans/{plan.pk}/targets/").status_code == 200  # its subtree
    client.force_login(world.user("bank_staff"))
    assert client.get(f"/insights/plans/{plan.pk}/").status_code == 404


def test_create_and_import_via_form(world, client):
    client.force_login(world.user("gov_jiashan"))
    response = client.post(
        "/insights/plans/new/",
        {"create": "1", "region": "330421", "title": "测试", "start_year": 2024, "end_year": 2026},
    )
    assert response.status_code == 302
    response = client.post(
        "/insights/plans/new/",
        {"create": "1", "region": "320508", "title": "越权", "start_year": 2024, "end_year": 2026},
    )
    assert response.status_code == 200 and "不在您的管辖范围内" in response.content.decode()
    response = client.post(
        "/insights/plans/new/",
        {"import": "1", "region": "330421", "table": JIASHAN_TABLE.read_text(encoding="utf-8")},
    )
    assert response.status_code == 302
    response = client.post(
        "/insights/plans/new/", {"import": "1", "region": "330421", "table": "垃圾\t数据"}
    )
    assert response.status_code == 200


SOURCE = {
    "source_body": "嘉善县统计局",
    "source_document": "嘉统〔2023〕5号",
    "source_date": "2023-02-10",
}


def test_report_form(world, client):
    client.force_login(world.user("gov_jiashan"))
    from chanrong.insights.models import IndicatorDefinition

    gdp = IndicatorDefinition.objects.get(code="gdp")
    ok = client.post(
        "/insights/report/",
        {
            "region": "330421",
            "definition": gdp.pk,
            "period_type": "year",
            "year": 2022,
            "number": 1,
            "value": "778",
            **SOURCE,
        },
    )
    assert ok.status_code == 302
    bad = client.post(
        "/insights/report/",
        {
            "region": "330421",
            "definition": gdp.pk,
            "period_type": "year",
            "year": 2022,
            "number": 1,
            "value": "778",
            "second_value": "9",
            **SOURCE,
        },
    )
    assert bad.status_code == 200 and "增速由系统" in bad.content.decode()
    assert client.get("/insights/report/").status_code == 200
    assert client.get("/insights/indicators/").status_code == 200
    assert client.get("/insights/plans/").status_code == 200
