"""Plain-Chinese reasons for a (demand, product) pair from the engine's bitmasks.

The wording is the pure function's own (`chanrong.finance.eligibility`): the
engine decides WHICH conditions failed and which facts are missing, and the
messages are taken from `evaluate(..., explain=True)` for exactly those keys,
so the catalogue, dispatch and matching never word the same failure twice.
Run only for the handful of pairs a person looks at, never in bulk.
"""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext as _

from chanrong.finance.eligibility import DemandFacts, EnterpriseFacts, ProductConditions, evaluate

from .engine import FEATURE_LABELS, failed_keys, unknown_keys


def eligibility_messages(
    failed_bits: int,
    unknown_bits: int,
    conditions: ProductConditions,
    enterprise: EnterpriseFacts,
    demand: DemandFacts | None,
    *,
    today: date,
) -> list[str]:
    """Failed conditions first, then "需补充：…", in the pure function's order."""
    result = evaluate(conditions, enterprise, demand, today=today)
    fails = set(failed_keys(int(failed_bits)))
    unknowns = set(unknown_keys(int(unknown_bits)))
    return [f.message for f in result.failed if f.condition in fails] + [
        f.message for f in result.missing if f.condition in unknowns
    ]


def reason_labels(names: list[str]) -> list[str]:
    return [_(FEATURE_LABELS[name]) for name in names]
