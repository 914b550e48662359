"""A list endpoint's two statements (its count and a page of value tuples),
built and compiled once per shape and thread.

The dispatch list (GET /api/v1/dispatches) spent about a third of its CPU
building its queryset (`visible_to`, the filter, `values_list` of 21
columns over three tables) and compiling the count and the page to SQL, on
every request (bench/request_path.py, issue 20). `CompiledList` does what
`core.lookups.KeyLookup` does for a row by key: the caller names a *shape*
(everything the SQL depends on, e.g. the actor's `Scope` and the filters),
and the SQL is built once per shape and thread; afterwards a request only
runs it.

- The count is Django's own: the first `count()` of a shape runs
  `queryset.count()` and keeps the one statement it executed (SQL and
  parameters), which depend on the shape alone.
- The page is `queryset.values_list(*columns)[offset:offset + limit]`
  compiled with two stand-in numbers as the window; their
  `LIMIT n OFFSET m` at the end of the SQL becomes `LIMIT %s OFFSET %s`, so
  any window runs the same SQL. The rows go through the same converters
  Django's `values_list` applies (JSON, SQLite's dates), except for the
  `raw_json` columns: a JSON column the response only passes on comes as
  `orjson.Fragment` of the text the database sent, which the API's
  renderer copies in unread (decoding 50 small lists a page was a tenth of
  the dispatch list's CPU, and encoding them again another share). On
  PostgreSQL the `raw_datetime` columns come the same way: the server's text
  rewritten as the JSON string Django would write for the datetime
  (`core.apikit.jsondates`), when every `timestamptz` the page selects is
  one of them (the loader is the cursor's, by type); anywhere else they come
  as datetimes, which the renderer writes the same.

Whatever cannot be planned that way (a queryset that is `none()`, extra
select columns, a backend that writes its window differently) runs as the
queryset every time, so the answer is always the queryset's
(tests/core/test_compiled_list.py compares them). As for KeyLookup, the
shape must determine the SQL: a `visible_to` that depends on anything but
the scope would make this wrong (docs/architecture.md, "The visibility
rule"). Not for `select_for_update`.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet
from pydantic import Field, InstanceOf, TypeAdapter, WithJsonSchema

from chanrong.core import lookups
from chanrong.core.apikit.jsondates import json_timestamp_loader

#: The window's stand-ins while compiling: numbers no real page uses, each
#: found exactly once in the SQL or the page is not planned.
_LIMIT, _OFFSET = 987_654_321, 123_456_789
_WINDOW = f" LIMIT {_LIMIT} OFFSET {_OFFSET}"


@dataclass(frozen=True)
class _Count:
    db: str
    sql: str
    params: tuple

    def run(self) -> int:
        with connections[self.db].cursor() as cursor:
            cursor.execute(self.sql, self.params)
            return int(cursor.fetchone()[0])


@dataclass(frozen=True)
class _Page:
    db: str
    sql: str
    params: tuple
    compiler: Any
    converters: dict
    raw: tuple[int, ...] = ()
    json_timestamps: bool = False

    def run(self, offset: int, limit: int) -> list[tuple]:
        with connections[self.db].cursor() as cursor:
            if self.json_timestamps:
                # This cursor's map only (psycopg copies the connection's on write).
                cursor.cursor.adapters.register_loader("timestamptz", json_timestamp_loader())
            cursor.execute(self.sql, (*self.params, limit, offset))
            rows = cursor.fetchall()
        if self.converters:
            rows = [tuple(row) for row in self.compiler.apply_converters(rows, self.converters)]
        if self.raw:
            return [_fragments(row, self.raw) for row in rows]
        return rows


def _fragments(row: tuple, raw: tuple[int, ...]) -> tuple:
    """`row` with its raw JSON columns (the database's text) as fragments."""
    values = list(row)
    for index in raw:
        if values[index] is not None:
            values[index] = orjson.Fragment(values[index])
    return tuple(values)


def _reencoded(row: tuple, raw: tuple[int, ...]) -> tuple:
    """An unplanned row's decoded JSON columns as fragments, like a plan's
    (through the standard library for what orjson will not write, such as an
    integer beyond 64 bits)."""
    values = list(row)
    for index in raw:
        if values[index] is not None:
            try:
                text = orjson.dumps(values[index])
            except TypeError:  # orjson.JSONEncodeError is one
                text = json.dumps(values[index], ensure_ascii=False)
            values[index] = orjson.Fragment(text)
    return tuple(values)


def passed_on(annotation: Any) -> Any:
    """The response schema's type for a `raw_json` or `raw_datetime` column:
    `annotation` as ever (validated, serialised and documented in OpenAPI
    as such), except that a fragment passes unread. A union tried left to
    right, the fragment's instance check first, all of it in pydantic's
    core: a wrap validator and serialiser (a Python call each way per
    value) cost the dispatch list more than its datetimes' text saved. For
    responses only: ninja dumps them in pydantic's Python mode and leaves
    the JSON to the renderer (orjson); pydantic's own JSON mode could not
    write a fragment."""
    return Annotated[
        InstanceOf[orjson.Fragment] | annotation,
        Field(union_mode="left_to_right"),
        WithJsonSchema(TypeAdapter(annotation).json_schema()),
    ]


#: A shape that selects nothing (`none()`): count 0, no rows, no statement.
_EMPTY = object()
#: Not plannable: the queryset itself, every time.
_UNPLANNED = object()


class CompiledList:
    """`build(context)` returns the list's queryset (ordered);
    `count(shape, context)` and `rows(shape, context, offset, limit)` run its
    count and a page of `columns` as value tuples, compiled once per `shape`
    and thread. Each thread keeps the `size` shapes it used last."""

    def __init__(
        self,
        build: Callable[[Any], QuerySet],
        columns: tuple[str, ...],
        size: int = 32,
        *,
        raw_json: tuple[str, ...] = (),
        raw_datetime: tuple[str, ...] = (),
    ):
        for option, names in (("raw_json", raw_json), ("raw_datetime", raw_datetime)):
            if unknown := set(names) - set(columns):
                raise ValueError(f"{option} names columns that are not listed: {sorted(unknown)}")
        self._build = build
        self._columns = columns
        self._raw = tuple(columns.index(name) for name in raw_json)
        self._raw_datetimes = frozenset(columns.index(name) for name in raw_datetime)
        self._size = size
        self._local = threading.local()

    def _plans(self) -> OrderedDict:
        local = self._local
        # Dropped with core.lookups' plans (tests replace rules and databases).
        if getattr(local, "generation", None) != lookups._generation:
            local.plans, local.generation = OrderedDict(), lookups._generation
        return local.plans

    def _entry(self, shape: Hashable) -> dict:
        plans = self._plans()
        entry = plans.get(shape)
        if entry is None:
            entry = plans[shape] = {}
            if len(plans) > self._size:
                plans.popitem(last=False)
        else:
            plans.move_to_end(shape)
        return entry

    def count(self, shape: Hashable, context: Any) -> int:
        entry = self._entry(shape)
        plan = entry.get("count")
        if plan is None:
            queryset = self._build(context)
            executed: list[tuple[str, Any]] = []

            def capture(execute, sql, params, many, call_context):
                executed.append((sql, params))
                return execute(sql, params, many, call_context)

            with connections[queryset.db].execute_wrapper(capture):
                answer = queryset.count()
            if not executed and answer == 0:
                entry["count"] = _EMPTY
            elif len(executed) == 1 and not isinstance(executed[0][1], dict):
                sql, params = executed[0]
                entry["count"] = _Count(queryset.db, sql, tuple(params or ()))
            else:
                entry["count"] = _UNPLANNED
            return answer
        if plan is _EMPTY:
            return 0
        if plan is _UNPLANNED:
            return self._build(context).count()
        return plan.run()

    def rows(self, shape: Hashable, context: Any, offset: int, limit: int) -> list[tuple]:
        if limit <= 0:
            return []
        entry = self._entry(shape)
        plan = entry.get("page")
        if plan is None:
            plan = entry["page"] = self._compile(self._build(context))
        if plan is _EMPTY:
            return []
        if plan is _UNPLANNED:
            rows = self._build(context).values_list(*self._columns)[offset : offset + limit]
            if not self._raw:
                return list(rows)
            return [_reencoded(row, self._raw) for row in rows]
        return plan.run(offset, limit)

    def _compile(self, queryset: QuerySet) -> _Page | object:
        query = queryset.values_list(*self._columns)[_OFFSET : _OFFSET + _LIMIT].query
        if query.select_for_update or query.extra_select or query.annotation_select:
            return _UNPLANNED
        db = queryset.db
        compiler = query.get_compiler(using=db)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            return _EMPTY
        if (
            not sql.endswith(_WINDOW)
            or sql.count(str(_LIMIT)) != 1
            or sql.count(str(_OFFSET)) != 1
            or compiler.has_extra_select
            or isinstance(params, dict)
        ):
            return _UNPLANNED
        fields = [s[0] for s in compiler.select[0 : compiler.col_count]]
        if len(fields) != len(self._columns) or compiler.has_composite_fields(fields):
            return _UNPLANNED
        converters = compiler.get_converters(fields)
        for index in self._raw:
            converters.pop(index, None)
        return _Page(
            db=db,
            sql=sql[: -len(_WINDOW)] + " LIMIT %s OFFSET %s",
            params=tuple(params),
            compiler=compiler,
            converters=converters,
            raw=self._raw,
            json_timestamps=self._json_timestamps(fields, connections[db], converters),
        )

    def _json_timestamps(self, fields: list, connection, converters: dict) -> bool:
        """Whether the page's `timestamptz` columns may come as JSON text: on
        PostgreSQL, when there are some, each is a `raw_datetime` column and
        none has a converter of its own (the loader works by type, for every
        column of it)."""
        if not self._raw_datetimes or connection.vendor != "postgresql":
            return False
        timestamps = {
            index
            for index, field in enumerate(fields)
            if field.output_field.db_type(connection) == "timestamp with time zone"
        }
        return (
            bool(timestamps)
            and timestamps <= self._raw_datetimes
            and not timestamps & set(converters)
        )
