"""A paginator for tables that can hold a million rows.

Counting every match of a broad search ("科技" over a million enterprises)
costs more than finding the first page, so the count stops at `cap`: beyond
it the page says "超过 1,000 家…" and offers the pages up to the cap (narrow
the filter to go further). Below the cap it is the ordinary exact count.
"""

from __future__ import annotations

from typing import Any

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


PAGE_SIZE = 50


def paginate(
    request, queryset, *, param: str = "page", per_page: int | None = None
) -> dict[str, Any]:
    """The one way a list page pages: {"page_obj", "page_range",
    "querystring_base", "param", "capped"} for `partials/pager.html`;
    `page_obj.object_list` is the page's rows.

    A page with two lists gives each its own `param`, so that paging one keeps
    the other (and the filters) where they were. `per_page` defaults to
    `PAGE_SIZE`, read at call time so that a test can make it small.
    """
    paginator = CappedPaginator(queryset, per_page or PAGE_SIZE, cap=DEFAULT_CAP)
    page_obj = paginator.get_page(request.GET.get(param))
    query = request.GET.copy()
    query.pop(param, None)
    base = query.urlencode()
    return {
        "page_obj": page_obj,
        "page_range": paginator.get_elided_page_range(page_obj.number),
        "querystring_base": f"{base}&" if base else "",
        "param": param,
        "capped": paginator.capped,
    }
