"""碳效信贷 pricing: a product adjusts its rate by the enterprise's 碳效等级
(`Product.carbon_rate_adjustments`, percentage points, −3.00…+3.00). Bad
tables are field errors with nothing written (service, form, API); the
product page shows the table and, to an enterprise with a grade, its own
range line by line; matching ranks by the adjusted rate and says why."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from chanrong.core.errors import ValidationFailed
from chanrong.demands.models import Demand
from chanrong.finance import carbon
from chanrong.finance import services as products
from chanrong.finance.models import Product
from chanrong.green.models import CarbonGrade
from chanrong.matching import services as matching
from chanrong.matching.reasons import redact_holdings

pytestmark = pytest.mark.django_db

TABLE = {"1": "-0.30", "2": "-0.15", "5": "0.20"}


def product_data(**overrides) -> dict:
    data = {
        "name": "绿色信贷",
        "kind": "green",
        "amount_min_wan": 10,
        "amount_max_wan": 500,
        "term_min_months": 3,
        "term_max_months": 36,
        "rate_type": "fixed",
        "rate_min": "3.85",
        "rate_max": "4.35",
        "exclude_blacklisted": False,
        "carbon_rate_adjustments": TABLE,
    }
    data.update(overrides)
    return data


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def grade(enterprise, value: int) -> None:
    CarbonGrade.objects.create(
        enterprise=enterprise, year=2025, grade=value, intensity="0.2", basis="province",
        division="C34",
    )  # fmt: skip


def test_bad_tables_are_field_errors_and_nothing_is_written(world):
    bad = {"1": "-3.01", "2": "0.155", "3": "abc", "6": "0.1", "x": "0.1", "4": True}
    with pytest.raises(ValidationFailed) as caught:
        products.create_product(world.user("bank_staff"), product_data(carbon_rate_adjustments=bad))
    fields = {e.field: e.message for e in caught.value.errors}
    assert fields == {
        "carbon_rate_adjustments.1": "利率调整应在 -3.00 至 +3.00 个百分点之间",
        "carbon_rate_adjustments.2": "最多两位小数",
        "carbon_rate_adjustments.3": "应为数字（百分点），如 -0.15",
        "carbon_rate_adjustments.6": "碳效等级应为 1–5 级（1 级最优），不存在：6",
        "carbon_rate_adjustments.x": "碳效等级应为 1–5 级（1 级最优），不存在：x",
        "carbon_rate_adjustments.4": "应为数字（百分点），如 -0.15",
    }
    # the form: every error beside its input, nothing saved
    page = login(world.user("bank_staff")).post(
        reverse("finance:product_create"),
        {**{k: v for k, v in product_data().items() if k != "carbon_rate_adjustments"},
         "carbon_rate_adjustment_1": "-3.5", "carbon_rate_adjustment_2": "0.123",
         "carbon_rate_adjustment_5": "3.00"},
    )  # fmt: skip
    assert page.status_code == 200
    form = page.context["form"]
    assert form.errors["carbon_rate_adjustment_1"] == ["利率调整应在 -3.00 至 +3.00 个百分点之间"]
    assert form.errors["carbon_rate_adjustment_2"] == ["最多两位小数"]
    assert "carbon_rate_adjustment_5" not in form.errors
    # the API: 422 with field errors
    response = login(world.user("bank_staff")).post(
        "/api/v1/products",
        product_data(carbon_rate_adjustments={"0": "-0.1", "3": "9"}),
        content_type="application/json",
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {
        "carbon_rate_adjustments.0",
        "carbon_rate_adjustments.3",
    }
    assert not Product.objects.exists()


def test_api_round_trip_and_patch(world):
    api = login(world.user("bank_staff"))
    created = api.post(
        "/api/v1/products",
        product_data(carbon_rate_adjustments={"2": "-0.15", "1": -0.3, "3": "0", "4": ""}),
        content_type="application/json",
    )
    assert created.status_code in (200, 201), created.content
    body = created.json()
    # canonical: grades in order, two decimals, zero and empty entries dropped
    assert body["carbon_rate_adjustments"] == {"1": "-0.30", "2": "-0.15"}
    pid = body["id"]
    got = api.get(f"/api/v1/products/{pid}").json()
    assert got["carbon_rate_adjustments"] == {"1": "-0.30", "2": "-0.15"}
    patched = api.patch(
        f"/api/v1/products/{pid}",
        {"carbon_rate_adjustments": {"5": "0.2"}},
        content_type="application/json",
    )
    assert patched.json()["carbon_rate_adjustments"] == {"5": "0.20"}
    refused = api.patch(
        f"/api/v1/products/{pid}",
        {"carbon_rate_adjustments": {"5": "3.001"}},
        content_type="application/json",
    )
    assert refused.status_code == 422
    assert Product.objects.get(pk=pid).carbon_rate_adjustments == {"5": "0.20"}


def test_product_page_shows_the_range_an_enterprise_gets_by_its_grade(world):
    product = products.create_product(world.user("bank_staff"), product_data())
    products.publish_product(world.user("bank_staff"), product)
    grade(world.ent, 2)
    url = reverse("finance:product_detail", args=[product.pk])
    graded = login(world.user("ent_user")).get(url).content.decode()
    assert (
        "碳效等级利率调整" in graded and "-0.15 个百分点" in graded and "+0.20 个百分点" in graded
    )
    assert "产品利率 3.85%–4.35% ，碳效 2 级 下调 0.15 个百分点 → 3.70%–4.20%" in graded
    ungraded = login(world.user("ent2_user")).get(url).content.decode()
    assert "碳效等级利率调整" in ungraded and "→" not in ungraded
    assert "本企业尚无碳效等级，按产品利率执行。" in ungraded
    # an institution sees the table, never an enterprise's line
    bank = login(world.user("bank2_staff")).get(url).content.decode()
    assert "-0.30 个百分点" in bank and "→" not in bank
    # the rule: never below 0, two decimals half up
    assert carbon.adjusted_rate(Decimal("0.2"), Decimal("-0.30")) == Decimal("0.00")
    assert carbon.adjusted_rate(Decimal("3.4525"), Decimal("-0.15")) == Decimal("3.30")


def test_matching_ranks_by_the_adjusted_rate_and_says_why(world):
    bank = world.user("bank_staff")
    for name, table in (("绿色信贷", TABLE), ("普通绿色贷", {})):
        products.publish_product(
            bank,
            products.create_product(bank, product_data(name=name, carbon_rate_adjustments=table)),
        )
    grade(world.ent, 1)
    demand = Demand(enterprise=world.ent, kind="debt", amount=Decimal(2_000_000), term_months=12)
    found = matching.match_demand(demand)
    by_name = {Product.objects.get(pk=m.product_id).name: m for m in found.ranked}
    priced, plain = by_name["绿色信贷"], by_name["普通绿色贷"]
    assert "碳效 1 级，利率下调 0.30 个百分点" in priced.reasons
    assert not any("碳效" in r for r in plain.reasons)
    # the lower adjusted rate ranks it first (the two products are otherwise equal)
    assert priced.score > plain.score
    assert found.ranked[0].product_id == priced.product_id
    # institutions without authorisation never read the grade
    assert "碳效 1 级，利率下调 0.30 个百分点" not in redact_holdings(priced.reasons)
