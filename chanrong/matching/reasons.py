"""Plain-Chinese reasons for a (demand, product) pair from the engine's bitmasks.

The wording is the pure function's own (`chanrong.finance.eligibility`): the
engine decides WHICH conditions failed and which facts are missing, and the
messages are taken from `evaluate(..., explain=True)` for exactly those keys,
so the catalogue, dispatch and matching never word the same failure twice.
Run only for the handful of pairs a person looks at, never in bulk.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from functools import lru_cache

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from chanrong.finance import carbon
from chanrong.finance.eligibility import (
    N_,
    DemandFacts,
    EnterpriseFacts,
    ProductConditions,
    evaluate,
    wan,
)

from .engine import FEATURE_LABELS, failed_keys, unknown_keys
from .features import HOLDINGS

#: The "holding" reason with the amount the enterprise holds of each kind the
#: product finances (shown to the enterprise, government and platform).
HOLDING_REASONS = {
    "receivable": N_("持有已确权应收账款 %(amount)s"),
    "voucher": N_("持有数字债权凭证 %(amount)s"),
    "gov_procurement": N_("持有已确权政府采购合同 %(amount)s"),
}


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


def holding_reasons(need_mask: int, amounts_fen) -> list[str]:
    """ "持有已确权应收账款 120 万元" for each kind the product accepts
    (`need_mask` over features.HOLDINGS) that the enterprise holds."""
    out = []
    for kind, k in HOLDINGS.items():
        if int(need_mask) & (1 << k) and int(amounts_fen[k]) > 0:
            amount = Decimal(int(amounts_fen[k])) / 100
            out.append(_(HOLDING_REASONS[kind]) % {"amount": wan(amount)})
    return out


def reason_labels(names: list[str], holdings: list[str] | None = None) -> list[str]:
    """Labels of the reason keys; "holding" becomes `holdings` (with amounts) when given."""
    out: list[str] = []
    for name in names:
        if name == "holding" and holdings:
            out.extend(holdings)
        else:
            out.append(_(FEATURE_LABELS[name]))
    return out


def is_holding_reason(text: str) -> bool:
    """Whether a rendered reason states an amount held (private to the
    enterprise: institutions see the generic label instead)."""
    return text.startswith(_holding_prefixes(get_language()))


@lru_cache(maxsize=8)
def _holding_prefixes(language: str | None) -> tuple[str, ...]:
    """What each holding reason starts with in `language` (the language in
    force: the workbench redacts some 400 reasons per view)."""
    return tuple(_(t).split("%(")[0] for t in HOLDING_REASONS.values())


def carbon_reason(conditions: ProductConditions | None, grade: int) -> str | None:
    """ "碳效 2 级，利率下调 0.15 个百分点" when the product prices by grade and
    the enterprise's grade (1 … 5; < 1 unknown) changes its rate."""
    if conditions is None or grade < 1 or not conditions.carbon_rate_adjustments:
        return None
    adjustment = conditions.carbon_rate_adjustments[grade - 1]
    return carbon.reason_text(grade, adjustment) if adjustment else None


def is_carbon_reason(text: str) -> bool:
    """Whether a rendered reason states the enterprise's 碳效等级 (private: an
    institution sees a grade only while authorised, so it is dropped)."""
    return any(pattern.fullmatch(text) for pattern in _carbon_patterns(get_language()))


@lru_cache(maxsize=8)
def _carbon_patterns(language: str | None) -> tuple[re.Pattern, ...]:
    """The 碳效 reason in `language` (the language in force) as patterns, one
    per sign of the rate change: a sample rendering (grade 9, 8.76 points)
    with its numbers turned into wildcards."""
    patterns = []
    for sign in (-1, 1):
        sample = re.escape(carbon.reason_text(9, Decimal(sign) * Decimal("8.76")))
        patterns.append(
            re.compile(sample.replace(re.escape("8.76"), r"[\d.]+").replace("9", r"\d"))
        )
    return tuple(patterns)


def redact_holdings(reasons: list[str]) -> list[str]:
    """The reasons an institution may read: amounts held become the generic
    label, once; the enterprise's 碳效等级 is dropped."""
    out: list[str] = []
    for text in reasons:
        if is_carbon_reason(text):
            continue
        if is_holding_reason(text):
            text = _(FEATURE_LABELS["holding"])
        if text not in out:
            out.append(text)
    return out
