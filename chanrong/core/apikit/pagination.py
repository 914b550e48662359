"""Page-number pagination for every list endpoint.

`?page=&page_size=` (page_size 1–200, default 50) answers
`{"count": N, "page": p, "page_size": s, "results": [...]}`. Out-of-range or
non-numeric values are a 422 in the API's error shape (pydantic validates
the query before the handler runs). A page past the end is an empty list,
not an error, so a client can page until `results` is empty.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import PaginationBase, paginate

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# Far beyond any real listing; bounds the SQL OFFSET so it always fits an integer.
MAX_PAGE = 1_000_000


class PageNumber(PaginationBase):
    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE, description="页码，从 1 开始")
        page_size: int = Field(
            DEFAULT_PAGE_SIZE,
            ge=1,
            le=MAX_PAGE_SIZE,
            description=f"每页条数，1–{MAX_PAGE_SIZE}，默认 {DEFAULT_PAGE_SIZE}",
        )

    class Output(Schema):
        count: int = Field(description="符合条件的总条数")
        page: int
        page_size: int
        results: list[Any]

    items_attribute = "results"

    def paginate_queryset(
        self, queryset: QuerySet, pagination: Input, request: HttpRequest, **params: Any
    ) -> dict[str, Any]:
        offset = (pagination.page - 1) * pagination.page_size
        return {
            "count": self._items_count(queryset),
            "page": pagination.page,
            "page_size": pagination.page_size,
            "results": queryset[offset : offset + pagination.page_size],
        }


def paginated(func):
    """Decorator for list operations declared with `response=list[ItemOut]`."""
    return paginate(PageNumber)(func)
