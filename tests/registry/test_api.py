"""The registry's API routers (mounted on a throwaway API here): profile,
grades, qualifications, operating data, projects and lists, with the error
shape, the visibility rule (404) and the rights (403)."""

from __future__ import annotations

import pytest

from chanrong.registry import services
from chanrong.registry.models import ListVersion, Qualification

from .conftest import fields, publish

pytestmark = pytest.mark.django_db


def test_profile_over_the_api(world, today, api_as):
    ent = api_as("ent_user")
    url = f"/enterprises/{world.ent.pk}/profile"
    response = ent.patch(
        url, {"founded_on": "2009-06-18", "registered_capital_wan": 500, "is_above_scale": True}
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["founded_on"] == "2009-06-18" and body["registered_capital_wan"] == 500
    assert body["is_above_scale"] is True and body["can_edit"] is True
    response = ent.patch(url, {"founded_on": "2099-01-01", "contact_email": "x", "uscc": "x"})
    assert response.status_code == 422
    assert fields(response) == {"uscc": "不允许的字段"}  # refused at the edge first
    response = ent.patch(url, {"founded_on": "2099-01-01", "contact_email": "x"})
    assert fields(response) == {
        "founded_on": "成立日期不能晚于今天",
        "contact_email": "电子邮箱格式不正确",
    }
    assert api_as("bank_staff").get(url).status_code == 200
    assert api_as("bank_staff").patch(url, {"address": "x"}).status_code == 403
    assert api_as("bank2_staff").get(url).status_code == 404
    assert api_as("ent2_user").patch(url, {"address": "x"}).status_code == 404


def test_tax_grades_and_qualifications_over_the_api(world, today, api_as):
    gov, ent = api_as("gov_jiashan"), api_as("ent_user")
    base = f"/enterprises/{world.ent.pk}"
    assert gov.put(f"{base}/tax-grades/2024", {"grade": "A"}).status_code == 200
    assert gov.put(f"{base}/tax-grades/2025", {"grade": "B"}).status_code == 200
    assert [g["year"] for g in ent.get(f"{base}/tax-grades").json()] == [2025, 2024]
    assert ent.put(f"{base}/tax-grades/2025", {"grade": "A"}).status_code == 403
    response = gov.put(f"{base}/tax-grades/2016", {"grade": "M"})
    assert fields(response) == {"grade": "M 级自 2018 年度评价起适用"}
    created = ent.post(
        f"{base}/qualifications",
        {"kind": "high_tech", "issuer": "浙江省科学技术厅", "valid_from": "2023-01-01", "valid_until": "2025-12-31"},
    )  # fmt: skip
    assert created.status_code == 201 and created.json()["active"] is False
    current = ent.post(
        f"{base}/qualifications",
        {"kind": "listed", "board": "star", "issuer": "上海证券交易所", "valid_from": "2024-06-01"},
    )
    assert current.json()["kind_label"] == "上市/挂牌" and current.json()["active"] is True
    assert [q["kind"] for q in ent.get(f"{base}/qualifications", {"active": "true"}).json()] == [
        "listed"
    ]
    assert [q["kind"] for q in ent.get(f"{base}/qualifications", {"active": "false"}).json()] == [
        "high_tech"
    ]
    assert (
        len(ent.get(f"{base}/qualifications", {"active": "true", "on": "2025-01-01"}).json()) == 2
    )
    qid = created.json()["id"]
    assert ent.patch(f"{base}/qualifications/{qid}", {"valid_until": None}).json()["active"] is True
    revoked = gov.post(
        f"{base}/qualifications/{qid}/revoke", {"effective": "2026-03-01", "reason": "复核不合格"}
    )
    assert revoked.status_code == 200 and revoked.json()["valid_until"] == "2026-02-28"
    assert (
        ent.post(
            f"{base}/qualifications", {"kind": "listed", "issuer": "x", "valid_from": "2024-06-01"}
        ).status_code
        == 422
    )
    assert Qualification.objects.count() == 2


def test_operating_data_over_the_api(world, today, api_as):
    ent, gov = api_as("ent_user"), api_as("gov_jiashan")
    base = f"/enterprises/{world.ent.pk}/operating-data"
    assert ent.put(f"{base}/2025-03", {"revenue_wan": 100, "employees": 120}).status_code == 200
    response = ent.put(f"{base}/2026-03", {"revenue_wan": 1000})
    body = response.json()
    assert body["review_status"] == "flagged" and body["flags"][0]["field"] == "revenue"
    assert body["actions"] == []
    assert ent.put(f"{base}/2026-13", {"revenue_wan": 1}).status_code == 422
    assert fields(ent.put(f"{base}/2026-03", {"revenue_wan": "1000"})) == {
        "revenue_wan": "应为数字"
    }
    queue = gov.get("/operating-data", {"status": "flagged"}).json()
    assert [r["period"] for r in queue["results"]] == ["2026-03"]
    assert queue["results"][0]["actions"] == ["confirm", "correct"]
    assert api_as("gov_jiangsu").get("/operating-data", {"status": "flagged"}).json()["count"] == 0
    rid = body["id"]
    assert ent.post(f"{base}/{rid}/confirm", {"note": "ok"}).status_code == 403
    confirmed = gov.post(f"{base}/{rid}/confirm", {"note": "已电话核实"})
    assert confirmed.status_code == 200 and confirmed.json()["review_status"] == "confirmed"
    assert gov.post(f"{base}/{rid}/confirm", {"note": "again"}).status_code == 409
    corrected = gov.post(f"{base}/{rid}/correct", {"note": "企业多填一个 0", "revenue_wan": 100})
    assert corrected.json()["review_status"] == "ok" and corrected.json()["revenue_wan"] == 100
    listing = ent.get(base, {"period_type": "month"}).json()
    assert [r["period"] for r in listing["results"]] == ["2025-03", "2026-03"]
    assert api_as("bank2_staff").get(base).status_code == 404


def test_projects_over_the_api(world, today, api_as):
    ent = api_as("ent_user")
    response = ent.post(
        "/projects",
        {"name": "精密减速机技改项目", "kind": "tech_upgrade", "total_investment_wan": 12000, "financing_need_wan": 5000, "stage": "construction"},
    )  # fmt: skip
    assert response.status_code == 201
    project = response.json()
    assert project["owner_id"] == world.ent.pk and project["region_code"] == "330421"
    response = ent.post(
        "/projects",
        {
            "name": "x项目",
            "kind": "new",
            "total_investment_wan": 1,
            "financing_need_wan": 5,
            "stage": "planning",
        },
    )
    assert fields(response) == {"financing_need_wan": "融资需求不能超过总投资"}
    assert (
        ent.patch(f"/projects/{project['id']}", {"stage": "completed"}).json()["stage"]
        == "completed"
    )
    gov = api_as("gov_jiashan")
    assert gov.get("/projects", {"q": "减速机"}).json()["count"] == 1
    assert gov.get("/projects", {"kind": "new"}).json()["count"] == 0
    assert gov.get("/projects", {"region": "330400"}).json()["count"] == 1
    assert api_as("bank2_staff").get(f"/projects/{project['id']}").status_code == 404
    assert (
        api_as("bank_staff").patch(f"/projects/{project['id']}", {"stage": "planning"}).status_code
        == 403
    )
    assert (
        api_as("bank_staff")
        .post(
            "/projects",
            {"name": "银行项目", "kind": "new", "total_investment_wan": 1, "stage": "planning"},
        )
        .status_code
        == 403
    )


def test_list_workflow_over_the_api(world, today, api_as):
    staff, admin = api_as("gov_jiashan_staff"), api_as("gov_jiashan")
    created = staff.post("/lists", {"list_type": "key_enterprises", "name": "嘉善县重点企业白名单"})
    assert created.status_code == 201
    lid = created.json()["id"]
    assert created.json()["can_draft"] and not created.json()["can_approve"]
    assert staff.post(f"/lists/{lid}/versions", {"note": "首次"}).status_code == 201
    assert staff.post(f"/lists/{lid}/versions", {}).status_code == 409
    added = staff.post(
        f"/lists/{lid}/versions/1/entries", {"uscc": world.ent.uscc.lower(), "reason": "亩均 A 类"}
    )
    assert added.status_code == 201 and added.json()["change"] == "added"
    staff.post(
        f"/lists/{lid}/versions/1/entries",
        {"enterprise_id": world.ent2.pk, "reason": "省级专精特新"},
    )
    both = staff.post(
        f"/lists/{lid}/versions/1/entries",
        {"enterprise_id": world.ent2.pk, "uscc": world.ent.uscc, "reason": "x"},
    )
    assert both.status_code == 422
    outside = staff.post(
        f"/lists/{lid}/versions/1/entries", {"uscc": world.ent_js.uscc, "reason": "x"}
    )
    assert fields(outside) == {"uscc": "企业不存在或不在您的管辖范围内"}
    assert staff.post(f"/lists/{lid}/versions/1/submit").json()["actions"] == ["withdraw"]
    assert staff.post(f"/lists/{lid}/versions/1/publish", {}).status_code == 403
    rejected = admin.post(f"/lists/{lid}/versions/1/reject", {"note": "请补充理由"})
    assert rejected.json()["status"] == "rejected"
    assert staff.post(f"/lists/{lid}/versions/1/reopen").json()["status"] == "draft"
    staff.post(f"/lists/{lid}/versions/1/submit")
    early = admin.post(f"/lists/{lid}/versions/1/publish", {"effective_from": "2026-01-01"})
    assert early.status_code == 422
    published = admin.post(f"/lists/{lid}/versions/1/publish", {"note": "同意"})
    assert published.json()["status"] == "published" and published.json()["in_force"] is True
    blocked = staff.post(
        f"/lists/{lid}/versions/1/entries", {"uscc": world.ent.uscc, "reason": "x"}
    )
    assert blocked.status_code == 409 and blocked.json()["code"] == "version_published"
    # The next version removes ent2 with a reason; compare says so.
    staff.post(f"/lists/{lid}/versions", {})
    entries = staff.get(f"/lists/{lid}/versions/2/entries").json()["results"]
    ent2_entry = next(e for e in entries if e["enterprise_id"] == world.ent2.pk)
    removed = staff.post(
        f"/lists/{lid}/versions/2/entries/{ent2_entry['id']}/remove", {"reason": "迁出本县"}
    )
    assert removed.status_code == 204
    assert (
        staff.get(f"/lists/{lid}/versions/2/entries", {"include_removed": "true"}).json()["count"]
        == 2
    )
    staff.post(f"/lists/{lid}/versions/2/submit")
    today.set(today.value.replace(day=20))
    admin.post(f"/lists/{lid}/versions/2/publish", {})
    diff = staff.get(f"/lists/{lid}/compare", {"a": 1, "b": 2}).json()
    assert diff["added"] == [] and diff["kept"] == 1
    assert [(e["enterprise_id"], e["reason"]) for e in diff["removed"]] == [
        (world.ent2.pk, "迁出本县")
    ]
    versions = staff.get(f"/lists/{lid}/versions").json()
    assert [(v["number"], v["effective_until"]) for v in versions] == [(2, None), (1, "2026-03-19")]
    # Banks in the region see the published versions; others get 404.
    bank = api_as("bank_staff")
    assert bank.get(f"/lists/{lid}/versions/2/entries").json()["count"] == 1
    assert api_as("bank2_staff").get(f"/lists/{lid}").status_code == 404
    assert bank.post(f"/lists/{lid}/versions", {}).status_code == 403
    export = bank.get(f"/lists/{lid}/versions/2/export")
    assert export.status_code == 200
    assert (
        export["Content-Type"]
        == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert export.content[:2] == b"PK"
    # An enterprise sees only its own row, and its lists now and before.
    assert api_as("ent_user").get(f"/lists/{lid}/versions/2/entries").json()["count"] == 1
    memberships = api_as("ent2_user").get(f"/enterprises/{world.ent2.pk}/lists").json()
    assert memberships["current"] == []
    assert [(p["list_id"], p["effective_until"]) for p in memberships["past"]] == [
        (lid, "2026-03-19")
    ]
    assert (
        api_as("ent2_user").get(f"/lists/{lid}/versions/2").status_code == 200
    )  # names it (removed)
    assert ListVersion.objects.filter(list_id=lid).count() == 2


def test_enterprise_list_filters(world, today, api_as, jiashan_list):
    gov = world.user("gov_jiashan")
    services.set_tax_grade(gov, world.ent, 2024, "A")
    services.set_tax_grade(gov, world.ent2, 2024, "B")
    services.add_qualification(
        gov, world.ent2, {"kind": "high_tech", "issuer": "科技厅", "valid_from": "2024-01-01"}
    )
    services.add_qualification(
        gov,
        world.ent,
        {
            "kind": "high_tech",
            "issuer": "科技厅",
            "valid_from": "2020-01-01",
            "valid_until": "2022-12-31",
        },
    )
    publish(world, jiashan_list, [world.ent])
    api = api_as("gov_jiashan")

    def names(**params):
        response = api.get("/enterprises", params)
        assert response.status_code == 200, response.json()
        return [e["name"] for e in response.json()["results"]]

    assert names(qualification="high_tech") == [world.ent2.name]  # ent's has expired
    assert names(list_id=jiashan_list.pk) == [world.ent.name]
    assert names(list_type="key_enterprises", tax_grade="A") == [world.ent.name]
    assert names(list_type="black") == []
    assert names(tax_grade="B") == [world.ent2.name]
    assert fields(api.get("/enterprises", {"list_id": 99999})) == {"list_id": "名单 99999 不存在"}
    assert api.get("/enterprises", {"qualification": "nonsense"}).status_code == 422


def test_openapi_schema_builds(world, api_as, settings):
    settings.ROOT_URLCONF = "tests.registry.urls"
    from tests.registry.urls import api

    schema = api.get_openapi_schema()
    paths = schema["paths"]
    for path in (
        "/testapi/lists/{id}/versions/{number}/publish",
        "/testapi/enterprises/{id}/profile",
        "/testapi/enterprises/{id}/operating-data/{period}",
        "/testapi/projects",
        "/testapi/operating-data",
    ):
        assert path in paths
