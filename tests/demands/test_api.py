"""The /products, /demands and /dispatches routers (mounted on a throwaway
API here): field errors, 403/409 with the reason and nothing changed,
visibility, and the whole flow as a bank's own system would drive it."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from chanrong.core.models import AuditEntry
from chanrong.demands.models import DemandState

from .conftest import API, dispatch_of, product_data

pytestmark = pytest.mark.django_db


def fields(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def test_product_with_contradictory_ranges_is_rejected_with_field_messages(world, api_as):
    api = api_as("bank_staff")
    response = api.post(
        "/products",
        product_data(amount_min_wan=500, amount_max_wan=100, term_min_months=0, rate_min=40),
    )
    assert response.status_code == 422
    errors = fields(response)
    assert errors["amount_min_wan"] == "最低额度不能高于最高额度"
    assert errors["term_min_months"] == "期限应大于 0 个月"
    assert errors["rate_min"] == "年利率应在 0%–36% 之间"
    response = api.post(
        "/products",
        product_data(rate_type="lpr", rate_min=None, rate_max=None, spread_min=-6, spread_max=25),
    )
    assert set(fields(response)) == {"spread_min", "spread_max"}
    response = api.post("/products", product_data(amount_min_wan=0, kind="pledge"))
    assert set(fields(response)) == {"amount_min_wan", "pledge_kind"}
    assert api.post("/products", product_data(regions=["999999"])).status_code == 422


def test_product_lifecycle_and_eligibility_over_the_api(world, api_as):
    bank = api_as("bank_staff")
    created = bank.post("/products", product_data(min_tax_grade="A", sizes=["large"]))
    assert created.status_code == 201
    product = created.json()
    assert product["state"] == "draft" and "publish" in product["actions"]
    assert api_as("ent_user").get(f"/products/{product['id']}").status_code == 404  # a draft
    # a partial update that would contradict the stored range is refused
    response = bank.patch(f"/products/{product['id']}", {"amount_min_wan": 900})
    assert response.status_code == 422 and "amount_min_wan" in fields(response)
    assert bank.post(f"/products/{product['id']}/publish").json()["state"] == "published"
    assert bank.post(f"/products/{product['id']}/approve", {}).status_code == 409  # not pending
    listing = api_as("ent_user").get("/products", {"amount_wan": 800}).json()
    item = listing["results"][0]
    assert item["eligibility"]["status"] == "ineligible"
    messages = [f["message"] for f in item["eligibility"]["failed"]]
    assert "额度上限 500 万元，需求 800 万元" in messages
    assert "仅限大型企业，当前为小型企业" in messages
    assert [f["message"] for f in item["eligibility"]["missing"]] == ["需补充：纳税信用等级"]
    assert api_as("ent_user").get("/products", {"eligible_only": True}).json()["count"] == 0
    assert api_as("bank2_staff").get("/products").json()["results"][0]["eligibility"] is None
    # a second publish is a 409 with the reason, and writes nothing
    before = AuditEntry.objects.count()
    response = bank.post(f"/products/{product['id']}/publish")
    assert response.status_code == 409 and "已发布" in response.json()["message"]
    assert AuditEntry.objects.count() == before


def test_demand_flow_over_the_api(world, bank_products, api_as):
    ent, bank, bank2 = api_as("ent_user"), api_as("bank_staff"), api_as("bank2_staff")
    bad = ent.post(
        "/demands", {"kind": "debt", "amount_wan": -1, "term_months": 0, "purpose": "扩产"}
    )
    assert bad.status_code == 422 and set(fields(bad)) == {"amount_wan", "term_months"}
    created = ent.post(
        "/demands", {"kind": "debt", "amount_wan": 200, "term_months": 12, "purpose": "扩产"}
    )
    assert created.status_code == 201
    demand_id = created.json()["id"]
    assert bank.post(f"/demands/{demand_id}/publish").status_code == 404  # not dispatched to it
    published = ent.post(f"/demands/{demand_id}/publish").json()
    assert published["state"] == "dispatched" and "withdraw" in published["actions"]
    mine = bank.get("/dispatches").json()
    assert mine["count"] == 1
    dispatch_id = mine["results"][0]["id"]
    assert mine["results"][0]["actions"] == ["claim", "decline"]
    other_id = bank2.get("/dispatches").json()["results"][0]["id"]
    # the wrong institution: 404 (not visible); the wrong state: 409
    assert bank2.post(f"/dispatches/{dispatch_id}/claim").status_code == 404
    response = bank.post(f"/dispatches/{dispatch_id}/offer", {"amount_wan": 200, "term_months": 12})
    assert response.status_code == 409 and response.json()["code"] == "invalid_transition"
    assert bank.post(f"/dispatches/{dispatch_id}/claim").json()["state"] == "claimed"
    bank2.post(f"/dispatches/{other_id}/claim")
    offer = bank.post(
        f"/dispatches/{dispatch_id}/offer", {"amount_wan": 200, "rate": 4.2, "term_months": 12}
    ).json()
    bank2.post(f"/dispatches/{other_id}/offer", {"amount_wan": 150, "rate": 3.9, "term_months": 12})
    # each institution sees only its own offer; the enterprise sees both
    assert [o["institution_id"] for o in bank.get(f"/demands/{demand_id}/offers").json()] == [
        world.bank.pk
    ]
    assert len(ent.get(f"/demands/{demand_id}/offers").json()) == 2
    assert len(bank.get(f"/demands/{demand_id}/dispatches").json()) == 1
    # only the enterprise accepts; then the bank reports
    assert bank.post(f"/demands/{demand_id}/offers/{offer['id']}/accept").status_code == 403
    accepted = ent.post(f"/demands/{demand_id}/offers/{offer['id']}/accept")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    second = ent.post(f"/demands/{demand_id}/offers/{offer['id']}/accept")
    assert second.status_code == 409
    view = bank2.get(f"/demands/{demand_id}").json()
    assert view["outcome_institution_id"] is None and view["accepted_offer_id"] is None
    result = bank.post(
        f"/dispatches/{dispatch_id}/result",
        {"outcome": "disbursed", "amount_wan": 200, "rate": 4.2, "term_months": 12,
         "disbursed_on": timezone.localdate().isoformat()},
    )  # fmt: skip
    assert result.status_code == 200 and result.json()["state"] == DemandState.DISBURSED
    assert bank2.get(f"/demands/{demand_id}").json()["disbursed_amount_wan"] is None
    assert ent.get(f"/demands/{demand_id}").json()["disbursed_amount_wan"] == 200
    events = [e["verb"] for e in ent.get(f"/demands/{demand_id}/events").json()]
    assert "demand.disburse" in events
    feedback = ent.post(
        f"/demands/{demand_id}/feedback", {"institution_id": world.bank.pk, "score": 5}
    )
    assert feedback.status_code == 201
    again = ent.post(
        f"/demands/{demand_id}/feedback", {"institution_id": world.bank.pk, "score": 5}
    )
    assert again.status_code == 409
    assert api_as("ent2_user").get(f"/demands/{demand_id}").status_code == 404
    assert api_as("gov_jiangsu").get(f"/demands/{demand_id}").status_code == 404
    assert api_as("gov_zhejiang").get(f"/demands/{demand_id}").status_code == 200


def test_result_validation_and_authorisation_over_the_api(
    world, bank_products, api_as, make_demand
):
    demand = make_demand()
    ent, bank = api_as("ent_user"), api_as("bank_staff")
    dispatch = dispatch_of(demand, world.bank)
    bank.post(f"/dispatches/{dispatch.pk}/claim")
    offer = bank.post(
        f"/dispatches/{dispatch.pk}/offer", {"amount_wan": 100, "term_months": 6}
    ).json()
    ent.post(f"/demands/{demand.pk}/offers/{offer['id']}/accept")
    response = bank.post(
        f"/dispatches/{dispatch.pk}/result",
        {"outcome": "disbursed", "amount_wan": 100, "rate": 50, "term_months": 0,
         "disbursed_on": "2999-01-01"},
    )  # fmt: skip
    assert response.status_code == 422
    assert set(fields(response)) == {"rate", "term_months", "disbursed_on"}
    assert (
        ent.post(
            f"/demands/{demand.pk}/authorisations", {"institution_id": world.bank2.pk}
        ).status_code
        == 204
    )
    assert api_as("bank2_staff").get(f"/demands/{demand.pk}").status_code == 200
    assert ent.delete(f"/demands/{demand.pk}/authorisations/{world.bank2.pk}").status_code == 204
    assert (
        bank.post(
            f"/demands/{demand.pk}/authorisations", {"institution_id": world.bank.pk}
        ).status_code
        == 403
    )
    withdrawn = ent.post(f"/demands/{demand.pk}/withdraw", {"reason": "不再需要"}).json()
    assert withdrawn["state"] == "withdrawn"


def test_demand_links_one_of_its_own_projects(world, api_as):
    from django.test import Client

    from chanrong.registry.models import Project

    own = Project.objects.create(
        owner=world.ent, name="年产 5 万套减速机技改项目", kind="tech_upgrade", stage="construction",
        total_investment=80_000_000, region_id=world.ent.region_id,
    )  # fmt: skip
    other = Project.objects.create(
        owner=world.ent2, name="新材料研发中心", kind="research", stage="preparation",
        total_investment=30_000_000, region_id=world.ent2.region_id,
    )  # fmt: skip
    ent = api_as("ent_user")
    base = {"kind": "debt", "amount_wan": 200, "term_months": 12, "purpose": "技改设备"}
    refused = ent.post("/demands", {**base, "project_id": other.pk})
    assert refused.status_code == 422 and set(fields(refused)) == {"project_id"}
    assert ent.post("/demands", {**base, "project_id": 0}).status_code == 422
    created = ent.post("/demands", {**base, "project_id": own.pk})
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["project_id"], body["project_name"]) == (own.pk, own.name)
    assert own.demands.count() == 1
    browser = Client()
    browser.force_login(world.user("ent_user"))
    page = browser.get(f"/demands/{body['id']}/").content.decode()
    assert own.name in page
    cleared = ent.patch(f"/demands/{body['id']}", {"project_id": None})
    assert cleared.status_code == 200 and cleared.json()["project_id"] is None
    audit = AuditEntry.objects.filter(action="demand.update").order_by("-pk").first()
    assert audit.changes["project_id"] == [own.pk, None]


def test_a_refused_transition_reads_in_the_callers_language(
    world, bank_products, make_demand, settings
):
    """The state and the action named in a 409 (the workflow table's label)
    follow Accept-Language; the code stays the same."""
    settings.ROOT_URLCONF = "tests.demands.urls"
    demand = make_demand()
    assert demand.state == DemandState.DISPATCHED
    expected = {
        "zh-hans": "当前状态为「已派单」，不能执行「发布」",
        "en": 'The state is "Dispatched"; you cannot publish now',
    }
    for language, message in expected.items():
        client = Client(headers={"Accept-Language": language})
        client.force_login(world.user("ent_user"))
        response = client.post(f"{API}/demands/{demand.pk}/publish")
        assert response.status_code == 409, response.content
        assert response.json()["code"] == "invalid_transition"
        assert response.json()["message"] == message
