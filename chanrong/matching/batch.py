"""The full batch: top k products for every demand, on bitsets.

`engine.rank_block` evaluates every rule on a dense (rows x products) matrix,
which is right for one demand but spends most of a 200,000 x 20,000 batch on
pairs that fail (about 97 % of them). Here each rule family is turned, once,
into a table of packed bitsets over the products ("which products this value
does not fail"), indexed by the fact rows' distinct values:

* region and industry: one bitset per distinct code;
* size / tax grade / age / blacklist, qualifications / lists, kind /
  collateral, chain / supply-chain holdings: one per distinct combination
  (`engine.key_a/b/c/d`), built by the very functions `engine.eligibility`
  uses (`engine.family_a/b/c/d`);
* amounts, terms, rates and revenue: thresholds, so one cumulative bitset per
  distinct product value, picked for a row by binary search (exact integer
  comparisons, the same as the dense path's).

A row's possible products are then the AND of a dozen gathered bitset rows
(a few hundred 64-bit words each), and only the set bits — the possible
pairs — are expanded, featured (`engine.pair_features`), scored
(`engine.score`) and ranked. Products are laid out in the bitsets sorted by
region, so a row's words are mostly zero and skipped. The result is
identical to `rank_block` over all products (tests hold them equal): same
rules, same arithmetic per pair, ties by product id.

Memory: the tables are (distinct values x products / 8) bytes each, plus a
(distinct regions x products) byte table for "本地有服务网点" and one byte
per (distinct key x product) for the unknown-fact counts.
"""

from __future__ import annotations

import numpy as np

from . import engine
from . import features as F
from .features import FactTable, ProductTable


def _pack(ok: np.ndarray, perm: np.ndarray) -> np.ndarray:
    """(n, P) bool → (n, W) uint64 bitsets, columns in `perm` order."""
    ok = np.ascontiguousarray(ok[:, perm])
    n, p = ok.shape
    words = (p + 63) // 64
    packed = np.packbits(ok, axis=1, bitorder="little")
    out = np.zeros((n, words * 8), dtype=np.uint8)
    out[:, : packed.shape[1]] = packed
    return out.view(np.uint64)


def _threshold_tables(values: np.ndarray, perm: np.ndarray, ok_below: bool):
    """Cumulative bitsets for a rule "row value x fails product value y when
    x < y" (ok_below=True: ok iff y <= x) or "when x > y" (ok iff y >= x).
    Returns (sorted distinct values, tables); a row's table index comes from
    `_threshold_index`."""
    uniq, rank = np.unique(values, return_inverse=True)
    rank = rank.reshape(-1)
    m = len(uniq)
    # ok_below: table j = products with rank < j (j = number of values <= x).
    # otherwise: table j = products with rank >= j (j = number of values < x).
    parts = []
    for start in range(0, m + 1, 256):  # bounded temporaries however many values
        j = np.arange(start, min(m + 1, start + 256))[:, None]
        ok = (rank[None, :] < j) if ok_below else (rank[None, :] >= j)
        parts.append(_pack(ok, perm))
    return uniq, np.concatenate(parts)


def _threshold_index(uniq: np.ndarray, x: np.ndarray, ok_below: bool) -> np.ndarray:
    return np.searchsorted(uniq, x, side="right" if ok_below else "left")


class Plan:
    """Everything the batch needs that does not depend on the block of rows."""

    def __init__(self, products: ProductTable, facts: FactTable):
        P = products
        n_p = len(P)
        self.products, self.facts = products, facts
        # Bit order: products grouped by region condition, then kind, then id.
        region_key = np.array([p[0] if p else "" for p in P.regions], dtype=object)
        _u, region_code = np.unique(region_key, return_inverse=True)
        self.perm = np.lexsort((P.ids, P.kind_answers, region_code.reshape(-1))).astype(np.int64)
        self.words = (n_p + 63) // 64
        perm = self.perm
        rows = np.arange(len(facts))
        tables, index, counts, count_index = [], [], [], []

        # Region: per distinct code.
        regions, region_inv = F.unique_inverse(facts.region)
        region_inv = region_inv.reshape(-1)
        tables.append(_pack(P.region_ok(list(regions)), perm))
        index.append(region_inv)
        self.local = P.local(list(regions)) if n_p else np.zeros((len(regions), 0), dtype=bool)
        self.region_inv = region_inv

        # Industry.
        industries, industry_inv = F.unique_inverse(facts.industry)
        industry_inv = industry_inv.reshape(-1)
        ind_fail = P.industry_fail(list(industries))
        tables.append(_pack(ind_fail == 0, perm))
        index.append(industry_inv)
        has_industry = P.has_industry
        counts.append(
            np.array([has_industry & (not code) for code in industries], dtype=np.uint8).reshape(
                len(industries), n_p
            )
        )
        count_index.append(industry_inv)

        # Families a, b, c: one representative row per distinct key.
        min_years = P.min_years
        lo = int(min_years.min(initial=0)) - 1
        hi = int(min_years.max(initial=0))
        families = (
            (
                engine.key_a(facts, rows, lo, hi),
                engine.family_a,
                (P.sizes, P.min_tax_rank, min_years, min_years != 0, P.exclude_blacklisted),
            ),
            (engine.key_b(facts, rows), engine.family_b, (P.qualifications, P.lists)),
            (
                engine.key_c(facts, rows),
                engine.family_c,
                (P.kind_answers, P.collateral_required, P.collateral_options),
            ),
            (
                engine.key_d(facts, rows),
                engine.family_d,
                (P.chain, P.holdings, P.max_carbon_grade),
            ),
        )
        for keys, build, cols in families:
            uniq, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
            ok = np.empty((len(uniq), n_p), dtype=bool)
            unknown = np.empty((len(uniq), n_p), dtype=np.uint8)
            for u, row in enumerate(first):
                fail, unk = build(facts, int(row), cols)
                ok[u] = engine.meets(fail, unk)
                unknown[u] = np.bitwise_count(unk)
            tables.append(_pack(ok, perm))
            index.append(inverse.reshape(-1))
            counts.append(unknown)
            count_index.append(inverse.reshape(-1))

        # Thresholds, with the dense path's sentinels for absent facts.
        has_rev = P.min_revenue != 0
        min_rev = np.where(has_rev, P.min_revenue, F.I64_MIN)
        revenue = np.where(facts.revenue_known, facts.revenue, F.I64_MAX)
        amount_hi = np.where(facts.has_amount, facts.amount, F.I64_MIN)
        amount_lo = np.where(facts.has_amount, facts.amount, F.I64_MAX)
        term_hi = np.where(facts.has_term, facts.term, F.I64_MIN)
        term_lo = np.where(facts.has_term, facts.term, F.I64_MAX)
        rate = np.where(facts.has_rate, facts.rate_max, F.I64_MAX)
        for product_values, row_values, ok_below in (
            (min_rev, revenue, True),  # fails when revenue < min_revenue
            (P.amount_max, amount_hi, False),  # fails when amount > amount_max
            (P.amount_min, amount_lo, True),  # fails when amount < amount_min
            (P.term_max, term_hi, False),
            (P.term_min, term_lo, True),
        ):
            uniq, table = _threshold_tables(product_values, perm, ok_below)
            tables.append(table)
            index.append(_threshold_index(uniq, row_values, ok_below))
        # The rate fails when rate_max < the rate this row's enterprise would
        # get (rate_min adjusted by its 碳效等级): one set of threshold tables
        # per grade present, stacked, a row indexing into its grade's part.
        grade_col = F.grade_column(facts.carbon_grade)
        rate_tables, rate_index, offset = [], np.zeros(len(facts), dtype=np.int64), 0
        for g in np.unique(grade_col):
            at = grade_col == g
            uniq, table = _threshold_tables(
                F.adjusted_rate_min(P.rate_min, P.carbon_rate_adj[:, g]), perm, True
            )
            rate_tables.append(table)
            rate_index[at] = offset + _threshold_index(uniq, rate[at], True)
            offset += len(table)
        if rate_tables:
            tables.append(np.concatenate(rate_tables))
            index.append(rate_index)
        # Unknown revenue counts where the product asks for it.
        counts.append(np.stack([np.zeros(n_p, dtype=np.uint8), has_rev.astype(np.uint8)]))
        count_index.append((~facts.revenue_known).astype(np.int64))
        # A declared (unverified) revenue does not meet any revenue floor (需核验).
        tables.append(_pack(np.stack([np.ones(n_p, dtype=bool), ~has_rev]), perm))
        index.append((facts.revenue_known & ~facts.revenue_verified).astype(np.int64))

        self.tables, self.index = tables, index
        self.counts, self.count_index = counts, count_index

        # Per-product and per-row parts of engine.pair_features, computed once
        # by the same expressions (so every pair's value is bit-identical).
        self.amount_max_f = np.where(
            P.amount_max == F.I64_MAX, np.nan, P.amount_max.astype(np.float64)
        )
        self.amount_f = facts.amount.astype(np.float64)
        self.term_bounded = (P.term_min != F.I64_MIN) & (P.term_max != F.I64_MAX)
        self.term_mid = (P.term_min.astype(np.float64) + P.term_max) / 2
        self.term_span = P.term_max.astype(np.float64) - P.term_min + 1
        self.term_f = facts.term.astype(np.float64)
        # fit_rate by (product, grade column), flattened: pair_features' rate
        # is the one adjusted by the enterprise's 碳效等级.
        rate_min = F.adjusted_rate_min(P.rate_min[:, None], P.carbon_rate_adj)
        self.fit_rate = np.ascontiguousarray(
            np.where(
                rate_min == F.I64_MIN, 0.5, 1 - np.clip(rate_min.astype(np.float64) / 100_000, 0, 1)
            )
        ).ravel()
        self.fit_rate_width = rate_min.shape[1]
        self.grade_col = grade_col
        self.fit_collateral = np.where(P.collateral_required, 0.4, 1.0)
        self.policy_product = [
            np.ascontiguousarray(1 + P.policy[:, k]) for k in range(len(F.POLICY_KEYS))
        ]
        self.approval = np.ascontiguousarray(P.approval_rate, dtype=np.float64).ravel()
        self.approval_width = P.approval_rate.shape[1]
        self.local_flat = np.ascontiguousarray(self.local).ravel()
        self.n_products = n_p

    def possible(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ri, ci): the pairs (rows[ri], product ci) with no failed condition,
        ordered by row."""
        ok = self.tables[0][self.index[0][rows]]
        for table, index in zip(self.tables[1:], self.index[1:], strict=True):
            ok &= table[index[rows]]
        flat = ok.ravel()
        words = np.flatnonzero(flat)
        if not len(words):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        bits = np.flatnonzero(np.unpackbits(flat[words].view(np.uint8), bitorder="little"))
        word = words[bits >> 6]
        ri = word // self.words
        ci = self.perm[(word % self.words) * 64 + (bits & 63)]
        return ri, ci

    def unknown_count(self, rows: np.ndarray, ri: np.ndarray, ci: np.ndarray) -> np.ndarray:
        total = np.zeros(len(ri), dtype=np.uint8)
        for table, index in zip(self.counts, self.count_index, strict=True):
            flat = index[rows][ri] * self.n_products + ci
            total += table.ravel().take(flat)
        return total

    def features(
        self, rows: np.ndarray, ri: np.ndarray, ci: np.ndarray, policy_weights: np.ndarray
    ) -> list[np.ndarray]:
        """engine.pair_features for the pairs (rows[ri], ci), from the
        precomputed parts: same values, bit for bit (tests compare)."""
        facts = self.facts
        n_keys = len(F.POLICY_KEYS)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = self.amount_f[rows][ri] / self.amount_max_f.take(ci)
            has_amount = facts.has_amount[rows]
            if not has_amount.all():
                ratio[~has_amount[ri]] = np.nan
            fit_amount = np.nan_to_num(np.clip(ratio, 0, 1), nan=0.5)
            bounded = self.term_bounded.take(ci) & facts.has_term[rows][ri]
            closeness = 1 - np.clip(
                np.abs(self.term_f[rows][ri] - self.term_mid.take(ci)) / self.term_span.take(ci),
                0,
                1,
            )
            fit_term = np.where(bounded, closeness, 0.5)
        weights = np.asarray(policy_weights, dtype=np.float64)
        weights = (
            weights[rows] if weights.ndim == 2 else np.broadcast_to(weights, (len(rows), n_keys))
        )
        total = np.maximum(weights.sum(axis=1), 1e-12)
        ent = facts.policy[rows]
        policy = [
            (ent[:, k] * weights[:, k] / total)[ri] * self.policy_product[k].take(ci) / 2
            for k in range(n_keys)
        ]
        size = facts.size_index[rows].astype(np.int64)[ri]
        approval = self.approval.take(ci * self.approval_width + size)
        local = self.local_flat.take(self.region_inv[rows][ri] * self.n_products + ci)
        return [
            fit_amount,
            fit_term,
            self.fit_rate.take(ci * self.fit_rate_width + self.grade_col[rows][ri]),
            self.fit_collateral.take(ci),
            *policy,
            approval,
            self.products.deadline_rate.take(ci),
            local.astype(np.float64),
            self.unknown_count(rows, ri, ci).astype(np.float64),
            ((self.products.holdings.take(ci) & facts.holdings[rows][ri]) != 0).astype(np.float64),
        ]


def top_k_pairs(
    n_rows: int, ri: np.ndarray, scores: np.ndarray, ids: np.ndarray, cols: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Best k per row by (score desc, id asc) from a list of pairs ordered by
    row (`ids`: product id of each pair, `cols`: its product index); the same
    result as `engine.top_k` on the dense matrix."""
    out_idx = np.full((n_rows, k), -1, dtype=np.int64)
    out_score = np.full((n_rows, k), -np.inf)
    if not len(ri) or k == 0:
        return out_idx, out_score
    counts = np.bincount(ri, minlength=n_rows)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    pos = np.arange(len(ri)) - starts[ri]
    width = int(counts.max())
    S = np.full((n_rows, width), -np.inf)
    S[ri, pos] = scores
    k_eff = min(k, width)
    if width > k_eff:
        part = np.argpartition(-S, k_eff - 1, axis=1)[:, :k_eff]
        s = np.take_along_axis(S, part, axis=1)
        kth = s.min(axis=1)
        # Rows where a value equal to the k-th was left out: take the ties by id.
        n_ge = (kth[:, None] <= S).sum(axis=1)
        for r in np.flatnonzero((n_ge > k_eff) & np.isfinite(kth)):
            above = np.flatnonzero(S[r] > kth[r])
            tie = np.flatnonzero(S[r] == kth[r])
            tie = tie[np.argsort(ids[starts[r] + tie], kind="stable")][: k_eff - len(above)]
            part[r] = np.concatenate((above, tie))
    else:
        part = np.broadcast_to(np.arange(width), (n_rows, width))
    s = np.take_along_axis(S, part, axis=1)
    valid = np.isfinite(s)
    pair = np.where(valid, starts[:, None] + part, 0)
    i = np.where(valid, ids[pair], np.iinfo(np.int64).max)
    order = np.lexsort((i, -s), axis=-1)
    s = np.take_along_axis(s, order, axis=1)
    pair = np.take_along_axis(pair, order, axis=1)
    valid = np.isfinite(s)
    out_idx[:, :k_eff] = np.where(valid, cols[pair], -1)
    out_score[:, :k_eff] = np.where(valid, s, -np.inf)
    return out_idx, out_score


def rank_rows(
    plan: Plan,
    rows: np.ndarray,
    k: int,
    *,
    weights: np.ndarray,
    policy_weights: np.ndarray,
    probability,
) -> tuple[np.ndarray, np.ndarray]:
    """Top k of `rows` against every product: (product index, score), each (len(rows), k)."""
    P = plan.products
    ri, ci = plan.possible(rows)
    if not len(ri):
        return np.full((len(rows), k), -1, dtype=np.int64), np.full((len(rows), k), -np.inf)
    feats = plan.features(rows, ri, ci, policy_weights)
    prob = probability(feats) if probability is not None else None
    scores = engine.score(feats, weights, prob)
    return top_k_pairs(len(rows), ri, scores, P.ids[ci], ci, k)


def plan_cols(plan: Plan) -> np.ndarray:
    cols = getattr(plan, "_cols", None)
    if cols is None:
        cols = plan._cols = np.arange(len(plan.products), dtype=np.int64)
    return cols


_SHARED: list = []


def _init_worker(shared: list) -> None:
    from .pool import start_worker

    start_worker()
    _SHARED[:] = shared


def _worker(i: int):
    plan, blocks, options, workers = _SHARED
    out = []
    for start, end in blocks[i::workers]:
        rows = np.arange(start, end, dtype=np.int64)
        out.append((start, end, *rank_rows(plan, rows, **options)))
    return out


def batch_top_k(
    products: ProductTable,
    facts: FactTable,
    k: int = 10,
    *,
    weights: np.ndarray = engine.DEFAULT_WEIGHTS,
    policy_weights: np.ndarray = engine.DEFAULT_POLICY_WEIGHTS,
    probability=None,
    max_pairs: int | None = None,
    block_rows: int | None = None,
    workers: int = 1,
) -> engine.Ranking:
    """Top k products for every demand: the same result as `engine.rank_block`
    over all products, computed on bitsets of possible pairs.

    Rows go in blocks of `block_rows` (default 256; or `max_pairs` divided by
    the number of products). `policy_weights` is (K,) or (len(facts), K).
    With workers > 1 the blocks are shared among worker processes; results
    are identical (each demand is ranked by the same arithmetic whichever
    process runs it)."""
    if block_rows is None:
        block_rows = 256 if max_pairs is None else max(1, max_pairs // max(1, len(products)))
    n = len(facts)
    out_idx = np.full((n, k), -1, dtype=np.int64)
    out_score = np.full((n, k), -np.inf)
    if n == 0 or len(products) == 0:
        return engine.Ranking(out_idx, out_score)
    plan = Plan(products, facts)
    options = dict(k=k, weights=weights, policy_weights=policy_weights, probability=probability)
    blocks = [(s, min(n, s + block_rows)) for s in range(0, n, block_rows)]
    if workers > 1 and len(blocks) > 1:
        # Processes from a forkserver, not forked from this (threaded)
        # process: see pool.py. Each receives the plan once, pickled.
        from . import pool as processes

        shared = [plan, blocks, options, workers]
        with processes.context().Pool(workers, _init_worker, (shared,)) as pool:
            parts = [p for part in pool.map(_worker, range(workers)) for p in part]
            pool.close()
            pool.join()  # its processes exit normally, running their finalizers
    else:
        parts = []
        for start, end in blocks:
            rows = np.arange(start, end, dtype=np.int64)
            parts.append((start, end, *rank_rows(plan, rows, **options)))
    for start, end, idx, best in parts:
        out_idx[start:end] = idx
        out_score[start:end] = best
    return engine.Ranking(out_idx, out_score)
