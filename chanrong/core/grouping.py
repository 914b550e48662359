"""Row counts and totals per key in one GROUP BY.

The indicator sources of several apps (funds, supply chain, platform
financing) answer "how many, and how much, in each region" for a whole
province at once (their `by_region` pass, see docs/indicators.md). Each did
it with the same values / order_by / annotate / values_list chain; this is
that chain once. Rounding stays with the caller: each source rounds its
money by its own rule.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Aggregate, Count, QuerySet, Sum


def count_and_total_by(
    queryset: QuerySet,
    key: str,
    total: str,
    *,
    count: Aggregate | None = None,
) -> dict[Any, tuple[int, Any]]:
    """{value of `key`: (count, Sum(`total`))} over `queryset`.

    `count` defaults to the number of rows (Count("pk")); a rollup table
    passes Sum of its own count column. The sum is what the database
    returns (None when every summed value is NULL).
    """
    rows = (
        queryset.values(key)
        .order_by()
        .annotate(_n=count if count is not None else Count("pk"), _s=Sum(total))
        .values_list(key, "_n", "_s")
    )
    return {value: (int(n or 0), s) for value, n, s in rows}
