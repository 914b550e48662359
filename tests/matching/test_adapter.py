"""The database adapter against real rows: facts as the registry states them,
live products with their institutions' service record, the per-process cache."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.utils import timezone

from chanrong.demands.models import Demand, DemandState, Dispatch, DispatchState
from chanrong.finance import services as finance
from chanrong.finance.models import Branch, BranchLevel
from chanrong.matching import adapter
from chanrong.matching.features import SIZES
from chanrong.registry.models import (
    EnterpriseList,
    EntryChange,
    ListEntry,
    ListSector,
    ListType,
    ListVersion,
    Qualification,
    VersionStatus,
)

from .surface_fixtures import publish


@pytest.fixture(autouse=True)
def _fresh_cache():
    adapter.clear_cache()
    yield
    adapter.clear_cache()


def _list(world, list_type, name, members, *, sector="", start_days=30, end_days=None):
    lst = EnterpriseList.objects.create(
        list_type=list_type, sector=sector, name=name, agency=world.gov_jiashan, region_id="330421"
    )
    version = ListVersion.objects.create(list=lst, number=1)
    for enterprise in members:
        ListEntry.objects.create(version=version, enterprise=enterprise, change=EntryChange.ADDED)
    today = timezone.localdate()
    ListVersion.objects.filter(pk=version.pk).update(
        status=VersionStatus.PUBLISHED,
        effective_from=today - timedelta(days=start_days),
        effective_until=None if end_days is None else today + timedelta(days=end_days),
        published_at=timezone.now(),
    )
    return lst


@pytest.fixture
def registry_facts(world):
    today = timezone.localdate()
    Qualification.objects.create(
        enterprise=world.ent,
        kind="high_tech",
        issuer="科技厅",
        valid_from=today - timedelta(days=9),
    )
    Qualification.objects.create(  # expired: must not count
        enterprise=world.ent,
        kind="tech_sme",
        issuer="科技厅",
        valid_from=today - timedelta(days=900),
        valid_until=today - timedelta(days=1),
    )
    Qualification.objects.create(
        enterprise=world.ent2, kind="green_factory", issuer="工信部", valid_from=today
    )
    _list(
        world,
        ListType.KEY_ENTERPRISES,
        "嘉善县制造业重点企业白名单",
        [world.ent],
        sector=ListSector.MANUFACTURING,
    )
    _list(world, ListType.BLACK, "失信黑名单", [world.ent2])
    _list(world, ListType.RED, "过期红名单", [world.ent2], start_days=60, end_days=-5)
    world.ent.tax_grade = "A"
    world.ent.founded_on = today - timedelta(days=3000)
    world.ent.save()
    return today


def test_bulk_facts_equal_the_per_enterprise_registry_facts(world, registry_facts):
    today = registry_facts
    pairs = [(e.pk, today) for e in (world.ent, world.ent2, world.ent_js)]
    bulk = adapter.enterprise_facts_bulk(pairs)
    one_by_one = [
        finance.enterprise_facts(e, today=today) for e in (world.ent, world.ent2, world.ent_js)
    ]
    assert bulk == one_by_one
    assert "manufacturing_white_list" in bulk[0].lists and bulk[0].tax_grade == "A"
    assert bulk[0].qualifications == frozenset({"high_tech"})
    assert bulk[1].blacklisted is True and "red_list" not in bulk[1].lists
    # As of an earlier day the expired qualification still counts.
    (earlier,) = adapter.enterprise_facts_bulk([(world.ent.pk, today - timedelta(days=100))])
    assert "tech_sme" in earlier.qualifications and "high_tech" not in earlier.qualifications


def test_product_table_holds_live_products_with_service_record(world):
    bank, bank2 = world.user("bank_staff"), world.user("bank2_staff")
    live = publish(bank, name="善企信用贷")
    draft = finance.create_product(bank, {**_data(), "name": "草稿产品"})
    other = publish(bank2, name="工行快贷")
    table = adapter.product_table()
    assert list(table.ids) == [live.pk, other.pk] and draft.pk not in table.ids
    assert list(table.institution_ids) == [world.bank.pk, world.bank2.pk]
    # The bank has a branch in 嘉善, the second bank only its Beijing head office.
    local = table.local(["330421"])[0]
    assert local.tolist() == [True, False]
    assert table.conditions[0].amount_max == Decimal("5000000.00")


def _data(**overrides):
    from .surface_fixtures import product_data

    return product_data(**overrides)


def _dispatch(demand, institution, state, *, claimed_late=False):
    now = timezone.now()
    return Dispatch.objects.create(
        demand=demand,
        institution=institution,
        state=state,
        dispatched_at=now - timedelta(days=20),
        claim_due_at=now - timedelta(days=18),
        claimed_at=now - timedelta(days=17 if claimed_late else 19),
    )


def test_service_record_counts_outcomes_by_size(world):
    size = SIZES[world.ent.size]
    demands = [
        Demand.objects.create(
            enterprise=world.ent,
            kind="debt",
            amount=Decimal(1000000),
            term_months=12,
            purpose="周转",
            state=DemandState.DISBURSED,
        )
        for _ in range(6)
    ]
    for d in demands[:4]:
        _dispatch(d, world.bank, DispatchState.DISBURSED)
    for d in demands[4:]:
        _dispatch(d, world.bank, DispatchState.DECLINED, claimed_late=True)
    for d in demands:
        _dispatch(d, world.bank2, DispatchState.REJECTED)
    record = adapter.service_record()
    bank, bank2 = record.approval_for(world.bank.pk), record.approval_for(world.bank2.pk)
    assert bank[size] > bank2[size]
    assert bank[len(SIZES)] > record.default_approval[0] > bank2[len(SIZES)]
    assert record.deadline_for(world.bank.pk) < record.deadline_for(world.bank2.pk)
    # Nothing before the first dispatch: every institution gets the prior.
    empty = adapter.service_record(before=timezone.now() - timedelta(days=30))
    assert np.allclose(empty.approval_for(world.bank.pk), 0.5)


def test_product_table_is_cached_until_a_product_changes(world):
    bank = world.user("bank_staff")
    product = publish(bank, name="善企信用贷")
    first = adapter.product_table()
    assert adapter.product_table() is first
    finance.withdraw_product(bank, product)
    second = adapter.product_table()
    assert second is not first and len(second) == 0
    Branch.objects.create(
        institution=world.bank, name="嘉兴分行", level=BranchLevel.MUNICIPAL, region_id="330400"
    )
    assert adapter.product_table() is not second


def test_demand_table_reads_demand_and_enterprise_facts(world, registry_facts):
    demand = Demand.objects.create(
        enterprise=world.ent,
        kind="debt",
        amount=Decimal("2000000"),
        term_months=12,
        purpose="周转",
        rate_max=Decimal("5.5"),
        collateral_offered=["real_estate"],
        state=DemandState.PUBLISHED,
    )
    facts = adapter.demand_table([demand.pk])
    enterprise, wanted = facts.facts[0]
    assert list(facts.ids) == [demand.pk] and list(facts.enterprise_ids) == [world.ent.pk]
    assert wanted.amount == Decimal("2000000.00") and wanted.collateral_offered == ("real_estate",)
    assert enterprise.tax_grade == "A" and facts.policy[0, 0] == 1.0  # white list
