"""Looking one row up by a unique key, cheaply.

`queryset.filter(pk=…).first()` orders by the model's Meta.ordering
(e.g. "-created_at, -pk") to choose among rows that cannot be more than one,
and Django compiles that ORDER BY again on every call: for the API's lookups
by id and the bearer token's lookup by hash it was about a fifth of the
request's CPU (bench/request_path.py, issue 20).
"""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


def by_key(queryset: QuerySet[M]) -> M | None:
    """The one row `queryset` (filtered on a unique key) selects, or None."""
    rows = list(queryset.order_by()[:1])
    return rows[0] if rows else None
