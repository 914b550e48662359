"""The province-scale path (matching.grouped) against the existing batch and
engine.rank_demands: same products, same order, same scores, ties by id."""

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from chanrong.finance.eligibility import (
    Area,
    DemandFacts,
    EnterpriseFacts,
    Holdings,
    IndustryRef,
    ProductConditions,
)
from chanrong.matching import batch, engine, grouped
from chanrong.matching.features import FactTable, ProductTable

from .test_engine import TODAY, demands, enterprises, products, tables


def _same(a: engine.Ranking, b: engine.Ranking) -> None:
    assert np.array_equal(a.product_index, b.product_index)
    assert np.array_equal(a.scores, b.scores)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(products, min_size=1, max_size=8),
    st.lists(st.tuples(enterprises, demands), min_size=1, max_size=12),
    st.integers(1, 5),
)
def test_grouped_equals_the_batch_on_arbitrary_rows(conds, rows, candidates):
    ptable, ftable = tables(conds, rows)
    expected = batch.batch_top_k(ptable, ftable, k=3)
    _same(grouped.grouped_top_k(ptable, ftable, k=3, candidates=candidates), expected)


def world(n_rows: int, n_products: int, seed: int):
    """Many enterprises without a demand that share facts (so groups form),
    tied products (identical conditions), lists, missing facts, grades."""
    rng = np.random.default_rng(seed)
    counties = ["330421", "330402", "330106", "330782", "320508"]
    conds, branches = [], []
    for j in range(n_products):
        rate = Decimal(int(rng.integers(300, 600))) / 100
        conds.append(
            ProductConditions(
                product_kind=str(rng.choice(["credit", "green", "tech", "equity"])),
                amount_max=Decimal(10**7),
                rate_min=rate if j % 7 else Decimal("4.00"),
                regions=(Area("3304", "3304", "嘉兴"),) if j % 3 == 0 else (),
                industries_in=(IndustryRef("C", "制造业"),) if j % 5 == 0 else (),
                sizes=("small", "micro") if j % 4 == 0 else (),
                required_qualifications=("high_tech",) if j % 11 == 0 else (),
                required_lists=("white_list",) if j % 13 == 0 else (),
                min_tax_grade="B" if j % 6 == 0 else None,
                min_years=int(rng.integers(0, 4)),
                min_revenue=Decimal(5 * 10**6) if j % 9 == 0 else None,
                exclude_blacklisted=bool(j % 2),
                max_carbon_grade=4 if j % 17 == 0 else None,
                carbon_rate_adjustments=(
                    (Decimal("-0.30"), Decimal("-0.10"), Decimal(0), Decimal(0), Decimal("0.20"))
                    if j % 4 == 1
                    else ()
                ),
            )
        )
        branches.append(("3304",) if j % 2 else ("3301",))
    # Every fourth product a twin of the one before: equal scores, ties by id.
    for j in range(3, n_products, 4):
        conds[j] = conds[j - 1]
    rows = []
    for _ in range(n_rows):
        known = rng.random() < 0.8
        rows.append(
            (
                EnterpriseFacts(
                    region_code=str(rng.choice(counties)),
                    industry_code=str(rng.choice(["C39", "C34", "F51"])) if known else None,
                    size=str(rng.choice(["small", "micro", "medium"])) if known else None,
                    revenue=Decimal(int(rng.choice([10**6, 10**7]))) if known else None,
                    revenue_verified=bool(rng.random() < 0.7),
                    founded_on=TODAY - timedelta(days=int(rng.integers(100, 2000))),
                    tax_grade=str(rng.choice(["A", "B", "C"])) if known else None,
                    qualifications=frozenset(["high_tech"] if rng.random() < 0.2 else []),
                    declared_qualifications=frozenset(["high_tech"] if rng.random() < 0.1 else []),
                    lists=frozenset(["white_list"] if rng.random() < 0.3 else [])
                    if known
                    else None,
                    blacklisted=bool(rng.random() < 0.05) if known else None,
                    holdings=Holdings(receivable=Decimal(int(rng.choice([0, 10**6]))))
                    if known
                    else None,
                    chains=frozenset(),
                    carbon_grade=int(rng.integers(1, 6)) if rng.random() < 0.4 else None,
                ),
                None,
            )
        )
    ptable = ProductTable.from_conditions(
        range(1, n_products + 1),
        conds,
        branch_regions=branches,
        approval_rate=np.random.default_rng(seed).random((n_products, 5)).round(1),
        institution_ids=np.arange(n_products) % 3 + 1,
    )
    ftable = FactTable.from_facts(range(1, n_rows + 1), rows, today=TODAY)
    return ptable, ftable


def test_grouped_equals_the_batch_on_thousands_of_enterprises():
    ptable, ftable = world(3000, 120, seed=3)
    expected = batch.batch_top_k(ptable, ftable, k=10)
    weights = np.random.default_rng(1).random((len(ftable), 4)).round(0)
    for candidates, threads in ((10, 1), (16, 2), (64, 2)):
        g = grouped.Grouped(ptable, ftable, threads=threads)
        ranking, stats = g.top_k(10, candidates=candidates)
        _same(ranking, expected)
        assert stats["groups"] < len(ftable)
    per_region = batch.batch_top_k(ptable, ftable, k=10, policy_weights=weights)
    _same(grouped.grouped_top_k(ptable, ftable, k=10, policy_weights=weights), per_region)
    assert (expected.product_index[:, 0] >= 0).any()
    ties = expected.scores[:, 1:] == expected.scores[:, :-1]
    assert (ties & np.isfinite(expected.scores[:, 1:])).any()  # twins ranked by id


def test_grouped_probability_hook_gives_the_same_ranking():
    ptable, ftable = world(500, 40, seed=5)

    def probability(feats):
        return np.clip(feats[2] * 0.5 + feats[-4] * 0.25, 0, 1)

    _same(
        grouped.grouped_top_k(ptable, ftable, k=5, probability=probability),
        batch.batch_top_k(ptable, ftable, k=5, probability=probability),
    )


def test_grouped_outreach_equals_engine_rank_demands():
    ptable, ftable = world(2000, 90, seed=9)
    g = grouped.Grouped(ptable, ftable)
    for institution in (1, 2, 3):
        cols = np.flatnonzero(ptable.institution_ids == institution)
        for limit in (5, 50, 2000):
            expected = engine.rank_demands(ptable, ftable, cols, k=limit)
            got = g.rank_demands(cols, k=limit)
            alone = grouped.rank_demands(ptable, ftable, cols, k=limit)
            for a, b, c in zip(expected, got, alone, strict=True):
                assert np.array_equal(a, b) and np.array_equal(a, c)
    few = np.array([4])
    expected = engine.rank_demands(ptable, ftable, few, k=30)
    for a, b in zip(expected, g.rank_demands(few, k=30), strict=True):
        assert np.array_equal(a, b)


def test_enterprises_with_demands_still_rank_the_same():
    ptable, ftable = world(10, 30, seed=2)
    demand = DemandFacts("debt", amount=Decimal(10**6), term_months=12, rate_max=Decimal("4.2"))
    rows = [(EnterpriseFacts("330421", carbon_grade=g), demand) for g in (1, 1, 5, None)]
    rows += [(EnterpriseFacts("330421"), None)] * 3
    ftable = FactTable.from_facts(range(1, len(rows) + 1), rows, today=date(2026, 6, 1))
    _same(grouped.grouped_top_k(ptable, ftable, k=4), batch.batch_top_k(ptable, ftable, k=4))
