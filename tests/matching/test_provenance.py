"""Matching and provenance (issue 15): what the enterprise only declared is
passed to the engine as arrays (quals_declared, revenue_verified); the engine
reports it like the pure function ("需核验"), ranks such pairs as not meeting
the requirement, and the batch agrees with the dense path."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chanrong.finance.eligibility import (
    QUALIFICATION_LABELS,
    EnterpriseFacts,
    ProductConditions,
    evaluate,
)
from chanrong.matching import adapter, batch, engine, services
from chanrong.matching.features import FactTable, ProductTable
from chanrong.matching.reasons import eligibility_messages
from chanrong.registry import services as registry
from tests.matching.surface_fixtures import demand_data, publish
from tests.matching.test_engine import TODAY, demands, enterprises, products, tables

QUALS = list(QUALIFICATION_LABELS)

declaring = st.builds(
    lambda e, declared, verified: EnterpriseFacts(
        **{
            **e.__dict__,
            "declared_qualifications": declared - (e.qualifications or frozenset()),
            "revenue_verified": verified,
        }
    ),
    enterprises,
    st.frozensets(st.sampled_from(QUALS), max_size=3),
    st.booleans(),
)


@settings(max_examples=120, deadline=None)
@given(
    st.lists(products, min_size=1, max_size=5),
    st.lists(st.tuples(declaring, demands), min_size=1, max_size=5),
)
def test_the_engine_reports_declared_facts_as_the_pure_function_does(conds, rows):
    ptable, ftable = tables(conds, rows)
    failed, unknown = engine.eligibility(ptable, ftable)
    for i, (enterprise, demand) in enumerate(rows):
        for j, cond in enumerate(conds):
            result = evaluate(cond, enterprise, demand, today=TODAY, explain=False)
            assert engine.failed_keys(int(failed[i, j])) == [f.condition for f in result.failed]
            assert engine.unknown_keys(int(unknown[i, j])) == [f.condition for f in result.missing]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(products, min_size=1, max_size=8),
    st.lists(st.tuples(declaring, demands), min_size=1, max_size=8),
)
def test_the_batch_ranks_declared_facts_as_the_dense_path_does(conds, rows):
    ptable, ftable = tables(conds, rows)
    full = engine.rank_block(ptable, ftable, np.arange(len(rows)), np.arange(len(conds)), 4)
    batched = batch.batch_top_k(ptable, ftable, k=4, max_pairs=3)
    assert np.array_equal(full.product_index, batched.product_index)
    assert np.array_equal(full.scores, batched.scores)


def test_a_declared_requirement_is_ranked_as_not_met_and_explained():
    conds = [
        ProductConditions("credit", required_qualifications=("high_tech",)),
        ProductConditions("credit", min_revenue=Decimal(10_000_000)),
        ProductConditions("credit"),
    ]
    declared = EnterpriseFacts(
        region_code="330421",
        revenue=Decimal(35_000_000),
        revenue_verified=False,
        qualifications=frozenset(),
        declared_qualifications=frozenset({"high_tech"}),
    )
    verified = EnterpriseFacts(
        region_code="330421", revenue=Decimal(35_000_000), qualifications=frozenset({"high_tech"})
    )
    ptable = ProductTable.from_conditions([1, 2, 3], conds)
    ftable = FactTable.from_facts([1, 2], [(declared, None), (verified, None)], today=TODAY)
    ranking = engine.rank_block(ptable, ftable, np.arange(2), np.arange(3), 3)
    assert list(ranking.product_index[0]) == [2, -1, -1]  # only the unconditional product
    assert sorted(ranking.product_index[1]) == [0, 1, 2]
    failed, unknown = engine.eligibility(ptable, ftable)
    assert not failed[0].any()  # neither passed nor failed ...
    messages = [
        eligibility_messages(failed[0, j], unknown[0, j], conds[j], declared, None, today=TODAY)
        for j in range(2)
    ]
    assert messages == [
        ["需核验：高新技术企业（企业自报，待核验）"],
        ["需核验：营业收入（企业自报，待核验）"],
    ]


@pytest.mark.django_db
def test_match_demand_puts_a_self_declared_qualification_among_the_not_eligible(world):
    adapter.clear_cache()
    from chanrong.demands import services as demands_services

    product = publish(
        world.user("bank_staff"), name="科创贷", required_qualifications=["high_tech"]
    )
    q = registry.add_qualification(
        world.user("ent_user"),
        world.ent,
        {"kind": "high_tech", "issuer": "我自己", "valid_from": "2025-01-01"},
    )
    demand = demands_services.create_demand(world.user("ent_user"), demand_data())
    result = services.match_demand(demand)
    assert product.pk not in [m.product_id for m in result.ranked]
    (why,) = [m for m in result.not_eligible if m.product_id == product.pk]
    assert why.failed == [] and why.missing == ["需核验：高新技术企业（企业自报，待核验）"]
    registry.verify_qualification(world.user("gov_jiashan"), q)
    adapter.clear_cache()
    ranked = {m.product_id: m for m in services.match_demand(demand).ranked}
    assert ranked[product.pk].eligible is True
