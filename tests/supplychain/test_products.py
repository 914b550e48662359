"""Products that require a supply-chain holding or a chain, on real rows:
the facts the supplychain app supplies to finance's eligibility (through the
provider registry, finance never importing supplychain), the reasons in
plain Chinese, and matching ranking a receivable-backed product for the
supplier that holds a confirmed, unfinanced receivable."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chanrong.core.errors import ValidationFailed
from chanrong.demands import services as demands
from chanrong.finance import services as finance
from chanrong.finance import supply
from chanrong.finance.eligibility import Holdings
from chanrong.matching import access, adapter
from chanrong.matching import services as matching
from chanrong.supplychain import services
from chanrong.supplychain.eligibility import PROVIDER
from tests.demands.conftest import publish
from tests.matching.surface_fixtures import demand_data

from .conftest import TODAY, confirmed, issued
from .conftest import finance as finance_receivable

pytestmark = pytest.mark.django_db

NO_RECEIVABLE = "需持有已确权且未融资的应收账款，企业当前没有"


@pytest.fixture(autouse=True)
def _fresh_cache():
    adapter.clear_cache()
    yield
    adapter.clear_cache()


def _verdict(product, enterprise):
    return finance.evaluate_products([product], enterprise, today=TODAY)[product.pk]


def test_product_requiring_a_receivable_follows_what_the_supplier_holds(sc, world):
    bank = world.user("bank_staff")
    product = publish(bank, name="应收账款e融", required_holdings=["receivable"])
    plain = publish(bank, name="善企信用贷")
    # Nothing confirmed yet: a clear reason, not a silent miss.
    result = _verdict(product, world.ent)
    assert result.status == "ineligible"
    assert result.messages == [NO_RECEIVABLE]
    assert _verdict(plain, world.ent).possible  # products without the condition: as before

    receivable = confirmed(sc, amount="1200000.00")
    facts = finance.enterprise_facts(world.ent, today=TODAY)
    assert facts.holdings == Holdings(receivable=Decimal("1200000.00"))
    assert _verdict(product, world.ent).eligible

    # Fully financed: nothing left to finance, ineligible again.
    finance_receivable(sc, receivable, amount="900000.00")
    assert finance.enterprise_facts(world.ent, today=TODAY).holdings == Holdings()
    assert _verdict(product, world.ent).messages == [NO_RECEIVABLE]


def test_voucher_or_gov_contract_any_one_suffices_and_the_holder_counts(sc, world):
    bank = world.user("bank_staff")
    product = publish(bank, name="凭证融资", required_holdings=["voucher", "gov_procurement"])
    assert _verdict(product, world.ent).messages == [
        "需持有以下任一：持有中的数字债权凭证、已确权且未融资的政府采购合同，企业当前均没有"
    ]
    voucher = issued(sc, amount="500000.00")
    assert finance.enterprise_facts(world.ent, today=TODAY).holdings == Holdings(
        voucher=Decimal("500000.00")
    )  # the payable backs the voucher, so no receivable is left to finance
    assert _verdict(product, world.ent).eligible
    # Transferred down the chain: the new holder holds it, the old one no longer.
    services.transfer_voucher(world.user("ent_user"), voucher, world.ent2, today=TODAY)
    assert _verdict(product, world.ent).status == "ineligible"
    assert _verdict(product, world.ent2).eligible


def test_chain_condition_and_unknown_without_a_provider(sc, world):
    chain = services.create_chain(
        world.user("gov_jiashan"),
        {"name": "新能源汽车", "lead": sc.core.pk},
    )
    bank = world.user("bank_staff")
    product = publish(bank, name="链上贷", required_chain=chain.pk)
    assert finance.product_conditions(product).chain.name == "新能源汽车"
    assert _verdict(product, world.ent).messages == ["仅限「新能源汽车」产业链的链主和成员企业"]
    assert _verdict(product, sc.core).eligible  # the 链主 is on its chain
    services.add_member(
        world.user("gov_jiashan"),
        chain,
        {"enterprise": world.ent.pk, "role": "supplier", "tier": 1},
    )
    assert _verdict(product, world.ent).eligible

    with pytest.raises(ValidationFailed) as caught:
        publish(bank, name="链上贷二", required_chain=chain.pk + 1000)
    assert {e.field for e in caught.value.errors} == {"required_chain"}

    receivable_product = publish(bank, name="应收账款e融", required_holdings=["receivable"])
    supply.set_supply_provider(None)
    try:
        assert _verdict(receivable_product, world.ent).messages == [
            "需补充：供应链资产（已确权且未融资的应收账款）"
        ]
        assert _verdict(product, world.ent).messages == ["需补充：产业链成员信息"]
    finally:
        supply.set_supply_provider(PROVIDER)


def test_matching_ranks_the_receivable_product_for_a_supplier_holding_one(sc, world):
    bank = world.user("bank_staff")
    backed = publish(bank, name="应收账款e融", required_holdings=["receivable"])
    plain = publish(bank, name="善企经营快贷", amount_max_wan=1000)
    demand = demands.create_demand(world.user("ent_user"), demand_data())
    demand = demands.publish_demand(world.user("ent_user"), demand)

    before = matching.match_demand(demand, today=TODAY)
    assert [m.product_id for m in before.ranked] == [plain.pk]
    why_not = {m.product_id: m for m in before.not_eligible}
    assert why_not[backed.pk].failed == [NO_RECEIVABLE]

    confirmed(sc, amount="1200000.00")
    adapter.clear_cache()
    after = matching.match_demand(demand, today=TODAY)
    assert [m.product_id for m in after.ranked] == [backed.pk, plain.pk]
    top = after.ranked[0]
    assert "持有已确权应收账款 120 万元" in top.reasons
    assert top.score > after.ranked[1].score
    # The bank's view of the same demand names no amount the supplier holds.
    view = access.demand_matches(bank, demand.pk, today=TODAY)
    assert [row.product_id for row in view.ranked] == [backed.pk, plain.pk]
    assert "持有产品所需的供应链资产" in view.ranked[0].reasons
    assert not any("120 万元" in r for row in view.ranked for r in row.reasons)
