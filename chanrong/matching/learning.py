"""The learning loop: training pairs from the platform's own outcomes.

A pair is (demand, product of an institution the demand was dispatched to).
Its label comes from that dispatch's end:

* 1 — the institution granted or disbursed (已授信 / 已放款);
* 0 — it declined, its approval failed (未获批), it let the deadline pass
  (超时), or, once another institution won, its offer was not selected or
  its dispatch was cancelled.

Demands the enterprise withdrew teach nothing about approval and are left
out, as are dispatches still running. Where the institution had several
matching products the pair uses the one rule-only ranking puts first (the
one a dispatch would have shown first), so the label never chooses the product.

Features are those the engine scores with (`engine.FEATURE_NAMES`); the
enterprise's facts are taken as of the demand's publication, and the
institutions' service record from dispatches before `record_before` (for a
time-ordered evaluation, the split time), so nothing is learned from the future.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from chanrong.demands.models import DemandState, Dispatch, DispatchState
from chanrong.finance.models import Product

from . import adapter, engine

POSITIVE = (DispatchState.GRANTED, DispatchState.DISBURSED)
NEGATIVE = (
    DispatchState.DECLINED,
    DispatchState.REJECTED,
    DispatchState.EXPIRED,
    DispatchState.NOT_SELECTED,
    DispatchState.CANCELLED,
)
SETTLED_DEMANDS = (
    DemandState.GRANTED,
    DemandState.DISBURSED,
    DemandState.REJECTED,
    DemandState.EXPIRED,
)


@dataclass
class TrainingSet:
    X: np.ndarray  # (n, len(FEATURE_NAMES))
    y: np.ndarray  # 1 approved
    when: np.ndarray  # dispatch time, seconds since the epoch
    groups: np.ndarray  # demand pk
    rule: np.ndarray  # rule-only score
    product_ids: np.ndarray
    institution_ids: np.ndarray

    def __len__(self) -> int:
        return len(self.y)


def _dispatch_rows():
    return list(
        Dispatch.objects.filter(state__in=POSITIVE + NEGATIVE, demand__state__in=SETTLED_DEMANDS)
        .order_by("dispatched_at", "pk")
        .values_list("pk", "demand_id", "institution_id", "state", "dispatched_at")
    )


def split_time(test_share: float) -> datetime | None:
    """The dispatch time at which a time-ordered split puts the last
    `test_share` of outcomes in the test set."""
    rows = _dispatch_rows()
    if not rows:
        return None
    cut = int(len(rows) * (1 - test_share))
    return rows[min(cut, len(rows) - 1)][4]


def training_set(*, record_before: datetime | None = None) -> TrainingSet:
    """Every settled dispatch as one labelled pair (see the module docstring)."""
    dispatches = _dispatch_rows()
    empty = TrainingSet(
        np.zeros((0, len(engine.FEATURE_NAMES))),
        *(np.zeros(0, dtype=dt) for dt in (np.int64, np.float64, np.int64, np.float64)),
        np.zeros(0, dtype=np.int64),
        np.zeros(0, dtype=np.int64),
    )
    if not dispatches:
        return empty
    institutions = sorted({r[2] for r in dispatches})
    products = adapter.build_product_table(
        Product.objects.filter(institution_id__in=institutions),
        record=adapter.service_record(before=record_before),
    )
    facts = adapter.demand_table(sorted({r[1] for r in dispatches}), as_of_publication=True)
    row_of = {int(pk): i for i, pk in enumerate(facts.ids)}
    cols_of: dict[int, np.ndarray] = {}
    for institution_id in institutions:
        cols_of[institution_id] = np.flatnonzero(products.institution_ids == institution_id)
    policy = _policy_rows(facts)

    # One block per demand: its row against the products of the institutions it went to.
    pair_d, pair_r, pair_c, pair_u = [], [], [], []
    by_demand: dict[int, list[int]] = {}
    for i, r in enumerate(dispatches):
        by_demand.setdefault(r[1], []).append(i)
    for demand_id, items in by_demand.items():
        row = row_of[demand_id]
        cols = np.concatenate([cols_of[dispatches[i][2]] for i in items])
        if not len(cols):
            continue
        failed, unknown = engine.eligibility(products, facts, np.array([row]), cols)
        owner = products.institution_ids[cols]
        for i in items:
            theirs = owner == dispatches[i][2]
            mine = np.flatnonzero(theirs & (failed[0] == 0))
            if not len(mine):  # sent as a preferred institution, or its products changed since
                mine = np.flatnonzero(theirs)
            pair_d.extend([i] * len(mine))
            pair_r.extend([row] * len(mine))
            pair_c.extend(cols[mine])
            pair_u.extend(unknown[0, mine])
    if not pair_d:
        return empty
    pair_d = np.asarray(pair_d, dtype=np.int64)
    ri = np.asarray(pair_r, dtype=np.int64)
    ci = np.asarray(pair_c, dtype=np.int64)
    feats = engine.pair_features(
        products,
        facts,
        np.arange(len(facts)),
        np.arange(len(products)),
        ri,
        ci,
        np.asarray(pair_u, dtype=np.uint32),
        policy[ri],
    )
    rule = engine.score(feats)
    # Per dispatch, the product rule-only ranking shows first (score desc, id asc).
    order = np.lexsort((products.ids[ci], -rule, pair_d))
    first = order[np.r_[True, pair_d[order][1:] != pair_d[order][:-1]]]
    chosen = pair_d[first]
    X = np.column_stack([f[first] for f in feats]).astype(np.float64)
    return TrainingSet(
        X=X,
        y=np.array([dispatches[i][3] in POSITIVE for i in chosen], dtype=np.int64),
        when=np.array([dispatches[i][4].timestamp() for i in chosen], dtype=np.float64),
        groups=np.array([dispatches[i][1] for i in chosen], dtype=np.int64),
        rule=rule[first],
        product_ids=products.ids[ci[first]],
        institution_ids=np.array([dispatches[i][2] for i in chosen], dtype=np.int64),
    )


def _policy_rows(facts):
    from .services import policy_rows

    return policy_rows(facts)
