"""Looking one row up by a unique key, cheaply.

`queryset.filter(pk=…).first()` orders by the model's Meta.ordering
(e.g. "-created_at, -pk") to choose among rows that cannot be more than one,
and Django compiles that ORDER BY again on every call: for the API's lookups
by id and the bearer token's lookup by hash it was about a fifth of the
request's CPU (bench/request_path.py, issue 20). `by_key` drops the ordering.

What remains of such a lookup is building the queryset (the visibility
filter, a `select_related` four levels deep) and compiling it to SQL: about
2.4 ms of the 5.7 ms an authenticated 404 cost, against 1.1 ms for the whole
health endpoint. `KeyLookup` builds and compiles a lookup once per *shape*
(the caller's description of everything the SQL depends on except the key,
e.g. the actor's `Scope`) and per thread, keeps the SQL, its parameters and
Django's own row-to-instance plan (the compiler's select list, converters
and related populators), and afterwards only substitutes the key and runs
it. The instances are built by the same Django functions a queryset uses,
so they are the same objects (tests/demands/test_compiled_lookups.py
compares them). `PlannedQuery` does the same for a query of several rows
and keys (a list for `__in` among them), of instances or `values_list` rows
(tests/core/test_planned_query.py).

A `select_for_update` lookup (publishing locks its demand with the
enterprise and region) is planned too: the compiler's check that a
transaction is open runs when the plan is made, so the plan repeats it on
every run. Not for querysets whose SQL depends on anything but the shape and
the key (the time, a setting): put those in the shape or filter them in
Python after the lookup.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import (
    FlatValuesListIterable,
    ModelIterable,
    ValuesListIterable,
    get_related_populators,
)
from django.db.transaction import TransactionManagementError

M = TypeVar("M", bound=Model)

#: The key's stand-in while compiling; it must appear exactly once among the
#: compiled parameters, so it is a value no real key takes.
SENTINELS: dict[type, Any] = {int: -7_306_194_801_123, str: "\x00chanrong-lookup-key\x00"}


def by_key(queryset: QuerySet[M]) -> M | None:
    """The one row `queryset` (filtered on a unique key) selects, or None."""
    rows = list(queryset.order_by()[:1])
    return rows[0] if rows else None


@dataclass(frozen=True)
class _Plan:
    """A compiled query: the SQL, its parameters with the keys' positions,
    and how a row becomes what the queryset would give (as Django's
    ModelIterable, ValuesListIterable or FlatValuesListIterable does it)."""

    db: str
    sql: str
    params: tuple
    key_at: tuple[int, ...]
    compiler: Any
    converters: dict
    from_db: Callable | None  # None: the rows are values_list tuples
    init_list: list[str]
    start: int
    end: int
    populators: list
    annotations: dict[str, int]
    locking: bool = False
    flat: bool = False

    def _execute(self, keys: tuple, one: bool) -> list:
        params = list(self.params)
        for position, key in zip(self.key_at, keys, strict=True):
            params[position] = key
        connection = connections[self.db]
        if self.locking and connection.get_autocommit():
            # What SQLCompiler.as_sql checks for every select_for_update.
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            if one:
                row = cursor.fetchone()
                rows = [] if row is None else [row]
            else:
                rows = cursor.fetchall()
        if self.converters and rows:
            rows = list(self.compiler.apply_converters(rows, self.converters))
        return rows

    def _build(self, row) -> Any:
        if self.from_db is None:
            return row[0] if self.flat else tuple(row)
        obj = self.from_db(self.db, self.init_list, row[self.start : self.end])
        for populator in self.populators:
            populator.populate(row, obj)
        for name, position in self.annotations.items():
            setattr(obj, name, row[position])
        return obj

    def run(self, key: Any) -> Model | None:
        rows = self._execute((key,), one=True)
        return self._build(rows[0]) if rows else None

    def run_all(self, keys: tuple) -> list:
        return [self._build(row) for row in self._execute(keys, one=False)]


#: Bumped by `forget_plans`; a thread's plans of an older generation are dropped.
_generation = 0


def forget_plans() -> None:
    """Every thread drops its plans at its next lookup. For tests, which
    replace a visibility rule (monkeypatch) or the database between tests;
    a running deployment's queries never change."""
    global _generation
    _generation += 1


#: A shape whose queryset selects nothing whatever the key (e.g. `none()`).
_EMPTY = object()
#: A shape whose SQL could not be planned (see `_compile`).
_UNPLANNED = object()


class _PlanCache:
    """Each thread's plans, the `size` used last (a plan keeps its compiler:
    about 50 KB for the demand's four-level select_related)."""

    def __init__(self, size: int):
        self._size = size
        self._local = threading.local()

    def _plans(self) -> OrderedDict:
        local = self._local
        if getattr(local, "generation", None) != _generation:
            local.plans, local.generation = OrderedDict(), _generation
        return local.plans

    def _plan(self, cache_key: Hashable, make: Callable[[], Any]) -> Any:
        plans = self._plans()
        plan = plans.get(cache_key)
        if plan is None:
            plan = plans[cache_key] = make() or _UNPLANNED
            if len(plans) > self._size:
                plans.popitem(last=False)
        else:
            plans.move_to_end(cache_key)
        return plan

    def clear(self) -> None:
        """Forget this thread's plans."""
        self._plans().clear()


class KeyLookup(_PlanCache, Generic[M]):
    """`build(context, key)` returns the queryset of one row by `key`;
    `get(shape, context, key)` runs it, compiling it only the first time this
    thread sees `shape`. `shape` must determine the SQL except for the key:
    two contexts with the same shape must build the same query.

    Each thread keeps the plans of the `size` shapes it used last: an
    institution's or an agency's staff share one shape, while every
    enterprise is a shape of its own and, once evicted, is compiled again."""

    def __init__(self, build: Callable[[Any, Any], QuerySet[M]], key_type: type, size: int = 32):
        super().__init__(size)
        self._build = build
        self._sentinel = SENTINELS[key_type]

    def get(self, shape: Hashable, context: Any, key: Any) -> M | None:
        plan = self._plan(
            (shape, type(key)),
            lambda: _compile(
                self._build(context, self._sentinel).order_by()[:1], (self._sentinel,)
            ),
        )
        if plan is _EMPTY:
            return None
        if plan is _UNPLANNED:  # the queryset itself, every time
            return by_key(self._build(context, key))
        return plan.run(key)


class PlannedQuery(_PlanCache):
    """`KeyLookup` for a query of several rows and keys: `build(context,
    *keys)` returns a queryset (of instances, or a `values_list`) whose SQL
    depends only on `shape` and the keys; `rows(shape, context, *keys)` runs
    it, compiling it the first time this thread sees that shape with keys
    laid out the same way. A key is an int or str, or a list of them for an
    `__in` filter: a list's length is part of the layout (each length is a
    plan of its own), so keep such lists short and their lengths few — the
    institutions a demand is dispatched to, not an enterprise registry.

    Publishing a demand runs about ten small queries whose building and
    compiling cost more CPU than the database's answer (issue 20's request
    path); these are the ones to plan."""

    def __init__(self, build: Callable[..., QuerySet], size: int = 32):
        super().__init__(size)
        self._build = build

    def rows(self, shape: Hashable, context: Any, *keys: Any) -> list:
        layout = _layout(keys)
        if layout is None:  # a key of a type no sentinel stands for
            return list(self._build(context, *keys))

        def make():
            sentinels = _sentinels(layout)
            return _compile(self._build(context, *sentinels), _flat(sentinels))

        plan = self._plan((shape, layout), make)
        if plan is _EMPTY:
            return []
        if plan is _UNPLANNED:
            return list(self._build(context, *keys))
        return plan.run_all(_flat(keys))


def _layout(keys: tuple) -> tuple | None:
    """(type,) per scalar key, (type, length) per list: what, besides the
    shape, the compiled SQL depends on."""
    layout = []
    for key in keys:
        if isinstance(key, (list, tuple)):
            types = {type(value) for value in key}
            if len(types) > 1 or not types <= set(SENTINELS):
                return None
            layout.append((types.pop() if types else int, len(key)))
        elif type(key) in SENTINELS:
            layout.append((type(key),))
        else:
            return None
    return tuple(layout)


def _sentinels(layout: tuple) -> tuple:
    """Keys of the layout's types, each value distinct and none a real key."""
    out, n = [], 0
    for entry in layout:
        values = []
        for _i in range(entry[1] if len(entry) == 2 else 1):
            values.append(_sentinel(entry[0], n))
            n += 1
        out.append(values if len(entry) == 2 else values[0])
    return tuple(out)


def _sentinel(kind: type, n: int) -> Any:
    return SENTINELS[int] - n if kind is int else f"\x00chanrong-lookup-key-{n}\x00"


def _flat(keys: tuple) -> tuple:
    out: list = []
    for key in keys:
        if isinstance(key, (list, tuple)):
            out.extend(key)
        else:
            out.append(key)
    return tuple(out)


def _compile(queryset: QuerySet, sentinels: tuple) -> _Plan | object | None:
    """The plan of `queryset`, built with `sentinels` standing for its keys;
    _EMPTY if it can select nothing, None if it cannot be planned (a
    sentinel does not appear exactly once among the parameters, or the
    queryset's rows are of a kind no plan builds)."""
    fetch_mode = queryset._fetch_mode
    if getattr(fetch_mode, "track_peers", False) or queryset._known_related_objects:
        return None
    iterable = queryset._iterable_class
    if iterable not in (ModelIterable, ValuesListIterable, FlatValuesListIterable):
        return None
    query = queryset.query
    if iterable is not ModelIterable:
        # A values_list whose columns the compiler orders otherwise (extra
        # selects, annotations first) is reordered per row by Django's
        # iterable: left to it.
        names = [*query.extra_select, *query.values_select, *query.annotation_select]
        if list(queryset._fields or ()) != names:
            return None
    db = queryset.db
    compiler = query.get_compiler(using=db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return _EMPTY
    positions = []
    for sentinel in sentinels:
        found = [
            i
            for i, value in enumerate(params)
            if type(value) is type(sentinel) and value == sentinel
        ]
        if len(found) != 1:
            return None
        positions.append(found[0])
    select = compiler.select
    fields = [s[0] for s in select[0 : compiler.col_count]]
    if compiler.has_composite_fields(fields):
        return None
    common = {
        "db": db,
        "sql": sql,
        "params": tuple(params),
        "key_at": tuple(positions),
        "compiler": compiler,
        "converters": compiler.get_converters(fields),
        "locking": bool(query.select_for_update),
    }
    if iterable is not ModelIterable:
        return _Plan(
            **common,
            from_db=None,
            init_list=[],
            start=0,
            end=0,
            populators=[],
            annotations={},
            flat=iterable is FlatValuesListIterable,
        )
    klass_info = compiler.klass_info
    model_cls = klass_info["model"]
    start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1

    def from_db(db, field_names, values, _from_db=model_cls.from_db):
        return _from_db(db, field_names, values, fetch_mode=fetch_mode)

    return _Plan(
        **common,
        from_db=from_db,
        init_list=[f[0].target.attname for f in select[start:end]],
        start=start,
        end=end,
        populators=get_related_populators(klass_info, select, db, fetch_mode),
        annotations=dict(compiler.annotation_col_map or {}),
    )
