"""Matching services: what pages, the API, dispatch and tasks call.

Both directions of 产融对接 over the engine (`engine.py`) and the adapter
(`adapter.py`):

* `match_demand` — for one demand: the products it can apply for, best
  first, with their top reasons; the institutions behind them; and the
  "why not" list (each failed condition in plain Chinese, each missing fact
  as "需补充：…");
* `dispatch_targets` — the institutions a published demand is sent to, best
  first (the drop-in replacement for demands.services.qualifying_institutions);
* `rank_open_demands` / `outreach` — for one institution: the open demands
  its products serve best, and the white-listed enterprises that have not
  asked but fit (浙江's 推荐清单);
* `rematch` — the batch: top k per open demand stored in `DemandMatch`.

No actor and no visibility rule in here: the callers check who may see the
demand or act for the institution. An institution's ranking reads only its
own products' columns, so no other institution's scores can leak into it.
Results are deterministic: ties break by product (or demand, enterprise)
id, never by insertion order.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
from django.db.models import Q
from django.utils import timezone

from chanrong.core.transactions import atomic_with_retry
from chanrong.demands.models import Demand
from chanrong.finance.eligibility import evaluate

from . import adapter, batch, engine, grouped, model
from . import features as F
from .features import FactTable, ProductTable
from .reasons import carbon_reason, holding_reasons, reason_labels

#: Days without a published demand before a white-listed enterprise is an outreach candidate.
OUTREACH_QUIET_DAYS = 180
#: Demands whose stored matches are replaced in one write transaction.
WRITE_SLICE = 500
#: Products kept per demand by the batch.
BATCH_K = 20
#: From this many (row, product) pairs the institution-side lists (outreach,
#: open demands) are ranked by groups of rows with equal facts
#: (`grouped.Grouped.rank_demands`): the same list, computed per group.
GROUPED_PAIRS = 2_000_000


@dataclass(frozen=True)
class ProductMatch:
    product_id: int
    institution_id: int
    score: float
    probability: float | None
    reasons: list[str]  # top reasons, plain Chinese (already translated strings)
    eligible: bool
    failed: list[str]  # "why not" messages in plain Chinese
    missing: list[str]  # "需补充：…" messages


@dataclass(frozen=True)
class InstitutionMatch:
    institution_id: int
    score: float
    best_product_id: int
    reasons: list[str]


@dataclass(frozen=True)
class DemandMatches:
    demand_id: int
    ranked: list[ProductMatch]  # no failed condition, best first (score desc, product id asc)
    institutions: list[InstitutionMatch]
    not_eligible: list[ProductMatch]  # the "why not" list
    policy_weights: dict[str, float]  # weights in force
    weights_region: str  # region code whose weights apply ("" = platform default)


@dataclass(frozen=True)
class DemandForInstitution:
    demand_id: int
    score: float
    best_product_id: int
    reasons: list[str]


@dataclass(frozen=True)
class OutreachCandidate:
    enterprise_id: int
    score: float
    best_product_id: int
    reasons: list[str]
    lists: list[str]


# --- the model and the weights ---------------------------------------------------------------

_model_lock = threading.Lock()
_model_cache: dict[str, tuple] = {}


def current_model() -> model.PairModel | None:
    """The saved approval model (`chanrong matching_evaluate --save` or the
    retraining task), reloaded when the file changes; None without one."""
    path = model.default_path()
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return None
    with _model_lock:
        hit = _model_cache.get("model")
        if hit is not None and hit[0] == (str(path), stamp):
            return hit[1]
    try:
        fitted = model.load(path)
    except Exception:  # a damaged file must not break ranking: rule-only until retrained
        fitted = None
    if fitted is not None and tuple(fitted.feature_names) != engine.FEATURE_NAMES:
        fitted = None
    with _model_lock:
        _model_cache["model"] = ((str(path), stamp), fitted)
    return fitted


def _probability_fn(fitted: model.PairModel | None):
    return fitted.probability if fitted is not None else None


def _weights_for(region_code: str, version: tuple) -> tuple[dict[str, float], str]:
    """The weights in force for the region, cached per process under
    `version` (the `weights` of `adapter.table_versions()`)."""
    from .policy import weights_in_force

    return weights_in_force(region_code, version)


def policy_vector(weights: dict[str, float]) -> np.ndarray:
    return np.array([float(weights.get(key, 1.0)) for key in F.POLICY_KEYS], dtype=np.float64)


def policy_rows(facts: FactTable) -> np.ndarray:
    """(len(facts), K) policy weights in force for each row's region: one read
    of the weights table, resolved per distinct region."""
    from .policy import resolve, weights_table

    table = weights_table()
    regions, inverse = np.unique(facts.region, return_inverse=True)
    per_region = np.array(
        [policy_vector(resolve(table, str(code))[0]) for code in regions], dtype=np.float64
    ).reshape(len(regions), len(F.POLICY_KEYS))
    return per_region[inverse.reshape(-1)]


# --- scoring one row -------------------------------------------------------------------------


@dataclass
class _Row:
    cols: np.ndarray  # product indices
    failed: np.ndarray  # uint32 per column
    unknown: np.ndarray
    feats: list[np.ndarray]
    prob: np.ndarray | None
    scores: np.ndarray
    products: ProductTable | None = None
    facts: FactTable | None = None
    row: int = 0
    #: For pairs scored together (`_score_pairs`): the fact row of each pair
    #: (`cols` then holds each pair's product column).
    pair_rows: np.ndarray | None = None

    def row_of(self, i: int) -> int:
        return self.row if self.pair_rows is None else int(self.pair_rows[i])


def _score_row(
    products: ProductTable,
    facts: FactTable,
    row: int,
    cols: np.ndarray,
    policy: np.ndarray,
    fitted: model.PairModel | None,
) -> _Row:
    """Eligibility, features and score of one fact row against `cols` (every
    pair, eligible or not), by the same arithmetic as the batch."""
    rows = np.array([row], dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    failed, unknown = engine.eligibility(products, facts, rows, cols)
    ci = np.arange(len(cols))
    ri = np.zeros(len(cols), dtype=np.int64)
    feats = engine.pair_features(products, facts, rows, cols, ri, ci, unknown[0], policy)
    prob = fitted.probability(feats) if fitted is not None and len(cols) else None
    scores = engine.score(feats, engine.DEFAULT_WEIGHTS, prob)
    return _Row(cols, failed[0], unknown[0], feats, prob, scores, products, facts, row)


def _score_pairs(
    products: ProductTable,
    facts: FactTable,
    rows: np.ndarray,
    cols: np.ndarray,
    policy: np.ndarray,
    fitted: model.PairModel | None,
) -> _Row:
    """Features and score of the pairs (rows[i], cols[i]) in one pass: per
    pair, the same values as `_score_row` (every step is element-wise), for
    the reasons of a ranked list without one pass per row."""
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    distinct, ci = np.unique(cols, return_inverse=True)
    ci = ci.reshape(-1)
    ri = np.arange(len(rows))
    failed, unknown = engine.eligibility(products, facts, rows, distinct)
    feats = engine.pair_features(
        products, facts, rows, distinct, ri, ci, unknown[ri, ci], policy[rows]
    )
    prob = fitted.probability(feats) if fitted is not None and len(rows) else None
    scores = engine.score(feats, engine.DEFAULT_WEIGHTS, prob)
    return _Row(
        cols, failed[ri, ci], unknown[ri, ci], feats, prob, scores, products, facts, 0, rows
    )


def _reasons(scored: _Row, i: int) -> list[str]:
    p = None if scored.prob is None else float(scored.prob[i])
    names = engine.top_reasons(scored.feats, i, probability=p)
    held = None
    row = scored.row_of(i)
    if "holding" in names and scored.products is not None and scored.facts is not None:
        need = int(scored.products.holdings[scored.cols[i]])
        held = holding_reasons(need, scored.facts.holdings_amount[row])
    reasons = reason_labels(names, held)
    if scored.products is not None and scored.facts is not None and scored.products.conditions:
        # The product prices by 碳效等级 and this enterprise's grade moves its rate.
        grade = int(scored.facts.carbon_grade[row])
        text = carbon_reason(scored.products.conditions[int(scored.cols[i])], grade)
        if text:
            reasons.append(text)
    return reasons


def _order(scored: _Row, products: ProductTable, mask: np.ndarray) -> np.ndarray:
    """Positions (into scored.cols) where mask holds, by score desc then product id asc."""
    idx = np.flatnonzero(mask)
    ids = products.ids[scored.cols[idx]]
    return idx[np.lexsort((ids, -scored.scores[idx]))]


def _single_demand_facts(
    demand: Demand, day: date, *, supply_facts: bool = True, carbon_facts: bool = True
) -> FactTable:
    (enterprise,) = adapter.enterprise_facts_bulk(
        [(demand.enterprise_id, day)], supply_facts=supply_facts, carbon_facts=carbon_facts
    )
    wanted = adapter.demand_facts_of(
        demand.kind, demand.amount, demand.term_months, demand.rate_max, demand.collateral_offered
    )
    return FactTable.from_facts(
        [demand.pk or 0], [(enterprise, wanted)], today=day, enterprise_ids=[demand.enterprise_id]
    )


# --- for a demand ------------------------------------------------------------------------------


def match_demand(
    demand: Demand,
    *,
    limit: int = 20,
    today: date | None = None,
    institution_id: int | None = None,
) -> DemandMatches:
    """Ranked products and institutions for `demand`, and why the others do not fit.

    `ranked` holds products with no condition known to fail (a product whose
    only gaps are unknown facts is ranked, marked eligible=False, with its
    "需补充" messages); `not_eligible` the others, fewest failed conditions first.
    With `institution_id`, only that institution's products are scored (a
    pair's score does not depend on the other products, so the order among
    them is the same as in the full list)."""
    day = today or timezone.localdate()
    versions = adapter.table_versions()
    products = adapter.product_table(version=versions.products)
    facts = _single_demand_facts(demand, day)
    weights, region = _weights_for(facts.region[0], versions.weights)
    fitted = current_model()
    cols = np.arange(len(products))
    if institution_id is not None:
        cols = np.flatnonzero(products.institution_ids == institution_id)
    scored = _score_row(products, facts, 0, cols, policy_vector(weights), fitted)
    enterprise, wanted = facts.facts[0]

    def build(i: int) -> ProductMatch:
        col = int(scored.cols[i])
        result = evaluate(products.conditions[col], enterprise, wanted, today=day)
        return ProductMatch(
            product_id=int(products.ids[col]),
            institution_id=int(products.institution_ids[col]),
            score=float(scored.scores[i]),
            probability=None if scored.prob is None else float(scored.prob[i]),
            reasons=_reasons(scored, i),
            eligible=bool(scored.failed[i] == 0 and scored.unknown[i] == 0),
            failed=[f.message for f in result.failed],
            missing=[f.message for f in result.missing],
        )

    # A pair resting on the enterprise's unverified word (需核验) is ranked as
    # not meeting the requirement; `not_eligible` explains it.
    meets = engine.meets(scored.failed, scored.unknown)
    possible = _order(scored, products, meets)
    ranked = [build(int(i)) for i in possible[:limit]]
    institutions: list[InstitutionMatch] = []
    seen: set[int] = set()
    for i in possible:
        institution = int(products.institution_ids[scored.cols[i]])
        if institution in seen:
            continue
        seen.add(institution)
        institutions.append(
            InstitutionMatch(
                institution_id=institution,
                score=float(scored.scores[i]),
                best_product_id=int(products.ids[scored.cols[i]]),
                reasons=_reasons(scored, int(i)),
            )
        )
        if len(institutions) >= limit:
            break
    bad = np.flatnonzero(~meets)
    n_failed = np.bitwise_count(scored.failed[bad]).astype(np.int64)
    bad = bad[np.lexsort((products.ids[scored.cols[bad]], -scored.scores[bad], n_failed))]
    not_eligible = [build(int(i)) for i in bad[:limit]]
    return DemandMatches(
        demand_id=demand.pk,
        ranked=ranked,
        institutions=institutions,
        not_eligible=not_eligible,
        policy_weights=dict(weights),
        weights_region=region,
    )


def dispatch_targets(demand: Demand, *, today: date | None = None) -> dict[int, list[int]]:
    """{institution pk: [product pks best first]} for every published product
    with no condition known to fail (unknown facts do not exclude: the
    institution asks for them), institutions ordered best first. The same
    set as demands.services.qualifying_institutions, ranked."""
    day = today or timezone.localdate()
    # One statement for both caches' versions: the product table's, the weights'.
    versions = adapter.table_versions()
    products = adapter.product_table(version=versions.products)
    # Facts no product reads are left unknown, unread (the ranking is the same).
    facts = _single_demand_facts(demand, day, **adapter.facts_needed_by_all(products))
    weights, _region = _weights_for(facts.region[0], versions.weights)
    scored = _score_row(
        products, facts, 0, np.arange(len(products)), policy_vector(weights), current_model()
    )
    out: dict[int, list[int]] = {}
    for i in _order(scored, products, scored.failed == 0):
        col = scored.cols[i]
        out.setdefault(int(products.institution_ids[col]), []).append(int(products.ids[col]))
    return out


# --- for an institution ------------------------------------------------------------------------


def _institution_cols(products: ProductTable, institution_id: int) -> np.ndarray:
    return np.flatnonzero(products.institution_ids == institution_id)


def _rank_rows(
    products: ProductTable, facts: FactTable, cols: np.ndarray, limit: int
) -> list[tuple[int, float, int, list[str]]]:
    """(row, score, best product id, reasons) of the best `limit` rows for `cols`."""
    if not len(cols) or not len(facts):
        return []
    fitted = current_model()
    policy = policy_rows(facts)
    if len(facts) * len(cols) >= GROUPED_PAIRS:
        rows, scores, best = grouped.rank_demands(
            products,
            facts,
            cols,
            k=limit,
            policy_weights=policy,
            probability=_probability_fn(fitted),
        )
    else:
        rows, scores, best = engine.rank_demands(
            products,
            facts,
            cols,
            k=limit,
            policy_weights=policy,
            probability=_probability_fn(fitted),
        )
    kept = [
        (int(row), float(value), int(col))
        for row, value, col in zip(rows, scores, best, strict=True)
        if row >= 0 and np.isfinite(value)
    ]
    if not kept:
        return []
    # The reasons of every kept pair, scored together (one pass, not one per row).
    scored = _score_pairs(
        products,
        facts,
        np.array([r for r, _v, _c in kept]),
        np.array([c for _r, _v, c in kept]),
        policy,
        fitted,
    )
    return [
        (row, value, int(products.ids[col]), _reasons(scored, i))
        for i, (row, value, col) in enumerate(kept)
    ]


def rank_open_demands(
    institution_id: int, *, limit: int = 50, today: date | None = None, among=None
) -> list[DemandForInstitution]:
    """The open demands this institution's live products serve best.

    `among` (a Demand queryset, e.g. those the user may see) narrows the
    demands ranked; it goes to the database as a subquery. A demand's score
    does not depend on the other demands ranked, so the answer is the full
    ranking with the others left out."""
    day = today or timezone.localdate()
    products = adapter.product_table()
    cols = _institution_cols(products, institution_id)
    if not len(cols):
        return []
    open_demands = Demand.objects.filter(state__in=adapter.OPEN_STATES)
    if among is not None:
        open_demands = open_demands.filter(pk__in=among.order_by().values("pk"))
    if all(products.regions[col] for col in cols):
        # Every product is regional: only demands from those regions can fit.
        where = Q()
        for prefix in sorted({p for col in cols for p in products.regions[col]}):
            where |= Q(enterprise__region__code__startswith=prefix)
        open_demands = open_demands.filter(where)
    facts = adapter.demand_table(open_demands, today=day, **adapter.facts_needed(products, cols))
    return [
        DemandForInstitution(int(facts.ids[row]), value, product, reasons)
        for row, value, product, reasons in _rank_rows(products, facts, cols, limit)
    ]


def quiet_since(day: date) -> datetime:
    """The start of the outreach list's quiet period on `day`: an enterprise
    that published a demand from then on is not invited to publish one."""
    return timezone.make_aware(datetime.combine(day - timedelta(days=OUTREACH_QUIET_DAYS), time()))


def outreach(
    institution_id: int, *, limit: int = 50, today: date | None = None, group: str = ""
) -> list[OutreachCandidate]:
    """Enterprises on a white list in force in the institution's regions (its
    branches and head office) that have published no demand in the last
    OUTREACH_QUIET_DAYS days and fit at least one of its live products; best first.
    With `group` (a policy group of insights.groups, e.g. "no_loan" for 无贷户 —
    首贷培育), only its members on the day."""
    day = today or timezone.localdate()
    products = adapter.product_table()
    cols = _institution_cols(products, institution_id)
    if not len(cols):
        return []
    prefixes = adapter.branch_prefixes().get(institution_id, ())
    members = adapter.white_list_members(prefixes, today=day)
    if not members:
        return []
    since = quiet_since(day)
    recent = set()
    ids = sorted(members)
    published = Demand.objects.filter(published_at__gte=since)
    for part in adapter.by_ids(published, "enterprise_id", ids):
        recent |= set(part.values_list("enterprise_id", flat=True))
    quiet = [eid for eid in ids if eid not in recent]
    if group and quiet:
        from chanrong.insights.groups import members as group_members

        chosen: set[int] = set()
        for part in adapter.by_ids(group_members(group, day), "pk", quiet):
            chosen |= set(part.values_list("pk", flat=True))
        quiet = [eid for eid in quiet if eid in chosen]
    if not quiet:
        return []
    facts = adapter.enterprise_table(quiet, today=day, **adapter.facts_needed(products, cols))
    return [
        OutreachCandidate(
            int(facts.ids[row]), value, product, reasons, list(members[int(facts.ids[row])])
        )
        for row, value, product, reasons in _rank_rows(products, facts, cols, limit)
    ]


# --- the batch ---------------------------------------------------------------------------------


def rematch(
    demand_ids: Sequence[int] | None = None,
    *,
    k: int = BATCH_K,
    today: date | None = None,
    chunk: int = 5000,
    workers: int = 1,
) -> int:
    """Recompute and store the top k products of open demands (all of them,
    or those among `demand_ids`); closed demands named in `demand_ids` lose
    their stored matches. A demand's stored list is replaced in one
    transaction (with up to WRITE_SLICE others), so a reader sees its old
    list or its new one, never half. Returns the number of demands re-matched."""
    from .models import DemandMatch

    day = today or timezone.localdate()
    products = adapter.product_table()
    fitted = current_model()
    open_demands = Demand.objects.filter(state__in=adapter.OPEN_STATES)
    if demand_ids is None:
        pks = sorted(open_demands.values_list("pk", flat=True))
        DemandMatch.objects.exclude(demand__state__in=adapter.OPEN_STATES).delete()
    else:
        wanted = sorted({int(pk) for pk in demand_ids})
        pks = []
        for i in range(0, len(wanted), adapter.CHUNK):
            part = wanted[i : i + adapter.CHUNK]
            pks += list(open_demands.filter(pk__in=part).values_list("pk", flat=True))
            closed = set(part) - set(pks)
            if closed:
                DemandMatch.objects.filter(demand_id__in=sorted(closed)).delete()
        pks.sort()
    done = 0
    now = timezone.now()
    for i in range(0, len(pks), chunk):
        part = pks[i : i + chunk]
        facts = adapter.demand_table(part, today=day)
        if len(products):
            ranking = batch.batch_top_k(
                products,
                facts,
                k=k,
                policy_weights=policy_rows(facts),
                probability=_probability_fn(fitted),
                workers=workers,
            )
        else:
            ranking = engine.Ranking(
                np.full((len(facts), k), -1, dtype=np.int64), np.full((len(facts), k), -np.inf)
            )
        rows = []
        for r in range(len(facts)):
            for rank in range(k):
                col = int(ranking.product_index[r, rank])
                if col < 0:
                    break
                rows.append(
                    DemandMatch(
                        demand_id=int(facts.ids[r]),
                        rank=rank + 1,
                        product_id=int(products.ids[col]),
                        institution_id=int(products.institution_ids[col]),
                        score=float(ranking.scores[r, rank]),
                        computed_at=now,
                    )
                )
        # Written in slices of WRITE_SLICE demands, each replaced whole in its
        # own short transaction (retried if PostgreSQL aborts it for a lock
        # cycle with a request locking demands): a reader still sees a
        # demand's old list or its new one, and requests never wait long on
        # the key-share locks the inserts take.
        ids = [int(x) for x in facts.ids]
        by_demand: dict[int, list[DemandMatch]] = {}
        for row in rows:
            by_demand.setdefault(row.demand_id, []).append(row)
        for j in range(0, len(ids), WRITE_SLICE):
            some = ids[j : j + WRITE_SLICE]
            slice_rows = [row for pk in some for row in by_demand.get(pk, ())]

            def replace(some=some, slice_rows=slice_rows) -> None:
                DemandMatch.objects.filter(demand_id__in=some).delete()
                DemandMatch.objects.bulk_create(slice_rows, batch_size=5000)

            atomic_with_retry(replace, what="matching.rematch")
        done += len(facts)
    return done


def stored_matches(demand: Demand) -> list[tuple[int, int, float]]:
    """The batch's stored (product pk, institution pk, score), best first."""
    from .models import DemandMatch

    return list(
        DemandMatch.objects.filter(demand=demand)
        .order_by("rank")
        .values_list("product_id", "institution_id", "score")
    )
