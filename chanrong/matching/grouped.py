"""Province-scale ranking: top k products for a million enterprises by groups.

`batch.batch_top_k` scores every possible (row, product) pair. An enterprise
without a demand fails few rules (no amount, term, rate, kind or collateral to
compare), so at 浙江's scale — 1.4 million enterprises on the 推荐清单 over
20,000 live products — that is billions of pairs. But a pair's score reads only
a few of the row's facts, and those take few values:

* the score key (`Grouped.score_group`): the row's "本地有服务网点" class
  (regions with the same local-branch row), 碳效等级 column, size, policy
  categories, the region's policy weights, supply-chain holdings, which facts
  are unknown (the "需补充" count), and the demand's amount and term (none
  here);
* the eligibility key (`Grouped.group`): the score key and the row's index
  into every bitset table of `batch.Plan` (region, industry, the rule
  families, the thresholds).

Rows with the same score key get, for every product they may take, the very
same score: computed by `batch.Plan.features`' expressions on a dense block
(row part × product part, element by element) or, without a demand or a
model, from `engine.score`'s five weighted parts computed once per distinct
value and added in its order — bit for bit the same numbers. So per score
group the products (a superset of those its rows may take: the region rule
of its local class) are scored once and ordered by (score desc, id asc), and
the first 8 × `candidates` kept; each eligibility group checks the first
`candidates` against its bitsets, then (while fewer than k pass and the
list goes on) three times as many, then the whole list. The first k it may
take are its top k — exactly the first k of its own possible products in
that order, which is what `batch.top_k_pairs` picks. A group that still
finds fewer than k is ranked by `batch.rank_rows` (the existing path).
Results are then expanded to the rows. Tests hold the result equal to
`batch_top_k` and `engine.rank_demands` (tests/matching/test_grouped.py);
bench/province_ranking.py measures it.
"""

from __future__ import annotations

import time

import numpy as np

from . import batch, engine
from . import features as F
from .features import FactTable, ProductTable


def _dense_ids(values: np.ndarray) -> tuple[np.ndarray, int]:
    """(rank of each value among the distinct values, how many): by a lookup
    table when the integers span a small range (no sort), else np.unique."""
    if values.dtype.kind in "iub" and len(values):
        lo, hi = int(values.min()), int(values.max())
        if hi - lo < 1 << 24:
            shifted = values.astype(np.int64) - lo
            present = np.zeros(hi - lo + 1, dtype=bool)
            present[shifted] = True
            rank = np.cumsum(present) - 1
            return rank[shifted], int(rank[-1] + 1)
    uniq, inverse = np.unique(values, return_inverse=True)
    return inverse.reshape(-1).astype(np.int64), len(uniq)


def _row_ids(table: np.ndarray) -> np.ndarray:
    """Id of each row of a 2-D array among its distinct rows."""
    table = np.ascontiguousarray(table)
    if table.ndim == 1 or table.shape[1] == 0:
        return np.zeros(len(table), dtype=np.int64)
    view = table.view(np.dtype((np.void, table.dtype.itemsize * table.shape[1])))
    return _dense_ids(view.reshape(-1))[0]


def combine(columns: list[np.ndarray]) -> np.ndarray:
    """Dense group id (0 …) of each row for the tuple of integer `columns`."""
    key = np.zeros(len(columns[0]), dtype=np.int64)
    span = 1
    for column in columns:
        ids, n = _dense_ids(column)
        if span * n >= 2**62:
            key, span = _dense_ids(key)
        key = key * n + ids
        span *= n
    return _dense_ids(key)[0]


def unknown_flags(facts: FactTable) -> list[tuple[np.ndarray, str]]:
    """(row is unknown, product column name) for each fact whose absence adds
    one to the "需补充" count when the product asks for it (engine.family_*).
    The unverified (需核验) bits are left out: a pair carrying one is never
    possible, so it is never scored."""
    return [
        (facts.industry == "", "has_industry"),
        (facts.size == 0, "sizes"),
        (facts.tax_rank < 0, "min_tax_rank"),
        (~facts.age_known, "min_years"),
        (facts.blacklisted < 0, "exclude_blacklisted"),
        (~facts.quals_known, "qualifications"),
        (~facts.lists_known, "lists"),
        (facts.has_demand & ~facts.collateral_known, "collateral_required"),
        (facts.chain_key < 0, "chain"),
        (~facts.holdings_known, "holdings"),
        (facts.carbon_grade < 0, "max_carbon_grade"),
        (~facts.revenue_known, "min_revenue"),
    ]


def _asks(products: ProductTable, name: str) -> np.ndarray:
    """Whether each product has the condition `name` (see unknown_flags)."""
    P = products
    return {
        "has_industry": lambda: P.has_industry,
        "sizes": lambda: P.sizes != 0,
        "min_tax_rank": lambda: P.min_tax_rank >= 0,
        "min_years": lambda: P.min_years != 0,
        "exclude_blacklisted": lambda: P.exclude_blacklisted.astype(bool),
        "qualifications": lambda: P.qualifications != 0,
        "lists": lambda: P.lists != 0,
        "collateral_required": lambda: P.collateral_required.astype(bool),
        "chain": lambda: P.chain != 0,
        "holdings": lambda: P.holdings != 0,
        "max_carbon_grade": lambda: P.max_carbon_grade >= 0,
        "min_revenue": lambda: P.min_revenue != 0,
    }[name]()


class Grouped:
    """The groups of a fact table, built once; rank any product subset with
    `top_k`, or institutions' outreach lists with `rank_demands`."""

    def __init__(
        self,
        products: ProductTable,
        facts: FactTable,
        *,
        policy_weights: np.ndarray = engine.DEFAULT_POLICY_WEIGHTS,
        plan: batch.Plan | None = None,
        threads: int = 1,
    ):
        self.products, self.facts = products, facts
        self.threads = threads
        self.plan = plan = plan or batch.Plan(products, facts)
        n = len(facts)
        weights = np.asarray(policy_weights, dtype=np.float64)
        self.policy_weights = weights
        weights_id = _row_ids(weights) if weights.ndim == 2 else np.zeros(n, dtype=np.int64)
        # The "需补充" count per (unknown-fact pattern, product).
        flags = unknown_flags(facts)
        pattern_bits = np.zeros(n, dtype=np.int64)
        for b, (unknown, _name) in enumerate(flags):
            pattern_bits |= unknown.astype(np.int64) << b
        patterns, self.pattern = np.unique(pattern_bits, return_inverse=True)
        self.pattern = self.pattern.reshape(-1)
        asks = np.stack([_asks(products, name) for _u, name in flags]).astype(np.uint8)
        self.need_count = (
            np.stack(
                [
                    asks[[(int(p) >> b) & 1 == 1 for b in range(len(flags))]].sum(axis=0)
                    for p in patterns
                ]
            )
            .astype(np.uint8)
            .reshape(len(patterns), len(products))
        )
        local_class = _row_ids(np.packbits(plan.local, axis=1)) if plan.local.size else None
        self.local_of_region = (
            local_class if local_class is not None else np.zeros(len(plan.local), dtype=np.int64)
        )
        self.policy_class = combine([_row_ids(facts.policy), weights_id])
        self.service_class = combine(
            [facts.size_index.astype(np.int64), self.local_of_region[plan.region_inv]]
        )
        amount = np.where(facts.has_amount, facts.amount, 0)
        term = np.where(facts.has_term, facts.term, 0)
        self.score_group = combine(
            [
                self.local_of_region[plan.region_inv],
                plan.grade_col,
                facts.size_index.astype(np.int64),
                _row_ids(facts.policy),
                weights_id,
                facts.holdings.astype(np.int64),
                self.pattern,
                facts.has_amount.astype(np.int64),
                amount,
                facts.has_term.astype(np.int64),
                term,
            ]
        )
        self.group = combine([self.score_group, *plan.index])
        n_groups = int(self.group.max()) + 1 if n else 0
        self.rep = np.zeros(n_groups, dtype=np.int64)
        self.rep[self.group[::-1]] = np.arange(n)[::-1]  # first row of each group
        n_score = int(self.score_group.max()) + 1 if n else 0
        self.score_rep = np.zeros(n_score, dtype=np.int64)
        self.score_rep[self.score_group[::-1]] = np.arange(n)[::-1]
        self.group_score = self.score_group[self.rep]
        # Products passing the region rule for some region of each local
        # class (a superset of those its score groups' rows may take: enough,
        # since every group then checks its own bitsets).
        local_of_row = self.local_of_region[plan.region_inv]
        n_local = int(self.local_of_region.max()) + 1 if len(self.local_of_region) else 0
        by_local = np.zeros((n_local, plan.tables[0].shape[1]), dtype=np.uint64)
        for region, local in enumerate(self.local_of_region):
            by_local[local] |= plan.tables[0][region]
        self.region_union = by_local[local_of_row[self.score_rep]]
        # Table rows that let every product through (skipped when checking).
        tail = len(products) % 64
        last = np.uint64((1 << tail) - 1) if tail else np.uint64(2**64 - 1)
        self.full_rows = [
            (table[:, :-1] == np.uint64(2**64 - 1)).all(axis=1) & (table[:, -1] == last)
            if table.shape[1]
            else np.ones(len(table), dtype=bool)
            for table in plan.tables
        ]
        self.inverse_perm = np.empty_like(plan.perm)
        self.inverse_perm[plan.perm] = np.arange(len(plan.perm))

    def _map(self, fn, items) -> list:
        """fn over items on `self.threads` threads: NumPy lets go of the GIL
        in the large array operations that make up each item, and every item
        writes its own rows of the output, so the order does not matter."""
        items = list(items)
        if self.threads <= 1 or len(items) <= 1:
            return [fn(i) for i in items]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(self.threads) as pool:
            return list(pool.map(fn, items))

    @property
    def n_groups(self) -> int:
        return len(self.rep)

    @property
    def n_score_groups(self) -> int:
        return len(self.score_rep)

    # --- scoring a block of score groups against product columns ----------------------

    def _scores(self, groups: np.ndarray, cols: np.ndarray, weights, probability) -> np.ndarray:
        """(len(groups), len(cols)) scores, -inf where no row of the group
        passes the product's region rule. Same expressions as Plan.features."""
        plan, facts, P = self.plan, self.facts, self.products
        rows = self.score_rep[groups]
        no_demand = not (facts.has_amount[rows].any() or facts.has_term[rows].any())
        if probability is None and no_demand:
            return self._masked(groups, cols, self._scores_by_parts(rows, cols, weights))
        n_keys = len(F.POLICY_KEYS)
        has_amount, has_term = facts.has_amount[rows], facts.has_term[rows]
        # Without an amount (term) the feature is 0.5 whatever the product:
        # the same value the expressions below give, without a dense block.
        fit_amount = fit_term = np.float64(0.5)
        with np.errstate(divide="ignore", invalid="ignore"):
            if has_amount.any():
                ratio = plan.amount_f[rows][:, None] / plan.amount_max_f[cols][None, :]
                if not has_amount.all():
                    ratio[~has_amount] = np.nan
                fit_amount = np.nan_to_num(np.clip(ratio, 0, 1), nan=0.5)
            if has_term.any():
                bounded = plan.term_bounded[cols][None, :] & has_term[:, None]
                closeness = 1 - np.clip(
                    np.abs(plan.term_f[rows][:, None] - plan.term_mid[cols][None, :])
                    / plan.term_span[cols][None, :],
                    0,
                    1,
                )
                fit_term = np.where(bounded, closeness, 0.5)
        w = self.policy_weights
        w = w[rows] if w.ndim == 2 else np.broadcast_to(w, (len(rows), n_keys))
        total = np.maximum(w.sum(axis=1), 1e-12)
        ent = facts.policy[rows]
        policy = [
            (ent[:, k] * w[:, k] / total)[:, None] * plan.policy_product[k][cols][None, :] / 2
            for k in range(n_keys)
        ]
        fit_rate = plan.fit_rate.reshape(-1, plan.fit_rate_width)[cols].T[plan.grade_col[rows]]
        approval = np.ascontiguousarray(P.approval_rate, dtype=np.float64)[cols].T[
            facts.size_index[rows].astype(np.int64)
        ]
        local = plan.local[plan.region_inv[rows]][:, cols].astype(np.float64)
        unknown = self.need_count[self.pattern[rows]][:, cols].astype(np.float64)
        holding = ((P.holdings[cols][None, :] & facts.holdings[rows][:, None]) != 0).astype(
            np.float64
        )
        shape = (len(rows), len(cols))
        feats = [
            fit_amount,
            fit_term,
            fit_rate,
            np.broadcast_to(plan.fit_collateral[cols][None, :], shape),
            *policy,
            approval,
            np.broadcast_to(P.deadline_rate[cols][None, :], shape),
            local,
            unknown,
            holding,
        ]
        feats = [np.broadcast_to(f, shape) for f in feats]
        prob = None
        if probability is not None:
            prob = np.asarray(probability([np.ascontiguousarray(f).ravel() for f in feats]))
            prob = prob.reshape(shape)
        return self._masked(groups, cols, engine.score(feats, weights, prob))

    def _masked(self, groups, cols, scores) -> np.ndarray:
        ok = np.unpackbits(self.region_union[groups].view(np.uint8), axis=1, bitorder="little")
        in_region = np.empty((len(groups), len(self.products)), dtype=bool)
        in_region[:, self.plan.perm] = ok[:, : len(self.products)]
        return np.where(in_region[:, cols], scores, -np.inf)

    def _scores_by_parts(self, rows, cols, weights) -> np.ndarray:
        """engine.score for rows without amount, term or model, summed from
        its five weighted parts, each computed once per distinct value of what
        it reads in the block (the grade, the policy class, size and local
        class, the unknown pattern, the holdings) by the same operations in
        the same order, then added in engine.score's order: the same bits."""
        plan, facts, P = self.plan, self.facts, self.products
        w = np.asarray(weights, dtype=np.float64)
        half = np.float64(0.5)

        def part(keys, build):
            uniq, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
            table = np.stack([build(int(rows[i])) for i in first])
            return table[inverse.reshape(-1)]

        fit_rate = plan.fit_rate.reshape(-1, plan.fit_rate_width)
        fit_collateral = plan.fit_collateral[cols]

        def fit(r):
            return w[0] * (
                (((half + half) + fit_rate[cols, plan.grade_col[r]]) + fit_collateral) / 4
            )

        pw = self.policy_weights
        n_keys = len(F.POLICY_KEYS)

        def policy(r):
            wr = pw[[r]] if pw.ndim == 2 else np.broadcast_to(pw, (1, n_keys))
            total = np.maximum(wr.sum(axis=1), 1e-12)
            ent = facts.policy[[r]]
            terms = [
                (ent[:, k] * wr[:, k] / total)[:, None] * plan.policy_product[k][cols][None, :] / 2
                for k in range(n_keys)
            ]
            out = terms[0]
            for term in terms[1:]:
                out = out + term
            return w[1] * out[0]

        approval = np.ascontiguousarray(P.approval_rate, dtype=np.float64)[cols]
        deadline = P.deadline_rate[cols]

        def service(r):
            local = plan.local[plan.region_inv[r]][cols].astype(np.float64)
            return w[2] * (((approval[:, int(facts.size_index[r])] + deadline) + local) / 3)

        def unknown(r):
            return w[4] * self.need_count[self.pattern[r]][cols].astype(np.float64)

        def holding(r):
            held = (P.holdings[cols] & facts.holdings[r]) != 0
            return engine.HOLDING_WEIGHT * held.astype(np.float64)

        total = part(plan.grade_col[rows], fit) + part(self.policy_class[rows], policy)
        total = total + part(self.service_class[rows], service)
        total = total + w[3] * 0.5
        total = total - part(self.pattern[rows], unknown)
        return total + part(facts.holdings[rows], holding)

    def _candidates(self, score_groups, cols, n_cand, weights, probability, block):
        """For each of `score_groups`: the first `n_cand` of its products by
        (score desc, id asc), as indices into the product table (-1 past the
        end), and their scores. Blocks of neighbouring score groups (same
        local class first, so the same region) are scored on the products
        passing the region rule for any of them."""
        cand = np.full((len(score_groups), n_cand), -1, dtype=np.int64)
        cand_score = np.full((len(score_groups), n_cand), -np.inf)
        in_cols = np.zeros(len(self.products), dtype=bool)
        in_cols[cols] = True

        def run(start: int) -> None:
            groups = score_groups[start : start + block]
            union = np.bitwise_or.reduce(self.region_union[groups], axis=0)
            bits = np.unpackbits(union.view(np.uint8), bitorder="little")[: len(in_cols)]
            some = np.zeros(len(in_cols), dtype=bool)
            some[self.plan.perm] = bits.astype(bool)
            some_cols = np.flatnonzero(some & in_cols)
            if not len(some_cols):
                return
            s = self._scores(groups, some_cols, weights, probability)
            idx, best = engine.top_k(s, self.products.ids[some_cols], n_cand)
            at = slice(start, start + len(groups))
            cand[at] = np.where(idx >= 0, some_cols[np.maximum(idx, 0)], -1)
            cand_score[at] = best

        self._map(run, range(0, len(score_groups), block))
        return cand, cand_score

    def _possible(self, groups: np.ndarray, cand: np.ndarray) -> np.ndarray:
        """(len(groups), n_cand) whether each group's rows may take each candidate."""
        plan = self.plan
        valid = cand >= 0
        pos = self.inverse_perm[np.maximum(cand, 0)]
        word, bit = pos >> 6, (pos & 63).astype(np.uint64)
        rows = self.rep[groups]
        ok = valid.copy()
        for table, index, full in zip(plan.tables, plan.index, self.full_rows, strict=True):
            at = index[rows]
            if full[at].all():  # e.g. the amount rules for enterprises without a demand
                continue
            ok &= ((table[at[:, None], word] >> bit) & np.uint64(1)).astype(bool)
        return ok

    def top_k(
        self,
        k: int = 10,
        *,
        cols: np.ndarray | None = None,
        weights: np.ndarray = engine.DEFAULT_WEIGHTS,
        probability=None,
        candidates: int = 64,
        block: int = 64,
    ) -> tuple[engine.Ranking, dict]:
        """Top k of `cols` (default: every product) for every row: the same
        Ranking as `batch.batch_top_k` (products restricted to `cols`), with
        counts of groups and of groups ranked by the existing path."""
        P = self.products
        cols = np.arange(len(P), dtype=np.int64) if cols is None else np.asarray(cols)
        n_groups = self.n_groups
        out_idx = np.full((n_groups, k), -1, dtype=np.int64)
        out_score = np.full((n_groups, k), -np.inf)
        todo = np.arange(n_groups)
        rounds, clock, scoring_s = [], time.perf_counter(), 0.0
        # Each score group's candidate list is computed once, deep enough for
        # nearly every group; a group checks its first `candidates` first and
        # only the groups that find fewer than k there check the whole list;
        # those that still do not find k go by the existing path.
        deep = max(k, min(candidates * 8, len(cols)))
        needed = np.arange(self.n_score_groups)
        where = needed
        began = time.perf_counter()
        cand_all, score_all = self._candidates(needed, cols, deep, weights, probability, block)
        scoring_s += time.perf_counter() - began
        for depth in (candidates, candidates * 3, deep):
            if not len(todo):
                break
            n_cand = max(k, min(depth, deep))
            cand, cand_score = cand_all[:, :n_cand], score_all[:, :n_cand]
            step = max(1, 1_000_000 // n_cand)

            def check(start, todo=todo, where=where, cand=cand, cand_score=cand_score, step=step):
                groups = todo[start : start + step]
                at = where[self.group_score[groups]]
                c, cs = cand[at], cand_score[at]
                ok = self._possible(groups, c)
                seen = np.cumsum(ok, axis=1)
                chosen = ok & (seen <= k)
                cut = (c[:, -1] >= 0) & (seen[:, -1] < k)  # the list may go on
                gi, pos = np.nonzero(chosen & ~cut[:, None])
                slot = seen[gi, pos] - 1
                out_idx[groups[gi], slot] = c[gi, pos]
                out_score[groups[gi], slot] = cs[gi, pos]
                return groups[cut]

            short = self._map(check, range(0, len(todo), step))
            rounds.append(len(todo))
            todo = np.concatenate(short) if short else np.zeros(0, dtype=np.int64)
        unresolved = todo
        ranked_s = time.perf_counter() - clock
        if len(unresolved):
            # The existing path for these groups (their representative rows).
            for start in range(0, len(unresolved), 256):
                some = unresolved[start : start + 256]
                idx, best = self._exact(self.rep[some], k, cols, weights, probability)
                out_idx[some], out_score[some] = idx, best
        stats = {
            "groups": n_groups,
            "score_groups": self.n_score_groups,
            "deeper_groups": rounds[1] if len(rounds) > 1 else 0,
            "deepest_groups": rounds[2] if len(rounds) > 2 else 0,
            "exact_groups": int(len(unresolved)),
            "scoring_seconds": scoring_s,
            "grouped_seconds": ranked_s,
            "exact_seconds": time.perf_counter() - clock - ranked_s,
        }
        return engine.Ranking(out_idx[self.group], out_score[self.group]), stats

    def _exact(self, rows, k, cols, weights, probability):
        if len(cols) == len(self.products):
            return batch.rank_rows(
                self.plan,
                rows,
                k,
                weights=weights,
                policy_weights=self.policy_weights,
                probability=probability,
            )
        ranking = engine.rank_block(
            self.products,
            self.facts,
            rows,
            cols,
            k,
            weights=weights,
            policy_weights=self.policy_weights,
            probability=probability,
        )
        return ranking.product_index, ranking.scores

    def rank_demands(
        self,
        cols: np.ndarray,
        k: int = 20,
        *,
        weights: np.ndarray = engine.DEFAULT_WEIGHTS,
        probability=None,
        candidates: int = 8,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`engine.rank_demands` for one institution's products `cols`: the k
        rows its products serve best, (row indices, scores, best column per row)."""
        facts = self.facts
        cols = np.asarray(cols, dtype=np.int64)
        n = len(facts)
        if not len(cols):
            best = np.full(n, -np.inf)
            best_col = np.full(n, -1, dtype=np.int64)
        else:
            ranking, _stats = self.top_k(
                1, cols=cols, weights=weights, probability=probability, candidates=candidates
            )
            best, best_col = ranking.scores[:, 0], ranking.product_index[:, 0]
        order = np.argsort(facts.ids, kind="stable")
        idx, s = engine.top_k(best[order][None, :], facts.ids[order], k)
        rows = np.where(idx[0] >= 0, order[np.maximum(idx[0], 0)], -1)
        return rows, s[0], np.where(rows >= 0, best_col[np.maximum(rows, 0)], -1)


def grouped_top_k(
    products: ProductTable,
    facts: FactTable,
    k: int = 10,
    *,
    weights: np.ndarray = engine.DEFAULT_WEIGHTS,
    policy_weights: np.ndarray = engine.DEFAULT_POLICY_WEIGHTS,
    probability=None,
    candidates: int = 64,
    threads: int = 1,
) -> engine.Ranking:
    """`batch.batch_top_k`'s result, computed per group of rows (module doc)."""
    n = len(facts)
    if n == 0 or len(products) == 0:
        return engine.Ranking(np.full((n, k), -1, dtype=np.int64), np.full((n, k), -np.inf))
    grouped = Grouped(products, facts, policy_weights=policy_weights, threads=threads)
    ranking, _stats = grouped.top_k(
        k, weights=weights, probability=probability, candidates=candidates
    )
    return ranking


def rank_demands(
    products: ProductTable,
    facts: FactTable,
    cols: np.ndarray,
    k: int = 20,
    *,
    weights: np.ndarray = engine.DEFAULT_WEIGHTS,
    policy_weights: np.ndarray = engine.DEFAULT_POLICY_WEIGHTS,
    probability=None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`engine.rank_demands` for one institution on its own: grouped over a
    table of its products only (`ProductTable.take`), so the plan and the
    groups see a few products' conditions instead of the whole catalogue's.
    A pair's score and verdict read only its own product, so the list is the
    same; best columns are mapped back to `products`."""
    cols = np.asarray(cols, dtype=np.int64)
    if not len(cols) or not len(facts):
        return engine.rank_demands(
            products, facts, cols, k, weights=weights, policy_weights=policy_weights
        )
    own = Grouped(products.take(cols), facts, policy_weights=policy_weights)
    rows, scores, best = own.rank_demands(
        np.arange(len(cols)), k, weights=weights, probability=probability
    )
    return rows, scores, np.where(best >= 0, cols[np.maximum(best, 0)], -1)
