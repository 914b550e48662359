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

from collections.abc import Callable, Sequence

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
