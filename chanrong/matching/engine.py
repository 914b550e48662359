"""The matching core: arrays in, arrays out, no ORM.

`eligibility` checks the rules of `chanrong.finance.eligibility.evaluate` for a
block of (demand, product) pairs at once and returns two uint32 bitmasks per
pair: conditions known to fail (`features.FAILED_KEYS`) and facts that are
unknown (`features.UNKNOWN_KEYS`). Facts with few distinct values (size, tax
grade, lists, kind …) are evaluated once per distinct value over all products
and gathered, so the per-pair work is a gather and an OR; amounts, terms and
rates are compared pair by pair.

`score` turns eligible pairs into a number from fit, policy priority (weights
set per region by the government), the institution's service record and a
learned approval probability; `top_k` picks the best per row with a
deterministic tie-break (score desc, then product id asc); `batch.batch_top_k` runs
the whole demand × product matrix in memory-bounded blocks, skipping pairs
whose region or demand kind can never match.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from . import features as F
from .features import FAIL, UNKNOWN, FactTable, ProductTable


def N_(message: str) -> str:
    """Marks a label for translation (makemessages extracts N_) without
    importing Django: the engine runs on arrays alone."""
    return message


ZERO = np.uint32(0)

#: Pair features fed to the learned model (and shown as reasons), in order.
FEATURE_NAMES: tuple[str, ...] = (
    "fit_amount",
    "fit_term",
    "fit_rate",
    "fit_collateral",
    *(f"policy_{key}" for key in F.POLICY_KEYS),
    "approval_rate",
    "deadline_rate",
    "local",
    "unknown_count",
    "holding",
)
FEATURE_LABELS = {
    "fit_amount": N_("额度与需求匹配"),
    "fit_term": N_("期限与需求匹配"),
    "fit_rate": N_("利率较低"),
    "fit_collateral": N_("无需抵押"),
    "policy_white_list": N_("政策支持：融资白名单"),
    "policy_specialised": N_("政策支持：专精特新"),
    "policy_tech": N_("政策支持：科创企业"),
    "policy_green": N_("政策支持：绿色发展"),
    "approval_rate": N_("同类企业获批率高"),
    "deadline_rate": N_("按时办结率高"),
    "local": N_("本地有服务网点"),
    "model": N_("模型预测获批概率高"),
    # Shown with the amount held ("持有已确权应收账款 120 万元", matching.reasons).
    "holding": N_("持有产品所需的供应链资产"),
}

#: Default top-level weights: fit, policy, service, model, penalty per unknown fact.
DEFAULT_WEIGHTS = np.array([0.35, 0.25, 0.2, 0.2, 0.05])
DEFAULT_POLICY_WEIGHTS = np.ones(len(F.POLICY_KEYS))
#: Bonus for a supply-chain product (one that requires a receivable, voucher or
#: 政采 contract) when the enterprise holds what it finances: such a product
#: ranks above general loans for the suppliers it was made for. Added last,
#: so pairs without the feature score exactly as before.
HOLDING_WEIGHT = 0.15


# --- eligibility ---------------------------------------------------------------------


def _per_value(keys: np.ndarray, build: Callable[[int], tuple[np.ndarray, np.ndarray]], width: int):
    """Evaluate `build(first_row_with_key)` once per distinct key; gather back per row."""
    if len(keys) == 1:  # one row (a publish): no distinct keys to find
        fail, unknown = build(0)
        fail = np.asarray(fail, dtype=np.uint32).reshape(1, width)
        unknown = np.asarray(unknown, dtype=np.uint32).reshape(1, width)
        return fail, unknown, np.zeros(1, dtype=np.intp)
    uniq, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    fail = np.empty((len(uniq), width), dtype=np.uint32)
    unknown = np.empty((len(uniq), width), dtype=np.uint32)
    for u, row in enumerate(first):
        fail[u], unknown[u] = build(int(row))
    return fail, unknown, inverse.reshape(-1)


def family_a(facts: FactTable, i: int, cols) -> tuple[np.ndarray, np.ndarray]:
    """Size, tax grade, age, blacklist of fact row i against product columns
    `cols` = (sizes, min_tax_rank, min_years, has_years, exclude_blacklisted)."""
    sizes, min_tax, min_years, has_years, exclude = cols
    width = len(sizes)
    fail = np.zeros(width, dtype=np.uint32)
    unk = np.zeros(width, dtype=np.uint32)
    size = facts.size[i]
    if size == 0:
        unk |= np.where(sizes != 0, UNKNOWN["size"], ZERO)
    else:
        fail |= np.where((sizes != 0) & ((sizes & size) == 0), FAIL["sizes"], ZERO)
    tax = facts.tax_rank[i]
    if tax < 0:
        unk |= np.where(min_tax >= 0, UNKNOWN["tax_grade"], ZERO)
    else:
        fail |= np.where((min_tax >= 0) & (tax > min_tax), FAIL["tax_grade"], ZERO)
    if not facts.age_known[i]:
        unk |= np.where(has_years, UNKNOWN["founded_on"], ZERO)
    else:
        fail |= np.where(has_years & (facts.age_years[i] < min_years), FAIL["min_years"], ZERO)
    black = facts.blacklisted[i]
    if black < 0:
        unk |= np.where(exclude, UNKNOWN["blacklisted"], ZERO)
    elif black > 0:
        fail |= np.where(exclude, FAIL["blacklisted"], ZERO)
    return fail, unk


def family_b(facts: FactTable, i: int, cols) -> tuple[np.ndarray, np.ndarray]:
    """Qualifications and lists; `cols` = (required qualifications, required lists)."""
    need_q, need_l = cols
    width = len(need_q)
    fail = np.zeros(width, dtype=np.uint32)
    unk = np.zeros(width, dtype=np.uint32)
    declared = facts.quals_declared[i]
    for have, known, need, key in (
        (facts.quals[i], facts.quals_known[i], need_q, "qualifications"),
        (facts.lists[i], facts.lists_known[i], need_l, "lists"),
    ):
        if not known:
            unk |= np.where(need != 0, UNKNOWN[key], ZERO)
        elif key == "qualifications":
            # Declared-only qualifications neither pass nor fail: "需核验".
            absent = need & ~have
            fail |= np.where((absent & ~declared) != 0, FAIL[key], ZERO)
            unk |= np.where((absent & declared) != 0, UNKNOWN["qualifications_unverified"], ZERO)
        else:
            fail |= np.where((need & ~have) != 0, FAIL[key], ZERO)
    return fail, unk


def family_c(facts: FactTable, i: int, cols) -> tuple[np.ndarray, np.ndarray]:
    """Demand kind and collateral; `cols` = (kind answers, collateral required, options)."""
    answers, coll_req, coll_opt = cols
    width = len(answers)
    fail = np.zeros(width, dtype=np.uint32)
    unk = np.zeros(width, dtype=np.uint32)
    kind = facts.kind[i]
    if kind:
        fail |= np.where((answers & kind) == 0, FAIL["kind"], ZERO)
    if not facts.has_demand[i]:
        pass
    elif not facts.collateral_known[i]:
        unk |= np.where(coll_req, UNKNOWN["collateral"], ZERO)
    else:
        bad = (not facts.collateral_nonempty[i]) | (
            (coll_opt != 0) & ((coll_opt & facts.collateral[i]) == 0)
        )
        fail |= np.where(coll_req & bad, FAIL["collateral"], ZERO)
    return fail, unk


def family_d(facts: FactTable, i: int, cols) -> tuple[np.ndarray, np.ndarray]:
    """Chain membership, supply-chain holdings and the 碳效等级; `cols` =
    (chain id, 0 = none; holdings mask, any one kind suffices; worst grade
    accepted, -1 = none)."""
    chain, need_h, max_grade = cols
    width = len(chain)
    fail = np.zeros(width, dtype=np.uint32)
    unk = np.zeros(width, dtype=np.uint32)
    key = int(facts.chain_key[i])
    if key < 0:
        unk |= np.where(chain != 0, UNKNOWN["chains"], ZERO)
    else:
        members = np.fromiter(facts.chain_sets[key], dtype=np.int64)
        fail |= np.where((chain != 0) & ~np.isin(chain, members), FAIL["chain"], ZERO)
    if not facts.holdings_known[i]:
        unk |= np.where(need_h != 0, UNKNOWN["holdings"], ZERO)
    else:
        fail |= np.where(
            (need_h != 0) & ((need_h & facts.holdings[i]) == 0), FAIL["holdings"], ZERO
        )
    grade = int(facts.carbon_grade[i])
    if grade < 0:
        unk |= np.where(max_grade >= 0, UNKNOWN["carbon_grade"], ZERO)
    else:
        fail |= np.where((max_grade >= 0) & (grade > max_grade), FAIL["carbon_grade"], ZERO)
    return fail, unk


def key_a(facts: FactTable, rows: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Rows with equal keys get equal family_a results (ages clipped to [lo, hi])."""
    age = np.clip(facts.age_years[rows], lo, hi)
    return (
        facts.size[rows].astype(np.int64)
        | ((facts.tax_rank[rows].astype(np.int64) + 1) << 16)
        | ((facts.blacklisted[rows].astype(np.int64) + 1) << 20)
        | (facts.age_known[rows].astype(np.int64) << 23)
        | ((age - lo) << 24)
    )


def key_b(facts: FactTable, rows: np.ndarray) -> np.ndarray:
    return (
        facts.quals[rows].astype(np.int64)
        | (facts.quals_known[rows].astype(np.int64) << 16)
        | (facts.lists[rows].astype(np.int64) << 17)
        | (facts.lists_known[rows].astype(np.int64) << 33)
        | (facts.quals_declared[rows].astype(np.int64) << 34)
    )


def key_c(facts: FactTable, rows: np.ndarray) -> np.ndarray:
    return (
        facts.kind[rows].astype(np.int64)
        | (facts.collateral[rows].astype(np.int64) << 16)
        | (facts.collateral_known[rows].astype(np.int64) << 32)
        | (facts.collateral_nonempty[rows].astype(np.int64) << 33)
        | (facts.has_demand[rows].astype(np.int64) << 34)
    )


def key_d(facts: FactTable, rows: np.ndarray) -> np.ndarray:
    return (
        facts.holdings[rows].astype(np.int64)
        | (facts.holdings_known[rows].astype(np.int64) << 16)
        | ((facts.chain_key[rows] + 1) << 17)
        | ((facts.carbon_grade[rows].astype(np.int64) + 1) << 56)
    )


def eligibility(
    products: ProductTable,
    facts: FactTable,
    rows: np.ndarray | slice | None = None,
    cols: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(failed, unknown) uint32 bitmasks of shape (len(rows), len(cols))."""
    rows = np.arange(len(facts)) if rows is None else np.arange(len(facts))[rows]
    cols = np.arange(len(products)) if cols is None else np.asarray(cols)
    rows = np.asarray(rows)
    P = products
    width = len(cols)
    failed = np.zeros((len(rows), width), dtype=np.uint32)
    unknown = np.zeros((len(rows), width), dtype=np.uint32)

    def gather(tables):
        fail_t, unk_t, inverse = tables
        failed.__ior__(fail_t[inverse])
        unknown.__ior__(unk_t[inverse])

    # Region and industry: per distinct code string.
    regions, region_inv = F.unique_inverse(facts.region[rows])
    ok = P.region_ok(list(regions), cols)
    failed |= np.where(ok, ZERO, FAIL["regions"])[region_inv]

    industries, industry_inv = F.unique_inverse(facts.industry[rows])
    ind_fail = P.industry_fail(list(industries), cols)
    has_industry = P.has_industry[cols]
    ind_unknown = np.array(
        [np.where(has_industry & (not code), UNKNOWN["industry"], ZERO) for code in industries],
        dtype=np.uint32,
    ).reshape(len(industries), width)
    gather((ind_fail, ind_unknown, industry_inv.reshape(-1)))

    # Enterprise facts with few values: size, tax grade, age, blacklist.
    sizes = P.sizes[cols]
    min_tax = P.min_tax_rank[cols]
    min_years = P.min_years[cols]
    has_years = min_years != 0
    exclude = P.exclude_blacklisted[cols]
    lo = int(min_years.min(initial=0)) - 1
    hi = int(min_years.max(initial=0))
    cols_a = (sizes, min_tax, min_years, has_years, exclude)

    def build_a(r: int):
        return family_a(facts, int(rows[r]), cols_a)

    gather(_per_value(key_a(facts, rows, lo, hi), build_a, width))

    # Qualifications and lists.
    need_q = P.qualifications[cols]
    need_l = P.lists[cols]

    def build_b(r: int):
        return family_b(facts, int(rows[r]), (need_q, need_l))

    gather(_per_value(key_b(facts, rows), build_b, width))

    # Demand kind and collateral.
    answers = P.kind_answers[cols]
    coll_req = P.collateral_required[cols]
    coll_opt = P.collateral_options[cols]
    cols_c = (answers, coll_req, coll_opt)

    def build_c(r: int):
        return family_c(facts, int(rows[r]), cols_c)

    gather(_per_value(key_c(facts, rows), build_c, width))

    # Chain membership and supply-chain holdings.
    cols_d = (P.chain[cols], P.holdings[cols], P.max_carbon_grade[cols])

    def build_d(r: int):
        return family_d(facts, int(rows[r]), cols_d)

    gather(_per_value(key_d(facts, rows), build_d, width))

    # Numbers, pair by pair. Absent facts become sentinels that never compare true.
    def put(mask_, cond, bit):
        mask_ |= np.left_shift(cond, int(bit).bit_length() - 1, dtype=np.uint32)

    has_rev = P.min_revenue[cols] != 0
    min_rev = np.where(has_rev, P.min_revenue[cols], F.I64_MIN)
    rev_known = facts.revenue_known[rows]
    revenue = np.where(rev_known, facts.revenue[rows], F.I64_MAX)
    put(failed, revenue[:, None] < min_rev[None, :], FAIL["min_revenue"])
    put(unknown, (~rev_known)[:, None] & has_rev[None, :], UNKNOWN["revenue"])
    rev_declared = rev_known & ~facts.revenue_verified[rows]
    put(
        unknown,
        rev_declared[:, None] & has_rev[None, :] & (revenue[:, None] >= min_rev[None, :]),
        UNKNOWN["revenue_unverified"],
    )

    has_amount = facts.has_amount[rows]
    amount = facts.amount[rows]
    put(
        failed,
        np.where(has_amount, amount, F.I64_MIN)[:, None] > P.amount_max[cols][None, :],
        FAIL["amount_max"],
    )
    put(
        failed,
        np.where(has_amount, amount, F.I64_MAX)[:, None] < P.amount_min[cols][None, :],
        FAIL["amount_min"],
    )
    has_term = facts.has_term[rows]
    term = facts.term[rows]
    put(
        failed,
        np.where(has_term, term, F.I64_MIN)[:, None] > P.term_max[cols][None, :],
        FAIL["term_max"],
    )
    put(
        failed,
        np.where(has_term, term, F.I64_MAX)[:, None] < P.term_min[cols][None, :],
        FAIL["term_min"],
    )
    # The rate filter compares with the rate this enterprise would get: the
    # product's lowest rate adjusted by its 碳效等级 (F.adjusted_rate_min).
    rate = np.where(facts.has_rate[rows], facts.rate_max[rows], F.I64_MAX)
    rate_min = F.adjusted_rate_min(
        P.rate_min[cols][None, :],
        P.carbon_rate_adj[cols].T[F.grade_column(facts.carbon_grade[rows])],
    )
    put(failed, rate[:, None] < rate_min, FAIL["rate"])
    return failed, unknown


def meets(failed: np.ndarray, unknown: np.ndarray) -> np.ndarray:
    """Pairs ranked as meeting the product's requirements: nothing known to
    fail and nothing resting on the enterprise's unverified word (需核验)."""
    return (failed == 0) & ((unknown & F.UNVERIFIED) == 0)


def failed_keys(bits: int) -> list[str]:
    return [key for key in F.FAILED_KEYS if bits & int(FAIL[key])]


def unknown_keys(bits: int) -> list[str]:
    return [key for key in F.UNKNOWN_KEYS if bits & int(UNKNOWN[key])]


# --- scoring -------------------------------------------------------------------------


def _popcount(x: np.ndarray) -> np.ndarray:
    return np.bitwise_count(x).astype(np.float64)


def pair_features(
    products: ProductTable,
    facts: FactTable,
    rows: np.ndarray,
    cols: np.ndarray,
    ri: np.ndarray,
    ci: np.ndarray,
    unknown: np.ndarray | None,
    policy_weights: np.ndarray,
    *,
    unknown_count: np.ndarray | None = None,
    local: np.ndarray | None = None,
) -> list[np.ndarray]:
    """The FEATURE_NAMES for the pairs (rows[ri[i]], cols[ci[i]]) as 1-D arrays, all in
    [0, 1] except unknown_count. Policy features are pre-multiplied by the
    region's weights (`policy_weights`: (K,) or one row per pair). The batch
    passes the unknown-fact count and the local-branch flag per pair ready
    made (`unknown_count`, `local`) instead of bitmasks and a region lookup."""
    P = products
    prow = rows[ri]
    pcol = cols[ci]
    with np.errstate(divide="ignore", invalid="ignore"):
        amax = P.amount_max[pcol]
        ratio = facts.amount[prow] / np.where(amax == F.I64_MAX, np.nan, amax.astype(np.float64))
        ratio[~facts.has_amount[prow]] = np.nan
        fit_amount = np.nan_to_num(np.clip(ratio, 0, 1), nan=0.5)

        tmin = P.term_min[pcol]
        tmax = P.term_max[pcol]
        bounded = (tmin != F.I64_MIN) & (tmax != F.I64_MAX) & facts.has_term[prow]
        mid = (tmin.astype(np.float64) + tmax) / 2
        span = tmax.astype(np.float64) - tmin + 1
        closeness = 1 - np.clip(np.abs(facts.term[prow] - mid) / span, 0, 1)
        fit_term = np.where(bounded, closeness, 0.5)

    # The rate this enterprise would get: the product's lowest rate adjusted by
    # its 碳效等级 (finance.carbon; never below 0; unknown grade: no change).
    rate_min = F.adjusted_rate_min(
        P.rate_min[pcol], P.carbon_rate_adj[pcol, F.grade_column(facts.carbon_grade[prow])]
    )
    fit_rate = np.where(
        rate_min == F.I64_MIN, 0.5, 1 - np.clip(rate_min.astype(np.float64) / 100_000, 0, 1)
    )
    fit_collateral = np.where(P.collateral_required[pcol], 0.4, 1.0)

    weights = np.asarray(policy_weights, dtype=np.float64)
    weights = np.broadcast_to(weights, (len(prow), len(F.POLICY_KEYS)))
    total = np.maximum(weights.sum(axis=1), 1e-12)
    ent = facts.policy[prow]
    prod = P.policy[pcol]
    policy = [
        ent[:, k] * weights[:, k] / total * (1 + prod[:, k]) / 2 for k in range(len(F.POLICY_KEYS))
    ]

    approval = P.approval_rate[pcol, facts.size_index[prow]]
    deadline = P.deadline_rate[pcol]
    if local is None:
        regions, inverse = F.unique_inverse(facts.region[rows])
        local = P.local(list(regions), cols)[inverse[ri], ci]
    local = local.astype(np.float64)
    unknown_count = (
        _popcount(unknown) if unknown_count is None else unknown_count.astype(np.float64)
    )
    need = P.holdings[pcol]
    holding = ((need & facts.holdings[prow]) != 0).astype(np.float64)
    return [
        fit_amount,
        fit_term,
        fit_rate,
        fit_collateral,
        *policy,
        approval,
        deadline,
        local,
        unknown_count,
        holding,
    ]


def score(
    feats: Sequence[np.ndarray],
    weights: np.ndarray = DEFAULT_WEIGHTS,
    probability: np.ndarray | None = None,
) -> np.ndarray:
    """Combined score per (eligible or possible) pair. Summed in a fixed order so
    the same pair scores bit-identically in any block shape."""
    w = np.asarray(weights, dtype=np.float64)
    fit = (feats[0] + feats[1] + feats[2] + feats[3]) / 4
    policy = feats[4]
    for f in feats[5 : 4 + len(F.POLICY_KEYS)]:
        policy = policy + f
    n = 4 + len(F.POLICY_KEYS)
    service = (feats[n] + feats[n + 1] + feats[n + 2]) / 3
    prob = 0.5 if probability is None else probability
    total = w[0] * fit + w[1] * policy + w[2] * service + w[3] * prob - w[4] * feats[n + 3]
    if len(feats) > n + 4:
        total = total + HOLDING_WEIGHT * feats[n + 4]
    return total


def top_reasons(
    feats: Sequence[np.ndarray],
    i: int,
    weights: np.ndarray = DEFAULT_WEIGHTS,
    probability: float | None = None,
    n: int = 3,
) -> list[str]:
    """The largest contributions to pair i's score, as FEATURE_LABELS keys."""
    w = np.asarray(weights, dtype=np.float64)
    k = len(F.POLICY_KEYS)
    group_weight = [w[0] / 4] * 4 + [w[1]] * k + [w[2] / 3] * 3
    contributions = [
        (group_weight[j] * float(feats[j][i]), name)
        for j, name in enumerate(FEATURE_NAMES[: 7 + k])
    ]
    if len(feats) > 8 + k:
        contributions.append((HOLDING_WEIGHT * float(feats[8 + k][i]), "holding"))
    if probability is not None:
        contributions.append((w[3] * probability, "model"))
    contributions.sort(key=lambda item: (-item[0], item[1]))
    return [name for value, name in contributions[:n] if value > 0]


# --- top-k -----------------------------------------------------------------------------


def top_k(scores: np.ndarray, ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Best k per row by (score desc, id asc); ids must be increasing along columns.

    Returns (column indices, scores), both (rows, k); -1 / -inf where a row has
    fewer than k candidates with a finite score. argpartition finds the k-th
    value; ties at that value are taken in column (= id) order, never by chance."""
    rows, width = scores.shape
    k_eff = min(k, width)
    out_idx = np.full((rows, k), -1, dtype=np.int64)
    out_score = np.full((rows, k), -np.inf)
    if k_eff == 0 or rows == 0:
        return out_idx, out_score
    neg = -scores
    kth = -np.partition(neg, k_eff - 1, axis=1)[:, k_eff - 1]
    above = scores > kth[:, None]
    tie = scores == kth[:, None]
    room = k_eff - above.sum(axis=1)
    chosen = above | (tie & (np.cumsum(tie, axis=1) <= room[:, None]))
    _, c = np.nonzero(chosen)
    c = c.reshape(rows, k_eff)
    s = np.take_along_axis(scores, c, axis=1)
    order = np.lexsort((c, -s), axis=-1)
    c = np.take_along_axis(c, order, axis=1)
    s = np.take_along_axis(s, order, axis=1)
    valid = np.isfinite(s)
    out_idx[:, :k_eff] = np.where(valid, c, -1)
    out_score[:, :k_eff] = np.where(valid, s, -np.inf)
    return out_idx, out_score


# --- running it ------------------------------------------------------------------------


ProbabilityFn = Callable[[list[np.ndarray]], np.ndarray]


@dataclass
class Ranking:
    product_index: np.ndarray  # (rows, k) int64 into the product table, -1 = none
    scores: np.ndarray  # (rows, k) float64


def rank_block(
    products: ProductTable,
    facts: FactTable,
    rows: np.ndarray,
    cols: np.ndarray,
    k: int,
    *,
    weights: np.ndarray = DEFAULT_WEIGHTS,
    policy_weights: np.ndarray = DEFAULT_POLICY_WEIGHTS,
    probability: ProbabilityFn | None = None,
) -> Ranking:
    failed, unknown = eligibility(products, facts, rows, cols)
    ri, ci = np.nonzero(meets(failed, unknown))
    pw = np.asarray(policy_weights, dtype=np.float64)
    pw = pw[rows[ri]] if pw.ndim == 2 else pw
    feats = pair_features(products, facts, rows, cols, ri, ci, unknown[ri, ci], pw)
    prob = probability(feats) if probability is not None and len(ri) else None
    s = np.full(failed.shape, -np.inf)
    s[ri, ci] = score(feats, weights, prob)
    idx, best = top_k(s, products.ids[cols], k)
    return Ranking(np.where(idx >= 0, cols[np.maximum(idx, 0)], -1), best)


def rank_demands(
    products: ProductTable,
    facts: FactTable,
    cols: np.ndarray,
    k: int = 20,
    *,
    weights: np.ndarray = DEFAULT_WEIGHTS,
    policy_weights: np.ndarray = DEFAULT_POLICY_WEIGHTS,
    probability: ProbabilityFn | None = None,
    max_pairs: int = 1_000_000,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The other direction: for one institution's products (`cols`), the k demands
    (or, with a facts table of listed enterprises without demands, the outreach
    list) it serves best. Returns (row indices, scores, best column per row),
    ordered by score desc then demand id asc. Only that institution's columns are
    ever read, so no other institution's offers or scores can leak in."""
    cols = np.asarray(cols)
    n = len(facts)
    best = np.full(n, -np.inf)
    best_col = np.full(n, -1, dtype=np.int64)
    if len(cols):
        step = max(1, max_pairs // len(cols))
        for i in range(0, n, step):
            rows = np.arange(i, min(n, i + step))
            ranking = rank_block(
                products,
                facts,
                rows,
                cols,
                1,
                weights=weights,
                policy_weights=policy_weights,
                probability=probability,
            )
            best[rows] = ranking.scores[:, 0]
            best_col[rows] = ranking.product_index[:, 0]
    order = np.argsort(facts.ids, kind="stable")
    idx, s = top_k(best[order][None, :], facts.ids[order], k)
    rows = np.where(idx[0] >= 0, order[np.maximum(idx[0], 0)], -1)
    return rows, s[0], np.where(rows >= 0, best_col[np.maximum(rows, 0)], -1)
