"""The pages: catalogue with eligibility, product forms, demand forms, detail
with timeline, the institution's workbench; wrong users get 403/404."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from chanrong.demands import services
from chanrong.demands.models import Demand, DemandState, DispatchState
from chanrong.finance.models import Product, ProductState

from .conftest import dispatch_of, publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(world):
    def make(username: str) -> Client:
        client = Client()
        client.force_login(world.user(username))
        return client

    return make


def test_catalogue_shows_each_products_eligibility_for_an_enterprise(world, login):
    publish(world.user("bank_staff"), name="纳税A级贷", kind="tax", min_tax_grade="A")
    publish(world.user("bank2_staff"), name="江苏专享贷", regions=["320000"])
    publish(world.user("bank2_staff"), name="小额快贷", amount_max_wan=100)
    page = login("ent_user").get(reverse("finance:product_list"), {"amount_wan": 300})
    assert page.status_code == 200
    html = page.content.decode()
    assert "需补充：纳税信用等级" in html
    assert "仅限江苏省的企业，企业所在地为嘉善县" in html
    assert "额度上限 100 万元，需求 300 万元" in html
    only = login("ent_user").get(
        reverse("finance:product_list"), {"eligible_only": "on", "amount_wan": 300}
    )
    assert "纳税A级贷" in only.content.decode()
    assert "江苏专享贷" not in only.content.decode()


def test_institution_creates_and_publishes_a_product_through_the_pages(world, login):
    client = login("bank_staff")
    assert client.get(reverse("finance:product_create")).status_code == 200
    bad = client.post(
        reverse("finance:product_create"),
        {"name": "区间错误贷", "kind": "credit", "amount_min_wan": "500", "amount_max_wan": "100",
         "term_min_months": "12", "term_max_months": "0", "rate_type": "fixed",
         "rate_min": "3", "rate_max": "40"},
    )  # fmt: skip
    assert bad.status_code == 200
    html = bad.content.decode()
    assert "最低额度不能高于最高额度" in html and "年利率应在 0%–36% 之间" in html
    assert "期限应大于 0 个月" in html
    assert not Product.objects.exists()
    ok = client.post(
        reverse("finance:product_create"),
        {"name": "善企贷", "kind": "pledge", "pledge_kind": "ip", "amount_min_wan": "10",
         "amount_max_wan": "300", "term_min_months": "6", "term_max_months": "36",
         "rate_type": "lpr", "lpr_tenor": "1y", "spread_min": "-0.2", "spread_max": "1.5",
         "regions": "330400", "sizes": ["small", "micro"], "exclude_blacklisted": "on"},
    )  # fmt: skip
    product = Product.objects.get()
    assert ok.status_code == 302 and product.collateral_options == ["ip"]
    client.post(reverse("finance:product_action", args=[product.pk, "publish"]))
    product.refresh_from_db()
    assert product.state == ProductState.PUBLISHED
    detail = login("ent_user").get(reverse("finance:product_detail", args=[product.pk]))
    assert "本企业是否符合条件" in detail.content.decode()
    # another institution cannot edit it; a draft of another institution is a 404
    assert (
        login("bank2_staff").get(reverse("finance:product_edit", args=[product.pk])).status_code
        == 403
    )
    draft = services_draft = Product.objects.create(
        institution=world.bank, name="草稿", kind="credit", amount_min=1, amount_max=2,
        term_min_months=1, term_max_months=2,
    )  # fmt: skip
    assert services_draft == draft
    assert (
        login("bank2_staff").get(reverse("finance:product_detail", args=[draft.pk])).status_code
        == 404
    )


def test_review_required_deployment(world, login, settings):
    settings.CHANRONG_PRODUCT_REVIEW = True
    from chanrong.finance import services as products

    product = products.create_product(world.user("bank_staff"), {
        "name": "待审贷", "kind": "credit", "amount_min_wan": 1, "amount_max_wan": 10,
        "term_min_months": 1, "term_max_months": 12, "rate_type": "fixed", "rate_min": 4, "rate_max": 5,
    })  # fmt: skip
    login("bank_staff").post(reverse("finance:product_action", args=[product.pk, "publish"]))
    product.refresh_from_db()
    assert product.state == ProductState.PENDING_REVIEW
    # an enterprise does not see it yet
    assert (
        login("ent_user").get(reverse("finance:product_detail", args=[product.pk])).status_code
        == 404
    )
    # a government outside the area may not review it
    assert (
        login("gov_jiangsu")
        .post(reverse("finance:product_action", args=[product.pk, "approve"]))
        .status_code
        == 403
    )
    login("gov_jiashan").post(
        reverse("finance:product_action", args=[product.pk, "reject"]), {"note": ""}
    )
    product.refresh_from_db()
    assert product.state == ProductState.PENDING_REVIEW  # a rejection needs a note
    login("gov_jiashan").post(reverse("finance:product_action", args=[product.pk, "approve"]))
    product.refresh_from_db()
    assert product.state == ProductState.PUBLISHED


def test_enterprise_creates_publishes_and_follows_a_demand(world, bank_products, login):
    client = login("ent_user")
    assert client.get(reverse("demands:create")).status_code == 200
    bad = client.post(
        reverse("demands:create"),
        {"kind": "debt", "amount_wan": "abc", "term_months": "0", "purpose": "x"},
    )
    assert bad.status_code == 200 and "无法识别的金额" in bad.content.decode()
    # 意向金融机构 is an institution picker: an unknown id or a typed name is
    # refused beside the control and nothing is saved.
    good = {"kind": "debt", "amount_wan": "200万", "term_months": "12", "purpose": "购置设备"}
    for value, message in (("999999", "不在您的管辖范围内"), ("某银行", "请从列表中选择")):
        refused = client.post(
            reverse("demands:create"), good | {"preferred_institution_ids": value}
        )
        page = refused.content.decode()
        assert refused.status_code == 200 and message in page
        assert 'id="id_preferred_institution_ids_error"' in page
    assert not Demand.objects.exists()
    response = client.post(
        reverse("demands:create"),
        {"kind": "debt", "amount_wan": "200万", "term_months": "12", "purpose": "购置设备",
         "urgency": "urgent", "collateral_offered": ["equipment"],
         "preferred_institution_ids": [str(world.bank2.pk)]},
    )  # fmt: skip
    demand = Demand.objects.get()
    assert response.status_code == 302 and demand.state == DemandState.DRAFT
    assert list(demand.preferred_institutions.all()) == [world.bank2]
    edit = client.get(reverse("demands:edit", args=[demand.pk])).content.decode()
    assert 'data-picker="institutions"' in edit and world.bank2.name in edit
    client.post(reverse("demands:action", args=[demand.pk, "publish"]))
    demand.refresh_from_db()
    assert demand.state == DemandState.DISPATCHED
    html = client.get(reverse("demands:detail", args=[demand.pk])).content.decode()
    assert "已派单给 2 家金融机构" in html and "嘉善农商行" in html
    # the bank claims and offers through its workbench
    bank = login("bank_staff")
    bench = bank.get(reverse("demands:workbench")).content.decode()
    assert "购置设备" in bench
    dispatch = dispatch_of(demand, world.bank)
    bank.post(reverse("demands:dispatch_claim", args=[dispatch.pk]))
    bank.post(
        reverse("demands:dispatch_form", args=[dispatch.pk, "offer"]),
        {"amount_wan": "200", "rate": "4.3", "term_months": "12", "terms": "设备抵押"},
    )
    dispatch.refresh_from_db()
    assert dispatch.state == DispatchState.OFFERED
    # bank2 sees neither the offer nor the other bank
    other = login("bank2_staff").get(reverse("demands:detail", args=[demand.pk])).content.decode()
    assert "设备抵押" not in other and "嘉善农商行" not in other
    # the enterprise accepts; the bank reports the disbursement
    offer = demand.offers.get()
    client.post(reverse("demands:accept_offer", args=[demand.pk, offer.pk]))
    bank.post(reverse("demands:dispatch_form", args=[dispatch.pk, "result"]),
              {"outcome": "disbursed", "amount_wan": "200", "rate": "4.3", "term_months": "12",
               "disbursed_on": timezone.localdate().isoformat()})  # fmt: skip
    demand.refresh_from_db()
    assert demand.state == DemandState.DISBURSED
    html = client.get(reverse("demands:detail", args=[demand.pk])).content.decode()
    assert "已放款" in html and 'data-testid="feedback-form"' in html
    client.post(
        reverse("demands:feedback", args=[demand.pk]),
        {"institution_id": world.bank.pk, "score": "4", "comment": "服务周到"},
    )
    page = login("ent2_user").get(reverse("finance:institution_detail", args=[world.bank.pk]))
    assert "服务周到" in page.content.decode()


def test_wrong_users(world, bank_products, login, make_demand):
    demand = make_demand()
    assert login("ent2_user").get(reverse("demands:detail", args=[demand.pk])).status_code == 404
    assert login("gov_jiangsu").get(reverse("demands:detail", args=[demand.pk])).status_code == 404
    assert login("gov_jiashan").get(reverse("demands:detail", args=[demand.pk])).status_code == 200
    assert (
        login("ent2_user").post(reverse("demands:action", args=[demand.pk, "withdraw"])).status_code
        == 404
    )
    assert (
        login("bank_staff")
        .post(reverse("demands:action", args=[demand.pk, "withdraw"]))
        .status_code
        == 403
    )
    assert login("bank_staff").get(reverse("demands:create")).status_code == 403
    assert login("ent_user").get(reverse("demands:workbench")).status_code == 404
    dispatch = dispatch_of(demand, world.bank)
    assert (
        login("bank2_staff").post(reverse("demands:dispatch_claim", args=[dispatch.pk])).status_code
        == 404
    )
    # a refused transition says why and changes nothing
    client = login("ent_user")
    response = client.post(reverse("demands:action", args=[demand.pk, "publish"]), follow=True)
    assert "不能执行" in response.content.decode()
    demand.refresh_from_db()
    assert demand.state == DemandState.DISPATCHED
    services.withdraw_demand(world.user("ent_user"), demand)
    assert login("gov_jiashan").get(reverse("demands:list")).status_code == 200


def test_ratings_show_on_the_institution_list(world, bank_products, login, make_demand):
    demand = make_demand()
    services.withdraw_demand(world.user("ent_user"), demand)
    services.leave_feedback(world.user("ent_user"), demand, world.bank.pk, 4, "")
    html = login("ent2_user").get(reverse("finance:list")).content.decode()
    assert 'data-rating="4.0"' in html and "暂无评价" in html
