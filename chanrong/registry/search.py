"""Enterprise search by name substring or USCC: the one query behind the list
page, its export and `/api/v1/enterprises?q=`.

Chinese names have no word boundaries, so a name search is a substring
search. On PostgreSQL it is served by indexes (registry migration 0003):

- three characters or more: `UPPER(name) LIKE UPPER('%…%')` (what Django's
  `icontains` issues) over a pg_trgm GIN index on `UPPER(name)`;
- exactly two characters, which trigrams cannot serve: the set of
  two-character pieces of `UPPER(name)` (`chanrong_bigrams`, a GIN index)
  must contain the query, then the LIKE rechecks;
- one character: the plain LIKE (a scan; one character is rarely a useful
  search, and common ones fill the first page at once).

Text made only of letters and digits is also looked up as the beginning of
a USCC, through the unique index's pattern-ops twin. Full-width characters
(ＡＢＣ, １２３) are folded first, as everywhere else in the registry.

SQLite, the demo database, runs the same `icontains` without any index.
"""

from __future__ import annotations

import re
import unicodedata

from django.contrib.postgres.fields import ArrayField
from django.db import connections, models
from django.db.models import F, Func, Q, QuerySet
from django.db.models.functions import Upper

USCC_PIECE = re.compile(r"[0-9A-Z]+")


class Bigrams(Func):
    """chanrong_bigrams(name): the distinct two-character pieces of a text."""

    function = "chanrong_bigrams"
    output_field = ArrayField(models.TextField())


def normalise_query(text: str | None) -> str:
    """NFKC (full-width to half-width) and runs of white space to one space."""
    return " ".join(unicodedata.normalize("NFKC", text or "").split())


def bigrams(text: str) -> list[str]:
    return sorted({text[i : i + 2] for i in range(len(text) - 1)})


def search(queryset: QuerySet, text: str | None) -> QuerySet:
    """Enterprises whose name contains `text` or whose USCC starts with it."""
    text = normalise_query(text)
    if not text:
        return queryset
    on_postgres = connections[queryset.db].vendor == "postgresql"
    condition = Q(name__icontains=text)
    if on_postgres and len(text) == 2:
        queryset = queryset.alias(name_bigrams=Bigrams(Upper(F("name"))))
        condition = Q(name_bigrams__contains=bigrams(text.upper())) & condition
    upper = text.upper()
    if USCC_PIECE.fullmatch(upper):
        condition |= Q(uscc__startswith=upper)
    return queryset.filter(condition)
