"""Paging every supply-chain list with the project's `CappedPaginator`
(chanrong.core.paging): a list showed its first 500 rows and no more; now
each list pages by `PAGE_SIZE`, counting at most `cap` rows. A page with two
lists (my receivables and my payables) gives each its own page parameter, so
that paging one keeps the other and the filters where they were."""

from __future__ import annotations

from typing import Any

from chanrong.core.paging import DEFAULT_CAP, CappedPaginator

PAGE_SIZE = 50


def paginate(
    request, queryset, *, param: str = "page", per_page: int = PAGE_SIZE
) -> dict[str, Any]:
    """{"page_obj", "page_range", "querystring_base", "param"} for
    `supplychain/_pager.html`; `page_obj.object_list` is the page's rows."""
    paginator = CappedPaginator(queryset, per_page, cap=DEFAULT_CAP)
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
