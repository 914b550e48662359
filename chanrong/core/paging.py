"""A paginator for tables that can hold a million rows.

Counting every match of a broad search ("科技" over a million enterprises)
costs more than finding the first page, so the count stops at `cap`: beyond
it the page says "超过 1,000 家…" and offers the pages up to the cap (narrow
the filter to go further). Below the cap it is the ordinary exact count.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.utils.functional import cached_property

DEFAULT_CAP = 10_000


class CappedPaginator(Paginator):
    def __init__(self, object_list, per_page, *, cap: int = DEFAULT_CAP, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap

    @cached_property
    def _counted(self) -> int:
        # SELECT COUNT(*) FROM (SELECT … LIMIT cap + 1): stops after cap + 1 rows.
        # Without the ORDER BY, which would make the database sort every match
        # first; min(total, cap + 1) does not depend on the order.
        object_list = self.object_list
        if hasattr(object_list, "order_by"):
            object_list = object_list.order_by()
        return object_list[: self.cap + 1].count()

    @cached_property
    def count(self) -> int:
        """Exact up to `cap`; `cap` when there are more (see `capped`)."""
        return min(self._counted, self.cap)

    @cached_property
    def capped(self) -> bool:
        return self._counted > self.cap
