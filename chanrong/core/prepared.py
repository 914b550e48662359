"""A `values_list` query compiled once, then run with only its key substituted.

Building a queryset and compiling it to SQL (joins, lookups, ORDER BY)
costs Django more CPU than a small indexed statement costs to run: on a
publish, the single enterprise's facts, 碳效等级 and the like were compiled
anew each time (bench/request_path.py, issue 20). `PreparedValues` takes a
function that builds the queryset for one key, compiles it once per thread
and database with a stand-in key, finds the stand-in among the compiled
parameters and, afterwards, substitutes the key and runs the same SQL,
applying the compiler's own converters (dates on SQLite, decimals): the
rows are the ones the queryset gives.

The key is an int that reaches the SQL as one parameter (`pk=key`,
`enterprise_id=key`): a scalar is also cheaper for the driver to send than
the one-element array of an `= ANY(%s)` lookup.

A query that cannot be planned so — the stand-in not found exactly once
among the parameters (e.g. inside an array parameter), a `values_list` whose fields the compiler reorders,
a queryset that selects nothing (`EmptyResultSet`) — is left to the ORM,
every time. Like `core.lookups.KeyLookup`, only for querysets whose SQL
depends on nothing but the key (not on the time, a setting, the user):
anything else belongs in the rows' filtering after the query.

The model rows a plan depends on are those of now (it keeps SQL, not
results), so nothing here can go stale but the SQL itself: `forget_plans`
(tests that swap a database or patch a manager) drops every thread's plans.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections, router

#: The key's stand-in while compiling: a value no real key takes.
SENTINEL = -7_306_194_801_127

#: Bumped by `forget_plans`; a thread's plans of an older generation are dropped.
_generation = 0


def forget_plans() -> None:
    """Every thread drops its compiled plans at its next query."""
    global _generation
    _generation += 1


#: A query that could not be planned: run through the ORM each time.
_UNPLANNED = None


class PreparedValues:
    """`build(key)` returns a `values_list` queryset of `model`'s rows for one
    int key; `rows(key)` runs it, compiled once per thread and database."""

    def __init__(self, model: Any, build: Callable[[int], Any]):
        self._model = model
        self._build = build
        self._local = threading.local()

    def _plans(self) -> dict:
        local = self._local
        if getattr(local, "generation", None) != _generation:
            local.plans, local.generation = {}, _generation
        return local.plans

    def rows(self, key: int) -> list[tuple]:
        """The rows `build(key)` selects, as tuples, in the queryset's order."""
        alias = router.db_for_read(self._model)
        cache_key = (alias, str(connections[alias].settings_dict.get("NAME")))
        plans = self._plans()
        if cache_key not in plans:
            plans[cache_key] = self._plan(alias)
        plan = plans[cache_key]
        if plan is _UNPLANNED:
            return list(self._build(key).using(alias))
        sql, params, at, compiler, converters = plan
        params = list(params)
        params[at] = key
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, params)
            found = cursor.fetchall()
        if converters:
            found = compiler.apply_converters(found, converters)
        return [tuple(row) for row in found]

    def _plan(self, alias: str) -> tuple | None:
        queryset = self._build(SENTINEL).using(alias)
        query = queryset.query
        names = [*query.extra_select, *query.values_select, *query.annotation_select]
        if queryset._fields is None or list(queryset._fields) != names:
            return _UNPLANNED
        compiler = query.get_compiler(using=alias)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            return _UNPLANNED
        at = [i for i, value in enumerate(params) if type(value) is int and value == SENTINEL]
        if len(at) != 1:
            return _UNPLANNED
        fields = [selected[0] for selected in compiler.select[0 : compiler.col_count]]
        return sql, tuple(params), at[0], compiler, compiler.get_converters(fields)
