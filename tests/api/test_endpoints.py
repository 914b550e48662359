"""What the endpoints answer: reference data, enterprise CRUD, institutions,
pagination and the two ways of signing in."""

from __future__ import annotations

import pytest
from django.middleware.csrf import get_token
from django.test import RequestFactory

from chanrong.accounts.services import revoke_token
from chanrong.core.audit import verify
from chanrong.core.codes import make_uscc
from chanrong.core.models import AuditEntry
from chanrong.registry.models import Enterprise

from .conftest import assert_error_shape

pytestmark = pytest.mark.django_db


# --- regions and industries --------------------------------------------------


def test_region_detail(world, as_user):
    response = as_user("ent_user").get("/regions/330421")
    assert response.status_code == 200
    assert response.json() == {
        "code": "330421",
        "name": "嘉善县",
        "level": "county",
        "parent_code": "330400",
        "prefix": "330421",
        "is_separate_plan_city": False,
        "is_corps": False,
        "children_count": 0,
    }
    zhejiang = as_user("bank2_staff").get("/regions/330000").json()
    assert zhejiang["parent_code"] is None
    assert zhejiang["prefix"] == "33"
    assert zhejiang["children_count"] == 11
    assert as_user("ent_user").get("/regions/330200").json()["is_separate_plan_city"] is True
    assert as_user("ent_user").get("/regions/660000").json()["is_corps"] is True


def test_region_list_filters(world, as_token):
    client = as_token("ent_user")
    body = client.get("/regions", {"parent": "330400"}).json()
    assert body["count"] == 7
    assert {r["parent_code"] for r in body["results"]} == {"330400"}
    assert "330421" in {r["code"] for r in body["results"]}
    provinces = client.get("/regions", {"level": "province", "page_size": 200}).json()
    assert provinces["count"] == 32
    assert [r["code"] for r in provinces["results"]] == sorted(
        r["code"] for r in provinces["results"]
    )
    assert [r["code"] for r in client.get("/regions", {"q": "嘉善"}).json()["results"]] == [
        "330421"
    ]
    body = client.get("/regions", {"q": "嘉", "level": "prefecture"}).json()
    assert {r["name"] for r in body["results"]} == {"嘉兴市", "嘉峪关市"}
    assert_error_shape(client.get("/regions", {"parent": "990000"}), 422)
    assert_error_shape(client.get("/regions", {"level": "district"}), 422)


def test_industries(world, as_token):
    client = as_token("bank_staff")
    c39 = client.get("/industries/C39").json()
    assert c39["name"] == "计算机、通信和其他电子设备制造业"
    assert c39["level"] == "division"
    assert c39["parent_code"] == "C"
    assert client.get("/industries/c39").json()["code"] == "C39"
    section = client.get("/industries/C").json()
    assert section["parent_code"] is None
    assert section["children_count"] == 31
    body = client.get("/industries", {"parent": "C", "page_size": 100}).json()
    assert body["count"] == 31
    assert body["results"][0]["code"] == "C13"
    sections = client.get("/industries", {"level": "section"}).json()
    assert sections["count"] == 20
    assert client.get("/industries", {"q": "软件"}).json()["count"] >= 1
    assert_error_shape(client.get("/industries", {"parent": "Q99"}), 422)


# --- pagination ------------------------------------------------------------------


def test_pagination_shape_and_defaults(world, as_token):
    client = as_token("ent_user")
    body = client.get("/regions").json()
    assert set(body) == {"count", "page", "page_size", "results"}
    assert body["page"] == 1
    assert body["page_size"] == 50
    assert len(body["results"]) == 50
    assert body["count"] > 3000

    page2 = client.get("/regions", {"page": 2, "page_size": 200}).json()
    page1 = client.get("/regions", {"page": 1, "page_size": 200}).json()
    assert page2["page"] == 2 and page2["page_size"] == 200
    assert len(page2["results"]) == 200
    assert not {r["code"] for r in page1["results"]} & {r["code"] for r in page2["results"]}
    assert page1["results"][-1]["code"] < page2["results"][0]["code"]

    last = client.get("/regions", {"page": 1_000_000}).json()
    assert last["results"] == [] and last["count"] == body["count"]


# --- enterprises -------------------------------------------------------------------


NEW_USCC = make_uscc("91330421MA2C00007")


def test_enterprise_lifecycle_by_token(world, as_token):
    client = as_token("gov_jiashan")
    response = client.post(
        "/enterprises",
        {
            "uscc": NEW_USCC.lower(),
            "name": "  嘉善新创  电子有限公司 ",
            "region_code": "330421",
            "industry_code": "c39",
            "employees": 30,
            "revenue_wan": 800.5,
            "assets_wan": 1200,
        },
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["uscc"] == NEW_USCC
    assert created["name"] == "嘉善新创 电子有限公司"
    assert created["region_code"] == "330421"
    assert created["region_name"] == "嘉善县"
    assert created["industry_code"] == "C39"
    assert created["revenue_wan"] == 800.5
    assert created["assets_wan"] == 1200
    assert created["size"] == "small"
    assert created["created_at"].endswith("+08:00")
    enterprise = Enterprise.objects.get(pk=created["id"])
    assert str(enterprise.revenue) == "8005000.00"

    assert client.get(f"/enterprises/{enterprise.pk}").json() == created

    response = client.patch(
        f"/enterprises/{enterprise.pk}", {"employees": 5, "revenue_wan": 50, "assets_wan": None}
    )
    assert response.status_code == 200, response.content
    patched = response.json()
    assert patched["employees"] == 5
    assert patched["revenue_wan"] == 50
    assert patched["assets_wan"] is None
    assert patched["name"] == created["name"]  # untouched fields stay
    assert patched["size"] == "micro"

    response = client.delete(f"/enterprises/{enterprise.pk}")
    assert response.status_code == 204
    assert response.content == b""
    assert not Enterprise.objects.filter(pk=enterprise.pk).exists()
    assert_error_shape(client.get(f"/enterprises/{enterprise.pk}"), 404)

    actions = list(
        AuditEntry.objects.filter(
            object_id=str(enterprise.pk), action__startswith="enterprise."
        ).values_list("action", flat=True)
    )
    assert sorted(actions) == ["enterprise.create", "enterprise.delete", "enterprise.update"]
    assert verify().ok


def test_enterprise_user_edits_own_profile(world, as_token):
    client = as_token("ent_user")
    response = client.patch(f"/enterprises/{world.ent.pk}", {"employees": 130})
    assert response.status_code == 200
    body = assert_error_shape(
        client.patch(f"/enterprises/{world.ent.pk}", {"uscc": world.ent_js.uscc}), 422
    )
    assert [e["field"] for e in body["errors"]] == ["uscc"]
    assert_error_shape(client.delete(f"/enterprises/{world.ent.pk}"), 403, "forbidden")


def test_enterprise_filters(world, as_token):
    client = as_token("gov_national")

    def names(**params):
        return {r["name"] for r in client.get("/enterprises", params).json()["results"]}

    assert names(region="330000") == {world.ent.name, world.ent2.name}
    assert names(region="330400") == {world.ent.name, world.ent2.name}
    assert names(region="320000") == {world.ent_js.name}
    assert names(region="110000") == set()
    assert names(industry="C39") == {world.ent_js.name}
    assert names(industry="C") == {world.ent.name, world.ent2.name, world.ent_js.name}
    assert names(q="精工") == {world.ent.name}
    assert names(q=world.ent2.uscc.lower()) == {world.ent2.name}
    assert names(size=world.ent.size) >= {world.ent.name}
    assert names(size="large") == set()
    # Filters narrow the visible set; they never widen it.
    restricted = as_token("gov_jiangsu").get("/enterprises", {"region": "330421"}).json()
    assert restricted["count"] == 0


def test_list_is_ordered_and_paginated(world, as_token):
    client = as_token("admin")
    page1 = client.get("/enterprises", {"page_size": 2}).json()
    page2 = client.get("/enterprises", {"page_size": 2, "page": 2}).json()
    assert page1["count"] == page2["count"] == 3
    names = [r["name"] for r in page1["results"] + page2["results"]]
    assert len(names) == 3
    assert names == [e.name for e in Enterprise.objects.order_by("name", "pk")]


# --- institutions ----------------------------------------------------------------


def test_institutions(world, as_user):
    client = as_user("ent_user")
    body = client.get("/institutions").json()
    assert {r["name"] for r in body["results"]} == {world.bank.name, world.bank2.name}
    in_jiashan = client.get("/institutions", {"region": "330421"}).json()
    assert [r["id"] for r in in_jiashan["results"]] == [world.bank.pk]
    assert client.get("/institutions", {"q": "工商"}).json()["count"] == 1
    assert client.get("/institutions", {"kind": "insurer"}).json()["count"] == 0
    detail = client.get(f"/institutions/{world.bank.pk}").json()
    assert detail["short_name"] == "嘉善农商行"
    assert [b["name"] for b in detail["branches"]] == ["嘉善农商行营业部"]
    assert detail["branches"][0]["region_code"] == "330421"
    assert client.post("/institutions", {}).status_code == 405


# --- authentication ------------------------------------------------------------


def test_session_writes_need_csrf(world, as_session):
    client = as_session("gov_jiashan", enforce_csrf=True)
    assert client.get(f"/enterprises/{world.ent.pk}").status_code == 200
    url = f"/enterprises/{world.ent.pk}"
    assert_error_shape(client.patch(url, {"employees": 1}), 403, "csrf_failed")
    assert_error_shape(client.delete(url), 403, "csrf_failed")

    # With the CSRF cookie and the X-CSRFToken header, as the docs page and htmx send them.
    request = RequestFactory().get("/")
    token = get_token(request)
    client.client.cookies["csrftoken"] = request.META["CSRF_COOKIE"]
    response = client.patch(url, {"employees": 1}, headers={"X-CSRFToken": token})
    assert response.status_code == 200, response.content


def test_bearer_writes_need_no_csrf(world, as_token):
    response = as_token("gov_jiashan").patch(f"/enterprises/{world.ent.pk}", {"employees": 2})
    assert response.status_code == 200


def test_anonymous_unsafe_request_is_401_not_csrf(world, client):
    response = client.post("/api/v1/enterprises", {}, content_type="application/json")
    assert_error_shape(response, 401, "unauthenticated")


def test_revoked_token_and_inactive_user_are_401(world, tokens, client):
    from chanrong.accounts.models import ApiToken

    headers = {"Authorization": f"Bearer {tokens['bank_staff']}"}
    assert client.get("/api/v1/enterprises", headers=headers).status_code == 200
    token = ApiToken.objects.get(user=world.user("bank_staff"))
    revoke_token(None, token)
    assert_error_shape(client.get("/api/v1/enterprises", headers=headers), 401)

    headers = {"Authorization": f"Bearer {tokens['ent_user']}"}
    user = world.user("ent_user")
    user.is_active = False
    user.save()
    assert_error_shape(client.get("/api/v1/enterprises", headers=headers), 401)


def test_token_acts_as_its_user_whatever_the_session(world, tokens, as_session):
    """A session as admin plus a token of ent2_user: the token decides."""
    client = as_session("admin")
    body = client.get(
        "/enterprises", headers={"Authorization": f"Bearer {tokens['ent2_user']}"}
    ).json()
    assert [r["name"] for r in body["results"]] == [world.ent2.name]
