"""The 产业基金 family's resolver: the fund directory is public to every
signed-in user, so there is no foreign fund to read; the "own" fund is the
demo's fund registered in region A (嘉善), which region A's government keeps
(see resolvers.py)."""

from __future__ import annotations

from typing import Any

from .base import ALL_SEE_IT, pick
from .world import REGION_A


def fund(w, kind: str, case: str, ctx) -> Any:
    from chanrong.funds.models import Fund

    if case == "foreign":
        return ALL_SEE_IT
    return pick(Fund.objects.filter(region_id=REGION_A), "fund registered in region A")
