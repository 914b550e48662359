"""The vectorised engine against the pure per-pair rules, and its ranking guarantees."""

from datetime import date
from decimal import Decimal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from chanrong.finance.eligibility import (
    COLLATERAL_LABELS,
    HOLDING_LABELS,
    LIST_LABELS,
    PRODUCT_DEMAND_KINDS,
    QUALIFICATION_LABELS,
    SIZE_LABELS,
    Area,
    ChainRef,
    DemandFacts,
    EnterpriseFacts,
    Holdings,
    IndustryRef,
    ProductConditions,
    evaluate,
)
from chanrong.matching import batch, engine
from chanrong.matching.features import FactTable, ProductTable
from chanrong.matching.reasons import eligibility_messages

TODAY = date(2026, 6, 1)
REGIONS = ["330421", "330402", "320508", "110101", "650102", ""]
PREFIXES = ["", "33", "3304", "330421", "32", "3205", "11", "65"]
INDUSTRIES = ["C3911", "C34", "C", "K701", "A01", "F51", "C39"]
IND_PREFIXES = ["C", "C39", "C391", "K", "K701", "A", "F51"]
GRADES = ["A", "B", "M", "C", "D", "b", "X"]


def some(values):
    return st.lists(st.sampled_from(values), max_size=3, unique=True).map(tuple)


def maybe(strategy):
    return st.none() | strategy


money = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)
rates = st.decimals(min_value=0, max_value=30, places=4, allow_nan=False, allow_infinity=False)

products = st.builds(
    ProductConditions,
    product_kind=st.sampled_from([*PRODUCT_DEMAND_KINDS, "unknown_kind"]),
    amount_min=maybe(money),
    amount_max=maybe(money),
    term_min=maybe(st.integers(0, 120)),
    term_max=maybe(st.integers(0, 120)),
    rate_min=maybe(rates),
    collateral_required=st.booleans(),
    collateral_options=some(list(COLLATERAL_LABELS)),
    regions=some(PREFIXES).map(lambda ps: tuple(Area(p, p, p) for p in ps)),
    industries_in=some(IND_PREFIXES).map(lambda cs: tuple(IndustryRef(c, c) for c in cs)),
    industries_out=some(IND_PREFIXES).map(lambda cs: tuple(IndustryRef(c, c) for c in cs)),
    sizes=some(list(SIZE_LABELS)),
    required_qualifications=some(list(QUALIFICATION_LABELS)),
    required_lists=some(list(LIST_LABELS)),
    min_tax_grade=maybe(st.sampled_from(GRADES + [""])),
    min_years=maybe(st.integers(-1, 12)),
    min_revenue=maybe(money),
    exclude_blacklisted=st.booleans(),
    required_holdings=some(list(HOLDING_LABELS)),
    chain=maybe(st.integers(1, 4).map(lambda n: ChainRef(n, f"链{n}"))),
    max_carbon_grade=maybe(st.integers(1, 5)),
    carbon_rate_adjustments=st.just(())
    | st.lists(
        st.decimals(min_value=-3, max_value=3, places=2, allow_nan=False, allow_infinity=False),
        min_size=5,
        max_size=5,
    ).map(tuple),
)
held = st.sampled_from([Decimal(0), Decimal("0.01"), Decimal("1200000.00")])
enterprises = st.builds(
    EnterpriseFacts,
    region_code=st.sampled_from(REGIONS),
    industry_code=maybe(st.sampled_from(INDUSTRIES + [""])),
    size=maybe(st.sampled_from([*SIZE_LABELS, ""])),
    revenue=maybe(money),
    founded_on=maybe(st.dates(min_value=date(2000, 1, 1), max_value=date(2027, 1, 1))),
    tax_grade=maybe(st.sampled_from(GRADES + [""])),
    qualifications=maybe(st.frozensets(st.sampled_from(list(QUALIFICATION_LABELS)), max_size=3)),
    lists=maybe(st.frozensets(st.sampled_from(list(LIST_LABELS)), max_size=3)),
    blacklisted=maybe(st.booleans()),
    holdings=maybe(st.builds(Holdings, receivable=held, voucher=held, gov_procurement=held)),
    chains=maybe(st.frozensets(st.integers(1, 4), max_size=3)),
    carbon_grade=maybe(st.integers(1, 5)),
)
demands = maybe(
    st.builds(
        DemandFacts,
        kind=maybe(st.sampled_from(["debt", "equity", "leasing", "guarantee", "insurance", "x"])),
        amount=maybe(money),
        term_months=maybe(st.integers(0, 120)),
        rate_max=maybe(rates),
        collateral_offered=maybe(some(list(COLLATERAL_LABELS))),
    )
)


def tables(conds, rows):
    return (
        ProductTable.from_conditions(range(1, len(conds) + 1), conds),
        FactTable.from_facts(range(1, len(rows) + 1), rows, today=TODAY),
    )


@settings(max_examples=150, deadline=None)
@given(
    st.lists(products, min_size=1, max_size=5),
    st.lists(st.tuples(enterprises, demands), min_size=1, max_size=5),
)
def test_vectorised_eligibility_equals_the_pure_function(conds, rows):
    ptable, ftable = tables(conds, rows)
    failed, unknown = engine.eligibility(ptable, ftable)
    for i, (enterprise, demand) in enumerate(rows):
        for j, cond in enumerate(conds):
            result = evaluate(cond, enterprise, demand, today=TODAY, explain=False)
            assert engine.failed_keys(int(failed[i, j])) == [f.condition for f in result.failed], (
                i,
                j,
            )
            assert engine.unknown_keys(int(unknown[i, j])) == [
                f.condition for f in result.missing
            ], (i, j)
            messages = eligibility_messages(
                failed[i, j], unknown[i, j], cond, enterprise, demand, today=TODAY
            )
            assert messages == evaluate(cond, enterprise, demand, today=TODAY).messages


@settings(max_examples=100, deadline=None)
@given(
    st.lists(products, min_size=1, max_size=5),
    st.lists(st.tuples(enterprises, demands), min_size=2, max_size=6),
)
def test_one_row_alone_has_the_bits_of_its_row_in_a_table(conds, rows):
    """A publish checks one row (no distinct keys to find, one region, one
    industry): the same bits as that row among others, picked out of the
    table or in a table of its own."""
    ptable, ftable = tables(conds, rows)
    failed, unknown = engine.eligibility(ptable, ftable)
    for i, row in enumerate(rows):
        for table, pick in ((ftable, np.array([i])), (tables(conds, [row])[1], None)):
            alone_failed, alone_unknown = engine.eligibility(ptable, table, pick)
            assert alone_failed.shape == (1, len(conds))
            assert (alone_failed[0] == failed[i]).all(), i
            assert (alone_unknown[0] == unknown[i]).all(), i


def test_reasons_are_plain_chinese_and_sparse_profiles_get_need_more():
    cond = ProductConditions(
        "credit", amount_max=Decimal(5_000_000), min_tax_grade="A", min_revenue=Decimal(1)
    )
    rich = EnterpriseFacts(region_code="330421", tax_grade="B", revenue=Decimal(10**7))
    sparse = EnterpriseFacts(region_code="")
    demand = DemandFacts(kind="debt", amount=Decimal(8_000_000))
    ptable, ftable = tables([cond], [(rich, demand), (sparse, None)])
    failed, unknown = engine.eligibility(ptable, ftable)
    msgs = eligibility_messages(failed[0, 0], unknown[0, 0], cond, rich, demand, today=TODAY)
    assert "需纳税信用等级 A 级，当前为 B 级" in msgs
    assert "额度上限 500 万元，需求 800 万元" in msgs
    msgs = eligibility_messages(failed[1, 0], unknown[1, 0], cond, sparse, None, today=TODAY)
    assert msgs == ["需补充：纳税信用等级", "需补充：营业收入"]
    ranking = batch.batch_top_k(ptable, ftable, k=3)
    assert ranking.product_index[1, 0] == 0  # possible (unknowns only), still ranked
    assert ranking.product_index[0, 0] == -1  # fails


def test_top_k_breaks_ties_by_product_id_not_position():
    scores = np.array([[1.0, 2.0, 2.0, 2.0, -np.inf, 0.5]])
    idx, s = engine.top_k(scores, np.arange(10, 16), 3)
    assert idx.tolist() == [[1, 2, 3]]
    idx, s = engine.top_k(scores, np.arange(10, 16), 7)
    assert idx.tolist() == [[1, 2, 3, 0, 5, -1, -1]]
    assert np.isneginf(s[0, 5])


@settings(max_examples=50, deadline=None)
@given(
    st.lists(products, min_size=1, max_size=8),
    st.lists(st.tuples(enterprises, demands), min_size=1, max_size=8),
)
def test_batch_equals_full_block_and_is_deterministic(conds, rows):
    ptable, ftable = tables(conds, rows)
    full = engine.rank_block(ptable, ftable, np.arange(len(rows)), np.arange(len(conds)), 4)
    batched = batch.batch_top_k(ptable, ftable, k=4, max_pairs=3)
    assert np.array_equal(full.product_index, batched.product_index)
    assert np.array_equal(full.scores, batched.scores)


def test_batch_with_two_workers_gives_the_same_result():
    conds = [ProductConditions("credit", amount_max=Decimal(n * 10**6)) for n in range(1, 30)]
    conds += [ProductConditions("equity", regions=(Area("32", "32", "江苏"),))]
    rows = [
        (
            EnterpriseFacts(region_code=REGIONS[i % 5]),
            DemandFacts(kind=("debt", "equity")[i % 2], amount=Decimal(i * 10**5)),
        )
        for i in range(40)
    ]
    ptable, ftable = tables(conds, rows)
    one = batch.batch_top_k(ptable, ftable, k=5, max_pairs=50)
    two = batch.batch_top_k(ptable, ftable, k=5, max_pairs=50, workers=2)
    assert np.array_equal(one.product_index, two.product_index)
    assert np.array_equal(one.scores, two.scores)


def _policy_world():
    conds = [
        ProductConditions("credit", amount_max=Decimal(10**7)),
        ProductConditions("green", amount_max=Decimal(10**7)),
        ProductConditions("tech", amount_max=Decimal(10**7)),
    ]
    green = EnterpriseFacts(region_code="330421", qualifications=frozenset({"green_factory"}))
    tech = EnterpriseFacts(region_code="330421", qualifications=frozenset({"high_tech"}))
    listed = EnterpriseFacts(region_code="330421", lists=frozenset({"white_list"}))
    demand = DemandFacts(kind="debt", amount=Decimal(10**6))
    return tables(conds, [(green, demand), (tech, demand), (listed, None)])


def test_policy_weights_set_by_region_change_the_order():
    ptable, ftable = _policy_world()
    green_first = batch.batch_top_k(ptable, ftable, k=3, policy_weights=np.array([0, 0, 0, 1.0]))
    assert green_first.product_index[0, 0] == 1  # the green loan for the green factory
    per_row = np.array([[0, 0, 0, 1.0], [0, 0, 1.0, 0], [1.0, 0, 0, 0]])
    ranking = batch.batch_top_k(ptable, ftable, k=3, policy_weights=per_row)
    assert ranking.product_index[1, 0] == 2  # the 科创 loan for the high-tech firm
    assert (ranking.scores[2] > -np.inf).all()  # no demand: every product possible


def test_institution_sees_only_its_own_products_and_a_stable_demand_order():
    ptable, ftable = _policy_world()
    rows, scores, best = engine.rank_demands(ptable, ftable, np.array([1]), k=5)
    assert set(best[best >= 0].tolist()) == {1}
    assert list(rows[: len(ftable)]) == sorted(
        range(len(ftable)), key=lambda r: (-scores[list(rows).index(r)], r)
    )


def test_probability_hook_and_reasons():
    ptable, ftable = _policy_world()
    seen = []

    def probability(feats):
        seen.append(len(feats))
        return np.full(feats[0].shape, 0.9)

    ranking = batch.batch_top_k(ptable, ftable, k=2, probability=probability)
    assert seen and seen[0] == len(engine.FEATURE_NAMES)
    assert (ranking.product_index >= 0).all()
    rows, cols = np.arange(1), np.arange(3)
    failed, unknown = engine.eligibility(ptable, ftable, rows, cols)
    ri, ci = np.nonzero(failed == 0)
    feats = engine.pair_features(ptable, ftable, rows, cols, ri, ci, unknown[ri, ci], np.ones(4))
    reasons = engine.top_reasons(feats, 1, probability=0.9)
    assert reasons and set(reasons) <= set(engine.FEATURE_LABELS)


def _graded_world():
    """Two products at 4.35 %: one takes 0.50 points off for 碳效等级 1, the
    other adds 0.50 for grade 5; demands accept at most 4.00 % / 4.50 %."""
    cut = (Decimal("-0.50"), Decimal("-0.20"), Decimal(0), Decimal(0), Decimal("0.50"))
    conds = [
        ProductConditions("green", rate_min=Decimal("4.35"), carbon_rate_adjustments=cut),
        ProductConditions("credit", rate_min=Decimal("4.35"), carbon_rate_adjustments=cut),
        ProductConditions("credit", rate_min=Decimal("4.35")),
    ]
    rows = [
        (EnterpriseFacts("330421", carbon_grade=1), DemandFacts("debt", rate_max=Decimal("4.00"))),
        (EnterpriseFacts("330421", carbon_grade=5), DemandFacts("debt", rate_max=Decimal("4.50"))),
        (EnterpriseFacts("330421"), DemandFacts("debt", rate_max=Decimal("4.50"))),
        (EnterpriseFacts("330421", carbon_grade=3), DemandFacts("debt", rate_max=Decimal("4.35"))),
    ]
    return conds, rows


def test_the_rate_filter_uses_the_rate_adjusted_by_carbon_grade_everywhere():
    conds, rows = _graded_world()
    ptable, ftable = tables(conds, rows)
    failed, unknown = engine.eligibility(ptable, ftable)
    verdict = [[not evaluate(c, e, d, today=TODAY).failed for c in conds] for e, d in rows]
    # Grade 1 passes the graded products only thanks to the discount (3.85 % ≤ 4.00 %);
    # grade 5 fails them only because of the surcharge (4.85 % > 4.50 %); no
    # grade and grade 3 (no adjustment) see the product's own 4.35 %.
    assert verdict == [
        [True, True, False],
        [False, False, True],
        [True, True, True],
        [True, True, True],
    ]
    assert ((failed == 0).tolist()) == verdict
    ranking = batch.batch_top_k(ptable, ftable, k=3)
    full = engine.rank_block(ptable, ftable, np.arange(4), np.arange(3), 3)
    assert np.array_equal(full.product_index, ranking.product_index)
    assert np.array_equal(full.scores, ranking.scores)
    assert [sorted(i for i in r if i >= 0) for r in ranking.product_index.tolist()] == [
        [0, 1],
        [2],
        [0, 1, 2],
        [0, 1, 2],
    ]
    assert evaluate(conds[0], *rows[1], today=TODAY).messages == [
        "年利率最低 4.85%（碳效等级 5，上调 0.50 个百分点），可接受利率上限 4.50%"
    ]
    assert evaluate(conds[2], *rows[0], today=TODAY).messages == [
        "年利率最低 4.35%，可接受利率上限 4.00%"
    ]
    low = DemandFacts("debt", rate_max=Decimal("3.50"))
    assert evaluate(conds[0], rows[0][0], low, today=TODAY).messages == [
        "年利率最低 3.85%（碳效等级 1，下调 0.50 个百分点），可接受利率上限 3.50%"
    ]
    assert (
        eligibility_messages(failed[1, 0], unknown[1, 0], conds[0], *rows[1], today=TODAY)
        == evaluate(conds[0], *rows[1], today=TODAY).messages
    )


def test_an_adjusted_rate_never_goes_below_zero():
    cond = ProductConditions(
        "credit", rate_min=Decimal("0.30"), carbon_rate_adjustments=(Decimal("-0.50"),) * 5
    )
    rows = [
        (EnterpriseFacts("330421", carbon_grade=1), DemandFacts("debt", rate_max=Decimal(0))),
        (EnterpriseFacts("330421"), DemandFacts("debt", rate_max=Decimal(0))),
    ]
    ptable, ftable = tables([cond], rows)
    failed, _unknown = engine.eligibility(ptable, ftable)
    assert (failed[:, 0] == 0).tolist() == [True, False]
    assert [not evaluate(cond, e, d, today=TODAY).failed for e, d in rows] == [True, False]
    assert batch.batch_top_k(ptable, ftable, k=1).product_index[:, 0].tolist() == [0, -1]
