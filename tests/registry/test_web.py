"""The registry's pages for each role: the enterprise page's new sections,
the forms (profile, qualification, tax grade, operating data, project,
list workflow), the review queue, comparison and export."""

from __future__ import annotations

from datetime import date

import pytest

from chanrong.registry import services
from chanrong.registry.models import (
    EnterpriseList,
    ListVersion,
    OperatingRecord,
    Project,
    Qualification,
    VersionStatus,
)

from .conftest import publish

pytestmark = pytest.mark.django_db
ROLES = ("admin", "gov_national", "gov_jiashan", "gov_jiashan_staff", "bank_staff", "ent_user")


@pytest.fixture
def registry_world(world, today, jiashan_list):
    gov = world.user("gov_jiashan")
    services.set_tax_grade(gov, world.ent, 2024, "A")
    services.add_qualification(
        gov,
        world.ent,
        {"kind": "high_tech", "issuer": "浙江省科学技术厅", "valid_from": "2024-01-01"},
    )
    services.add_qualification(
        gov,
        world.ent,
        {"kind": "tech_sme", "issuer": "浙江省科学技术厅", "valid_from": "2025-03-01", "valid_until": "2025-12-31"},
    )  # fmt: skip
    publish(world, jiashan_list, [world.ent, world.ent2], reason="亩均效益 A 类")
    services.record_operating_data(
        gov, world.ent, "2025-02", {"revenue_wan": 100, "output_value_wan": 120}
    )
    services.record_operating_data(
        gov, world.ent, "2026-02", {"revenue_wan": 900, "output_value_wan": 130}
    )
    project = services.create_project(
        gov,
        {"owner_id": world.ent.pk, "name": "精密减速机技改项目", "kind": "tech_upgrade", "total_investment_wan": 1000, "stage": "planning"},
    )  # fmt: skip
    return project


def test_enterprise_page_shows_the_registry_sections(world, registry_world, web_as):
    page = web_as("ent_user").get(f"/enterprises/{world.ent.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    for text in ("企业档案", "纳税信用等级", "高新技术企业", "已失效", "有效", "嘉善县重点企业白名单", "亩均效益 A 类", "精密减速机技改项目"):  # fmt: skip
        assert text in html, text
    assert 'data-chart="operating-chart"' in html and 'id="operating-chart"' in html
    assert "vendor/echarts/echarts.min.js" in html
    assert 'data-action="edit-profile"' in html and 'data-action="add-qualification"' in html
    bank = web_as("bank_staff").get(f"/enterprises/{world.ent.pk}/").content.decode()
    assert "嘉善县重点企业白名单" in bank and 'data-action="edit-profile"' not in bank
    assert web_as("bank2_staff").get(f"/enterprises/{world.ent.pk}/").status_code == 404


def test_past_lists_show_on_the_enterprise_page(world, registry_world, jiashan_list, web_as, today):
    today.set(date(2026, 4, 1))
    publish(world, jiashan_list, [], removed=[world.ent2])
    html = web_as("gov_jiashan").get(f"/enterprises/{world.ent2.pk}/").content.decode()
    assert "目前不在任何名单中" in html and "曾在以下名单中" in html
    assert "2026-03-15 — 2026-03-31" in html


@pytest.mark.parametrize("username", ROLES)
def test_every_page_renders_for_every_role(world, registry_world, jiashan_list, web_as, username):
    client = web_as(username)
    record = OperatingRecord.objects.get(period_start=date(2026, 2, 1))
    pages = [
        f"/enterprises/{world.ent.pk}/",
        f"/enterprises/{world.ent.pk}/operating/",
        f"/enterprises/{world.ent.pk}/operating/?type=quarter",
        f"/enterprises/{world.ent.pk}/tax-grades/",
        "/enterprises/?qualification=high_tech&list=t:key_enterprises&tax_grade=A",
        "/lists/",
        f"/lists/{jiashan_list.pk}/",
        f"/lists/{jiashan_list.pk}/versions/1/",
        f"/lists/{jiashan_list.pk}/compare/",
        "/projects/",
        f"/projects/{registry_world.pk}/",
    ]
    for url in pages:
        assert client.get(url).status_code == 200, url
    editor = username != "bank_staff"
    assert client.get(f"/enterprises/{world.ent.pk}/profile/").status_code == (
        200 if editor else 403
    )
    assert client.get(f"/enterprises/{world.ent.pk}/qualifications/new/").status_code == (
        200 if editor else 403
    )
    reviewer = username.startswith("gov") or username == "admin"
    assert client.get(f"/enterprises/{world.ent.pk}/operating/{record.pk}/review/").status_code == (
        200 if reviewer else 403
    )
    assert client.get("/enterprises/operating-review/").status_code == (200 if reviewer else 404)
    assert client.get("/lists/new/").status_code == (200 if reviewer else 403)
    assert client.get("/projects/new/").status_code == (403 if username == "bank_staff" else 200)


def test_profile_and_qualification_forms(world, registry_world, web_as):
    client = web_as("ent_user")
    url = f"/enterprises/{world.ent.pk}/profile/"
    bad = client.post(url, {"founded_on": "2099-01-01", "registered_capital_wan": "五百万"})
    assert bad.status_code == 200
    assert "成立日期不能晚于今天" in bad.content.decode()
    good = client.post(
        url,
        {"founded_on": "2009-06-18", "registered_capital_wan": "500万元", "is_above_scale": "true"},
    )
    assert good.status_code == 302
    world.ent.refresh_from_db()
    assert world.ent.founded_on == date(2009, 6, 18) and world.ent.is_above_scale is True
    response = client.post(
        f"/enterprises/{world.ent.pk}/qualifications/new/",
        {"kind": "listed", "issuer": "全国股转公司", "valid_from": "2024-05-01"},
    )
    assert "上市/挂牌须注明板块" in response.content.decode()
    response = client.post(
        f"/enterprises/{world.ent.pk}/qualifications/new/",
        {"kind": "listed", "board": "neeq", "issuer": "全国股转公司", "valid_from": "2024-05-01"},
    )
    assert response.status_code == 302
    q = Qualification.objects.get(kind="listed")
    response = client.post(
        f"/enterprises/{world.ent.pk}/qualifications/{q.pk}/revoke/",
        {"effective": "2026-03-01", "reason": "终止挂牌"},
    )
    assert response.status_code == 302
    q.refresh_from_db()
    assert q.valid_until == date(2026, 2, 28)


def test_tax_grade_page(world, registry_world, web_as):
    url = f"/enterprises/{world.ent.pk}/tax-grades/"
    assert 'data-testid="tax-grade-form"' not in web_as("ent_user").get(url).content.decode()
    assert web_as("ent_user").post(url, {"year": "2025", "grade": "A"}).status_code == 403
    response = web_as("gov_jiashan").post(url, {"year": "2025", "grade": "C"})
    assert response.status_code == 302
    world.ent.refresh_from_db()
    assert world.ent.tax_grade == "C"


def test_operating_entry_flags_and_review(world, registry_world, web_as):
    client = web_as("ent_user")
    url = f"/enterprises/{world.ent.pk}/operating/"
    response = client.post(url, {"period": "2026-01", "revenue_wan": "-5"}, follow=True)
    assert "有异常，已标记待核实" in response.content.decode()
    assert client.post(url, {"period": "2026-13", "revenue_wan": "1"}).status_code == 200
    queue = web_as("gov_jiashan").get("/enterprises/operating-review/").content.decode()
    assert "营业收入为负数" in queue and "2026年2月" in queue  # the YoY jump too
    record = OperatingRecord.objects.get(period_start=date(2026, 1, 1))
    review = f"/enterprises/{world.ent.pk}/operating/{record.pk}/review/"
    gov = web_as("gov_jiashan")
    assert gov.post(review, {"note": "", "confirm": "1"}).status_code == 200  # note required
    response = gov.post(review, {"note": "企业误填负号", "correct": "1", "revenue_wan": "5"})
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.review_status == "ok"
    jump = OperatingRecord.objects.get(period_start=date(2026, 2, 1))
    response = gov.post(
        f"/enterprises/{world.ent.pk}/operating/{jump.pk}/review/",
        {"note": "已核实：新增订单", "confirm": "1"},
    )
    assert response.status_code == 302
    jump.refresh_from_db()
    assert jump.review_status == "confirmed"


def test_projects_pages(world, registry_world, web_as):
    client = web_as("ent_user")
    response = client.post(
        "/projects/new/",
        {"name": "研发中心建设项目", "kind": "research", "total_investment_wan": "2000", "financing_need_wan": "3000", "stage": "planning"},
    )  # fmt: skip
    assert "融资需求不能超过总投资" in response.content.decode()
    response = client.post(
        "/projects/new/",
        {
            "name": "研发中心建设项目",
            "kind": "research",
            "total_investment_wan": "2000",
            "stage": "planning",
        },
    )
    assert response.status_code == 302
    project = Project.objects.get(name="研发中心建设项目")
    assert project.owner == world.ent and project.region_id == "330421"
    listing = web_as("gov_jiashan").get("/projects/", {"q": "研发"}).content.decode()
    assert "研发中心建设项目" in listing and "精密减速机技改项目" not in listing
    response = client.post(
        f"/projects/{project.pk}/edit/",
        {
            "name": "研发中心建设项目",
            "kind": "research",
            "total_investment_wan": "2500",
            "stage": "construction",
        },
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.stage == "construction"


def test_list_workflow_in_the_browser(world, today, web_as):
    staff, admin = web_as("gov_jiashan_staff"), web_as("gov_jiashan")
    response = staff.post(
        "/lists/new/", {"list_type": "red", "name": "嘉善县守信红名单", "sector": ""}
    )
    assert response.status_code == 302
    lst = EnterpriseList.objects.get(name="嘉善县守信红名单")
    assert staff.post(f"/lists/{lst.pk}/versions/new/").status_code == 302
    version_url = f"/lists/{lst.pk}/versions/1/"
    response = staff.post(version_url + "entries/", {"subject": world.ent_js.uscc, "reason": "x"})
    assert "企业不存在或不在您的管辖范围内" in response.content.decode()
    reason = "<script>alert(1)</script>按期还款"
    assert (
        staff.post(
            version_url + "entries/", {"subject": world.ent.uscc, "reason": reason}
        ).status_code
        == 302
    )
    html = staff.get(version_url).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;按期还款" in html and reason not in html
    assert staff.post(version_url + "submit/").status_code == 302
    assert staff.post(version_url + "publish/", {}).status_code == 403
    page = admin.get(version_url).content.decode()
    assert 'data-action="publish"' in page and 'data-action="reject"' in page
    response = admin.post(version_url + "publish/", {"effective_from": "2026-01-01"})
    assert response.status_code == 422 and "不溯及既往" in response.content.decode()
    assert (
        admin.post(
            version_url + "publish/", {"effective_from": "2026-03-20", "note": "同意"}
        ).status_code
        == 302
    )
    version = ListVersion.objects.get(list=lst, number=1)
    assert version.status == VersionStatus.PUBLISHED and version.effective_from == date(2026, 3, 20)
    # Published: no more changes, from any button.
    staff.post(version_url + "entries/", {"subject": world.ent2.uscc, "reason": "x"})
    assert version.entries.count() == 1
    bank = web_as("bank_staff")
    assert "嘉善县守信红名单" in bank.get("/lists/").content.decode()
    export = bank.get(version_url + "export/")
    assert export.status_code == 200 and export.content[:2] == b"PK"
    assert web_as("bank2_staff").get(version_url).status_code == 404
    # The enterprise sees the list it is on, with its own row only.
    ent_page = web_as("ent_user").get(version_url).content.decode()
    assert world.ent.name in ent_page
    assert web_as("ent2_user").get(version_url).status_code == 404


def test_compare_page(world, registry_world, jiashan_list, web_as, today):
    today.set(date(2026, 4, 1))
    publish(world, jiashan_list, [], removed=[world.ent2])
    html = (
        web_as("gov_jiashan")
        .get(f"/lists/{jiashan_list.pk}/compare/", {"a": 1, "b": 2})
        .content.decode()
    )
    assert "新增 0，移出 1，保留 1" in html and "不再符合条件" in html
    mine = (
        web_as("ent_user")
        .get(f"/lists/{jiashan_list.pk}/compare/", {"a": 1, "b": 2})
        .content.decode()
    )
    assert world.ent2.name not in mine  # an enterprise compares only its own rows


def test_enterprise_list_filters(world, registry_world, jiashan_list, web_as):
    client = web_as("gov_jiashan")

    def names(params):
        return [e.name for e in client.get("/enterprises/", params).context["page_obj"].object_list]

    assert names({"qualification": "high_tech"}) == [world.ent.name]
    assert names({"qualification": "tech_sme"}) == []  # expired on 2025-12-31
    assert sorted(names({"list": str(jiashan_list.pk)})) == sorted(
        [world.ent.name, world.ent2.name]
    )
    assert names({"list": "t:black"}) == []
    assert names({"tax_grade": "A"}) == [world.ent.name]
    assert names({"list": "99999"}) == []  # not a choice: no results, no error page
