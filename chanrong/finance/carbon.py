"""碳效等级 for product eligibility, supplied by a higher app.

A product may require a 碳效等级 (1 best … 5 worst) no worse than a given
grade (`eligibility.ProductConditions.max_carbon_grade`). Grades live in the
green app, which sits above finance in the layers contract: finance may not
import it. So finance exposes this registry and green registers its
provider in `GreenConfig.ready()` (the pattern of `finance.supply`).

Without a provider every grade is unknown (None): a product with the
condition reports "需补充：碳效等级" instead of failing or passing anyone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from chanrong.core.errors import FieldError

#: The grades, best first (湖州 / 嘉善 碳效码: 1 级 is the most carbon-efficient).
CARBON_GRADES = (1, 2, 3, 4, 5)

#: enterprise ids -> {id: latest grade} (absent = not graded).
GradeProvider = Callable[[Sequence[int]], dict[int, int]]

_provider: GradeProvider | None = None


def set_carbon_grade_provider(provider: GradeProvider | None) -> None:
    global _provider
    _provider = provider


def grades_for(enterprise_ids: Sequence[int]) -> dict[int, int | None] | None:
    """{enterprise pk: latest grade or None (not graded)} for every id asked,
    or None when no provider is registered (unknown)."""
    if _provider is None:
        return None
    found = _provider(list(enterprise_ids))
    return {eid: found.get(eid) for eid in enterprise_ids}


# --- rate adjustment by grade (碳效信贷 pricing) ---------------------------------------
#
# A product may lower (or raise) its rate by the enterprise's 碳效等级, in
# percentage points, per grade: `Product.carbon_rate_adjustments` =
# {"1": "-0.30", "2": "-0.15", "5": "0.20"}. Grades absent mean no adjustment.
# Values are strings so the Decimal survives JSON exactly (never a float).
#
# Rounding rule: adjusted rate = max(0, rate + adjustment), rounded once,
# half up, to two decimals. Adjustments have at most two decimals, so a rate
# entered with two decimals is never rounded; only an LPR-derived rate with
# more decimals is.

#: Bounds of one adjustment, in percentage points.
RATE_ADJUSTMENT_LIMIT = Decimal("3.00")
CENT = Decimal("0.01")


def clean_rate_adjustments(value: Any, errors: list[FieldError]) -> dict[str, str]:
    """The per-grade adjustments as {"1": "-0.30", ...} (grades in order, zero
    and empty entries dropped), appending one FieldError per bad entry under
    `carbon_rate_adjustments.<grade>` (the whole field when not a mapping)."""
    field = "carbon_rate_adjustments"
    if value in (None, "", {}):
        return {}
    if not isinstance(value, Mapping):
        errors.append(FieldError(field, _("应为“等级: 百分点”的对照表")))
        return {}
    out: dict[int, Decimal] = {}
    for key, raw in value.items():
        key_text = str(key).strip()
        grade = int(key_text) if key_text.isascii() and key_text.isdigit() else None
        if grade not in CARBON_GRADES:
            errors.append(
                FieldError(
                    f"{field}.{key_text}",
                    _("碳效等级应为 1–5 级（1 级最优），不存在：%(key)s") % {"key": key_text},
                )
            )
            continue
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        where = f"{field}.{grade}"
        try:
            if isinstance(raw, bool):
                raise InvalidOperation
            number = Decimal(str(raw).strip())
        except (InvalidOperation, ValueError):
            errors.append(FieldError(where, _("应为数字（百分点），如 -0.15")))
            continue
        if not number.is_finite():
            errors.append(FieldError(where, _("应为数字（百分点），如 -0.15")))
        elif number != number.quantize(CENT, rounding=ROUND_HALF_UP):
            errors.append(FieldError(where, _("最多两位小数")))
        elif abs(number) > RATE_ADJUSTMENT_LIMIT:
            errors.append(FieldError(where, _("利率调整应在 -3.00 至 +3.00 个百分点之间")))
        elif number:
            out[grade] = number.quantize(CENT)
    return {str(g): format(out[g], "f") for g in sorted(out)}


def rate_adjustment(adjustments: Mapping[str, str] | None, grade: int | None) -> Decimal:
    """The adjustment for `grade` in percentage points (0 when none applies)."""
    if grade is None or not adjustments:
        return Decimal(0)
    raw = adjustments.get(str(grade))
    return Decimal(raw) if raw not in (None, "") else Decimal(0)


def adjustment_vector(adjustments: Mapping[str, str] | None) -> tuple[Decimal, ...]:
    """(adjustment of grade 1, …, grade 5) for ProductConditions / matching."""
    return tuple(rate_adjustment(adjustments, g) for g in CARBON_GRADES)


def adjusted_rate(rate: Decimal, adjustment: Decimal) -> Decimal:
    """max(0, rate + adjustment), half up to two decimals (the rule above)."""
    return max(Decimal(rate) + adjustment, Decimal(0)).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class GradeRate:
    """The rate range one enterprise would get, for the product page."""

    grade: int
    adjustment: Decimal
    rate_min: Decimal
    rate_max: Decimal
    adjusted_min: Decimal
    adjusted_max: Decimal

    @property
    def text(self) -> str:
        """产品利率 3.85%–4.35% ，碳效 2 级 下调 0.15 个百分点 → 3.70%–4.20%"""
        values = {
            "a": self.rate_min.quantize(CENT, rounding=ROUND_HALF_UP),
            "b": self.rate_max.quantize(CENT, rounding=ROUND_HALF_UP),
            "grade": self.grade,
            "pp": abs(self.adjustment),
            "c": self.adjusted_min,
            "d": self.adjusted_max,
        }
        if self.adjustment < 0:
            rule = _("产品利率 %(a)s%%–%(b)s%% ，碳效 %(grade)s 级 下调 %(pp)s 个百分点")
        elif self.adjustment > 0:
            rule = _("产品利率 %(a)s%%–%(b)s%% ，碳效 %(grade)s 级 上调 %(pp)s 个百分点")
        else:
            rule = _("产品利率 %(a)s%%–%(b)s%% ，碳效 %(grade)s 级 不调整")
        return (rule + " → %(c)s%%–%(d)s%%") % values


def grade_rate(
    adjustments: Mapping[str, str] | None,
    grade: int | None,
    rate_min: Decimal | None,
    rate_max: Decimal | None,
) -> GradeRate | None:
    """The adjusted range for an enterprise of `grade`; None when the product
    has no table, no rate, or the grade is unknown."""
    if not adjustments or grade is None or rate_min is None or rate_max is None:
        return None
    adj = rate_adjustment(adjustments, grade)
    return GradeRate(
        grade=grade,
        adjustment=adj,
        rate_min=Decimal(rate_min),
        rate_max=Decimal(rate_max),
        adjusted_min=adjusted_rate(rate_min, adj),
        adjusted_max=adjusted_rate(rate_max, adj),
    )


def adjustment_table(adjustments: Mapping[str, str] | None) -> list[tuple[int, str]]:
    """[(grade, "-0.30" / "+0.20" / "" for none)] for every grade, for the
    product page's table."""
    return [
        (g, f"{adj:+.2f}" if (adj := rate_adjustment(adjustments, g)) else "")
        for g in CARBON_GRADES
    ]


def reason_text(grade: int, adjustment: Decimal) -> str:
    """The matching reason for an enterprise's grade, in words."""
    if adjustment < 0:
        text = _("碳效 %(grade)s 级，利率下调 %(pp)s 个百分点")
    else:
        text = _("碳效 %(grade)s 级，利率上调 %(pp)s 个百分点")
    return text % {"grade": grade, "pp": abs(adjustment).quantize(CENT)}
