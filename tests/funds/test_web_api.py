"""The fund pages and the API: a register → invest → matches → stats round
trip, refusals by field (never a 500), and who gets a 404 / 403."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from chanrong.demands.models import Demand, DemandKind, DemandState
from chanrong.funds.models import Fund, FundInvestment
from tests.conftest import JIASHAN, SUZHOU_GUSU

from .conftest import fund_data, invest

pytestmark = pytest.mark.django_db


def test_pages(client, world, fund):
    Demand.objects.create(
        enterprise=world.ent,
        kind=DemandKind.EQUITY,
        amount=Decimal("20000000"),
        term_months=60,
        purpose="A 轮股权融资",
        state=DemandState.PUBLISHED,
    )
    invest(world.user("fund_staff"), fund, world.ent, "10000000", on="2026-05-01")
    client.force_login(world.user("gov_jiashan"))
    page = client.get(reverse("funds:list")).content.decode()
    assert fund.name in page and "登记基金" in page
    detail = client.get(reverse("funds:detail", args=[fund.pk])).content.decode()
    assert 'data-testid="fund-demand-matches"' in detail and world.ent.name in detail
    refused = client.post(
        reverse("funds:investment_new", args=[fund.pk]),
        {
            "enterprise_uscc": world.ent.uscc,
            "round": "a",
            "amount": "999999999",
            "invested_on": "2025-01-01",
        },
    )
    assert refused.status_code == 422 and "超出基金可投资金额" in refused.content.decode()
    made = FundInvestment.objects.get()
    exit_url = reverse("funds:investment_exit", args=[made.pk])
    client.post(exit_url, {"exited_on": "2020-01-01"})  # before the investment: refused
    assert FundInvestment.objects.get().exited_on is None
    assert (
        client.post(exit_url, {"exited_on": "2026-05-02", "exit_amount": "12000000"}).status_code
        == 302
    )
    assert FundInvestment.objects.get().exit_amount == Decimal("12000000.00")
    stats = client.get(reverse("funds:stats"), {"start": "bad"})
    assert stats.status_code == 200 and 'data-chart="eq-year-chart"' in stats.content.decode()
    demand = Demand.objects.get()
    shown = client.get(reverse("demands:detail", args=[demand.pk])).content.decode()
    assert 'data-testid="demand-fund-matches"' in shown and fund.name in shown
    # A bank neither keeps the fund nor sees the statistics.
    client.force_login(world.user("bank_staff"))
    assert client.get(reverse("funds:stats")).status_code == 404
    detail = client.get(reverse("funds:detail", args=[fund.pk])).content.decode()
    assert "fund-demand-matches" not in detail and "investment-form" not in detail


def test_api_round_trip_and_refusals(client, world, fund_co):
    client.force_login(world.user("fund_staff"))
    body = fund_data(fund_co, target_size="1000000000.00", paid_in_size="50000000")
    made = client.post("/api/v1/funds", body, content_type="application/json")
    assert made.status_code == 201, made.content
    fund_id = made.json()["id"]
    assert made.json()["paid_in_size"] == "50000000.00"
    bad = client.post(
        "/api/v1/funds",
        {**body, "name": "另一基金", "manager": world.bank.pk},
        content_type="application/json",
    )
    assert bad.status_code == 422 and [e["field"] for e in bad.json()["errors"]] == ["manager"]
    url = f"/api/v1/funds/{fund_id}/investments"
    ok = {
        "enterprise_uscc": world.ent.uscc,
        "round": "b",
        "amount": "30000000",
        "invested_on": "2025-02-01",
    }
    assert client.post(url, ok, content_type="application/json").status_code == 201
    over = client.post(url, {**ok, "amount": "20000000.01"}, content_type="application/json")
    assert over.status_code == 422 and over.json()["errors"][0]["field"] == "amount"
    early = client.post(url, {**ok, "invested_on": "2019-01-01"}, content_type="application/json")
    assert early.status_code == 422 and early.json()["errors"][0]["field"] == "invested_on"
    assert client.get(url).json()["count"] == 1
    assert client.get(f"/api/v1/funds/{fund_id}/matches").status_code == 200
    stats = client.get("/api/v1/stats/equity", {"start": "2025-01-01", "end": "2025-12-31"})
    assert stats.json()["amount"] == "30000000.00"
    assert stats.json()["by_round"][0]["key"] == "b"
    assert (
        client.get("/api/v1/stats/equity", {"start": "2025-12-31", "end": "2025-01-01"}).status_code
        == 422
    )
    # Others: the directory yes; matches and writes no; an enterprise sees only its own investments.
    client.force_login(world.user("bank_staff"))
    assert client.get(f"/api/v1/funds/{fund_id}").status_code == 200
    assert client.get(f"/api/v1/funds/{fund_id}/matches").status_code == 403
    assert client.post(url, ok, content_type="application/json").status_code == 403
    assert client.get(url).json()["count"] == 0
    assert client.get("/api/v1/stats/equity").status_code == 403
    client.force_login(world.user("ent2_user"))
    assert client.get(url).json()["count"] == 0
    assert client.get("/api/v1/funds/999999").status_code == 404
    assert (
        FundInvestment.objects.count() == 1 and Fund.objects.filter(region_id=JIASHAN).count() == 1
    )


def test_register_page_picks_the_region(client, world, fund_co):
    """注册地 is a region picker: a good pick saves, a region outside a
    government user's subtree (or a name typed without picking) is refused
    on the field and writes nothing."""
    client.force_login(world.user("gov_jiashan"))
    url = reverse("funds:new")
    page = client.get(url).content.decode()
    assert 'data-picker="regions"' in page and 'name="region"' in page
    form = {**fund_data(fund_co), "focus_industries": "C34, C39"}
    for region, message in [
        (SUZHOU_GUSU, "不在您的管辖范围内"),
        ("嘉善", "请从列表中选择地区"),
    ]:
        refused = client.post(url, {**form, "region": region})
        assert refused.status_code == 200
        assert message in str(refused.context["form"].errors["region"])
    assert not Fund.objects.exists()
    # The chip's hidden input plus the emptied search box, as the widget sends it.
    made = client.post(url, {**form, "region": [JIASHAN, ""]})
    assert made.status_code == 302, made.context and made.context["form"].errors
    fund = Fund.objects.get()
    assert fund.region_id == JIASHAN and made.url == reverse("funds:detail", args=[fund.pk])
