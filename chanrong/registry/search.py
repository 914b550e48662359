"""Enterprise search by name substring or USCC, and the order lists come in:
the one query behind the list page, its export and `/api/v1/enterprises`.

Chinese names have no word boundaries, so a name search is a substring
search. On PostgreSQL it is served by indexes (registry migrations 0004 and
0005):

- three characters or more: `UPPER(name) LIKE UPPER('%…%')` (what Django's
  `icontains` issues) over a pg_trgm GIN index on `UPPER(name)`;
- one or two characters, which trigrams cannot serve: the name's pieces of
  one and two characters (`chanrong_name_grams(UPPER(name))`, a GIN index)
  must contain the query. That is exactly "contains the text", so no LIKE
  is added: ANDing two descriptions of one condition made the planner
  multiply their selectivities and misjudge broad fragments by 30 times.

Text made only of letters and digits is also looked up as the beginning of
a USCC, through the unique index's pattern-ops twin. Full-width characters
(ＡＢＣ, １２３) are folded first, as everywhere else in the registry.

SQLite, the demo database, runs the same `icontains` without any index.
"""

from __future__ import annotations

import json
import re
import unicodedata

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import EmptyResultSet
from django.db import connections, models
from django.db.models import F, Func, Q, QuerySet
from django.db.models.functions import Upper

USCC_PIECE = re.compile(r"[0-9A-Z]+")

# A name-ordered list is fetched through its filter and sorted when the
# filter keeps fewer rows than this (sorting 30,000 costs ≈ 40 ms), or, for a
# text search, less than this share of the table. See `order_by_name`.
SORT_BELOW_ROWS = 30_000
SORT_BELOW_SHARE = 0.5


class NameGrams(Func):
    """chanrong_name_grams(text): its pieces of one and of two characters."""

    function = "chanrong_name_grams"
    output_field = ArrayField(models.TextField())


class SortOnly(Func):
    """`text || ''`: orders exactly like the text, but no index can supply
    the order, so the database sorts what the filter found."""

    template = "(%(expressions)s || '')"
    output_field = models.TextField()


def normalise_query(text: str | None) -> str:
    """NFKC (full-width to half-width) and runs of white space to one space."""
    return " ".join(unicodedata.normalize("NFKC", text or "").split())


def name_grams(text: str) -> list[str]:
    """What chanrong_name_grams() gives in SQL (distinct, sorted here)."""
    return sorted({text[i : i + n] for n in (1, 2) for i in range(len(text) - n + 1)})


def search(queryset: QuerySet, text: str | None) -> QuerySet:
    """Enterprises whose name contains `text` or whose USCC starts with it."""
    text = normalise_query(text)
    if not text:
        return queryset
    upper = text.upper()
    # (Python's upper() may lengthen a text, ß → SS, where PostgreSQL's does
    # not: such a text takes the LIKE, which uppercases in the database.)
    if connections[queryset.db].vendor == "postgresql" and len(upper) == len(text) <= 2:
        queryset = queryset.alias(name_grams=NameGrams(Upper(F("name"))))
        condition = Q(name_grams__contains=[upper])
    else:
        condition = Q(name__icontains=text)
    if USCC_PIECE.fullmatch(upper):
        condition |= Q(uscc__startswith=upper)
    return queryset.filter(condition)


def order_by_name(queryset: QuerySet, *, text_search: bool = False) -> QuerySet:
    """`queryset` by name, then id: every match, in order (the API, exports,
    plain filters on the list page).

    PostgreSQL's planner answers "first 20 by name WHERE <condition>" by
    walking the name index until 20 rows pass, on the assumption that matches
    are spread evenly through the alphabet. That holds for size or industry,
    not for what names themselves say: they begin with their place (沈阳…,
    杭州…), so a search for 沈阳 (3 % of the names) walked half a million names
    before the first match (4 s), and one for 州 (26 %) 2.5 s; a county's own
    list clusters the same way. So when the filter keeps fewer than
    `SORT_BELOW_ROWS` (the estimate is good: the name-pieces index carries
    statistics of its pieces), or a text search keeps less than half the
    table, the matches are fetched through the filter's index and sorted
    (≈ 1.3 ms per 1,000). Otherwise the matches are dense and, not being
    about names, spread out: the walk finds a page at once, where sorting
    would cost 0.2 s for every 200,000. The order is the same either way.
    """
    if connections[queryset.db].vendor != "postgresql":
        return queryset.order_by("name", "pk")
    estimate = estimated_rows(queryset)
    if estimate < SORT_BELOW_ROWS or (
        text_search and estimate < SORT_BELOW_SHARE * table_rows(queryset)
    ):
        return queryset.order_by(SortOnly("name"), "pk")
    return queryset.order_by("name", "pk")


def first_found(queryset: QuerySet, limit: int) -> QuerySet:
    """The first `limit` matches the database comes across, by name.

    What the list page shows for a text search: it counts to 1,000 and asks
    for a narrower search beyond that, so it need not know which 1,000 of
    250,000 matches come first by name, and finding any 1,000 costs a
    bounded amount whatever the search. Up to `limit` matches this is every
    match, in the exact order.
    """
    found = queryset.order_by().values("pk")[:limit]
    result = queryset.model._default_manager.using(queryset.db).filter(pk__in=found)
    if related := _select_related(queryset):
        result = result.select_related(*related)
    return result.order_by(SortOnly("name"), "pk")


def _select_related(queryset: QuerySet) -> list[str]:
    related = queryset.query.select_related
    if not isinstance(related, dict):
        return []

    def paths(tree: dict, prefix: str = "") -> list[str]:
        out = []
        for name, sub in tree.items():
            out.append(prefix + name)
            out.extend(paths(sub, prefix + name + "__"))
        return out

    return paths(related)


def estimated_rows(queryset: QuerySet) -> int:
    """The planner's estimate of how many rows `queryset` returns (EXPLAIN)."""
    try:
        sql, params = queryset.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # .none(), or a filter Django knows matches nothing
        return 0
    with connections[queryset.db].cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):  # psycopg parses json; other drivers may not
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def table_rows(queryset: QuerySet) -> float:
    """PostgreSQL's running estimate of the table's size (pg_class.reltuples)."""
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(
            "SELECT greatest(reltuples, 1) FROM pg_class WHERE oid = %s::regclass",
            [queryset.model._meta.db_table],
        )
        row = cursor.fetchone()
    return float(row[0]) if row else 1.0
