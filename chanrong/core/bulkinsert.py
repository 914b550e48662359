"""`bulk_create` for the hot write paths, without the ORM's per-value work.

Publishing a demand writes about twenty dispatches, their audit entries,
timeline events and inbox messages; `QuerySet.bulk_create` spent about a
fifth of the create + publish CPU building those INSERTs
(bench/request_path.py, issue 20): for every value of every row it asks the
field for `pre_save`, `get_db_prep_save` and a placeholder, and it compiles
the statement's SQL again each time. `insert()` plans a model once per
database (its columns and one converter per field) and keeps the SQL of
each batch size; afterwards an INSERT only converts the values that need it
and runs one multi-row `INSERT … VALUES … RETURNING pk` per batch, through
Django's cursor (so the statement is counted and wrapped like any other).

Values of Django's own plain field classes (exactly those classes, never a
subclass, which may convert differently: an encrypted field) pass as they
are when their Python type is the plain one (str for a CharField, int for an
integer or a key, bool, an aware datetime on PostgreSQL); anything else goes
through the field's own `get_db_prep_save`, as `bulk_create` does. Objects
that carry their keys (a task's UUID) are written with them, nothing
returned. A value that is an expression, a model whose rows cannot be
planned this way (inheritance, a key other than an auto field that some
objects lack, a field with its own placeholder), a batch where only some
objects have keys, or a database that cannot return the keys of a bulk
insert: `bulk_create` itself. tests/core/test_bulkinsert.py compares the rows both
write.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import orjson
from django.db import DatabaseError, connections, models, router
from django.db.models import signals
from django.db.models.base import ModelState
from django.db.models.fields import AutoFieldMixin, Field

M = TypeVar("M", bound=models.Model)

#: Django's field classes whose prepared value is the Python value itself
#: when it has this type (their `to_python` returns it unchanged).
_PLAIN: dict[type, type] = {
    models.CharField: str,
    models.TextField: str,
    models.SlugField: str,
    models.BooleanField: bool,
    models.IntegerField: int,
    models.BigIntegerField: int,
    models.SmallIntegerField: int,
    models.PositiveIntegerField: int,
    models.PositiveBigIntegerField: int,
    models.PositiveSmallIntegerField: int,
    models.AutoField: int,
    models.BigAutoField: int,
    models.SmallAutoField: int,
}


class _Unplanned(Exception):
    """This insert cannot take the short path: use `bulk_create`."""


#: The plan of whole objects whose keys are given, not returned.
_KEYED = ("<every concrete field, the key as given>",)


class _Plan:
    __slots__ = ("columns", "getters", "pk_attname", "sql_head", "sql_tail", "statements")

    def __init__(
        self, model: type[models.Model], connection, names: tuple[str, ...] | None
    ) -> None:
        meta = model._meta
        if meta.parents:
            raise _Unplanned
        whole = names is None or names is _KEYED
        if names is None:
            # Whole objects, whose keys come back.
            if not isinstance(meta.pk, AutoFieldMixin):
                raise _Unplanned
            if not connection.features.can_return_rows_from_bulk_insert:
                raise _Unplanned
            fields = [f for f in meta.concrete_fields if f is not meta.pk]
        elif names is _KEYED:
            # Whole objects that carry their keys (a task's UUID).
            fields = list(meta.concrete_fields)
        else:
            by_attname = {f.attname: f for f in meta.concrete_fields}
            unknown = [name for name in names if name not in by_attname]
            if unknown:
                raise ValueError(f"{meta.label} has no field {unknown[0]!r}")
            fields = [by_attname[name] for name in names]
        if any(hasattr(f, "get_placeholder") or f.generated for f in fields):
            raise _Unplanned
        quote = connection.ops.quote_name
        self.columns = fields
        #: Per column: (field when it sets its own value, attname, the plain
        #: type that passes as it is or None, converter, the field when it is
        #: a key that may have to be read from its cached object).
        self.getters = [
            (
                f if whole and _pre_saver(f) else None,
                f.attname,
                *_converter(f, connection),
                f if f.is_relation else None,
            )
            for f in fields
        ]
        self.pk_attname = meta.pk.attname
        columns = ", ".join(quote(f.column) for f in fields)
        # Names from the model's own meta, quoted: no user input in this SQL.
        self.sql_head = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES "  # noqa: S608
        self.sql_tail = (
            f" RETURNING {quote(meta.db_table)}.{quote(meta.pk.column)}" if names is None else ""
        )
        self.statements: dict[int, str] = {}

    def merged(self, rows: list[list[Any]], literal: Callable[[Any], bytes], encoding: str) -> str:
        """The statement with `rows` written in as literals (no placeholders)."""
        values = b", ".join(
            b"(" + b", ".join([b"NULL" if v is None else literal(v) for v in row]) + b")"
            for row in rows
        )
        return self.sql_head + values.decode(encoding) + self.sql_tail

    def sql(self, rows: int) -> str:
        statement = self.statements.get(rows)
        if statement is None:
            one = "(" + ", ".join(["%s"] * len(self.columns)) + ")"
            statement = self.statements[rows] = (
                self.sql_head + ", ".join([one] * rows) + self.sql_tail
            )
        return statement

    def run(self, alias: str, rows: list[list[Any]]) -> list[Any]:
        """INSERT the converted rows; the keys, when the statement returns them."""
        connection = connections[alias]
        batch = max(1, connection.ops.bulk_batch_size(self.columns, rows))
        keys: list[Any] = []
        with connection.cursor() as cursor:
            literal = _client_side_literal(cursor)
            for start in range(0, len(rows), batch):
                chunk = rows[start : start + batch]
                if literal is not None:
                    encoding = connection.connection.info.encoding
                    cursor.execute(self.merged(chunk, literal, encoding))
                else:
                    params: list[Any] = []
                    for row in chunk:
                        params.extend(row)
                    cursor.execute(self.sql(len(chunk)), params)
                if self.sql_tail:
                    keys.extend(row[0] for row in cursor.fetchall())
        return keys


def _client_side_literal(cursor) -> Callable[[Any], bytes] | None:
    """psycopg's own quoting of a value as an SQL literal, when the driver
    would merge the values into the statement on this side anyway (Django's
    default `ClientCursor`): done here, the driver need not parse the
    statement for its placeholders, which it does on every execution once a
    statement has more than 50 of them (psycopg's parse cache stops there)."""
    raw = getattr(cursor, "cursor", None)
    try:
        import psycopg
        from psycopg.adapt import Transformer
    except ImportError:  # pragma: no cover - SQLite-only installations
        return None
    if not isinstance(raw, psycopg.ClientCursor):
        return None
    return Transformer.from_context(raw).as_literal


def _converter(field: Field, connection) -> tuple[type | None, Callable[[Any], Any]]:
    """(the type whose values pass as they are, or None; value -> what goes
    to the driver, as `bulk_create` would send it)."""

    def prepared(value: Any) -> Any:
        if hasattr(value, "resolve_expression"):
            raise _Unplanned
        return field.get_db_prep_save(value, connection)

    if connection.vendor == "postgresql":
        if type(field) is models.JSONField and field.encoder is None:
            return None, _jsonb(prepared)
        if type(field) is models.GenericIPAddressField:
            return None, _remembered(prepared)
    target = field.target_field if field.is_relation else field
    plain = _PLAIN.get(type(target))
    if plain is not None and (not field.is_relation or type(field) is models.ForeignKey):
        return plain, prepared
    if type(field) is models.DateTimeField and connection.vendor == "postgresql":
        return (
            None,
            lambda value: (
                value
                if value is None or (type(value) is datetime and value.tzinfo is not None)
                else prepared(value)
            ),
        )
    return None, prepared


#: orjson as close to the standard library's encoder (Django's, for a
#: JSONField without its own) as it goes: integer keys written as strings,
#: datetimes and dataclasses refused (and so left to the field, which refuses
#: them as before). It does write a UUID or a plain Enum, which the standard
#: library would refuse.
_JSON_OPTIONS = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)


def _jsonb(prepared: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A JSONField's value on PostgreSQL: the JSON text written by orjson,
    sent as jsonb, which stores the same value the standard library's text
    would give (jsonb keeps values, not text); about a fifth of the cost.
    Anything orjson will not write (an integer beyond 64 bits, a type JSON
    has none for) goes the field's own way, which writes or refuses it as
    before."""
    from psycopg.types.json import Jsonb

    def convert(value: Any) -> Any:
        if value is None or hasattr(value, "resolve_expression"):
            return prepared(value)
        try:
            text = orjson.dumps(value, option=_JSON_OPTIONS).decode()
        except TypeError:  # orjson.JSONEncodeError is one
            return prepared(value)
        return Jsonb(text, dumps=str)

    return convert


def _remembered(prepared: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`prepared`, remembering the last value: the audit entries of one
    request all carry the caller's address, parsed once instead of once a row.
    The value and its result are kept as one pair, read once, so that threads
    sharing the plan never mix one value with another's result."""
    memo: list[tuple[Any, Any]] = [(object(), None)]

    def convert(value: Any) -> Any:
        known, result = memo[0]
        if value is known or value == known:
            return result
        result = prepared(value)
        memo[0] = (value, result)
        return result

    return convert


def _pre_saver(field: Field) -> bool:
    """Whether the field sets its own value on insert (auto_now and the like)."""
    if isinstance(field, models.DateField):
        return bool(field.auto_now or field.auto_now_add)
    return type(field).pre_save is not Field.pre_save


_plans: dict[tuple, _Plan | None] = {}


def _plan(model: type[models.Model], alias: str, names: tuple[str, ...] | None) -> _Plan | None:
    connection = connections[alias]
    key = (alias, connection.vendor, model, names)
    try:
        return _plans[key]
    except KeyError:
        pass
    try:
        plan: _Plan | None = _Plan(model, connection, names)
    except _Unplanned:
        plan = None
    _plans[key] = plan
    return plan


def insert(model: type[M], objs: Sequence[M], *, using: str | None = None) -> list[M]:
    """`model.objects.bulk_create(objs)` (no conflict handling, no batch
    size), faster: the objects get their keys and are marked saved, no
    signal is sent. Returns `objs` as a list."""
    objs = list(objs)
    if not objs:
        return objs
    alias = using or router.db_for_write(model)
    keyed = sum(obj.pk is not None for obj in objs)
    plan = None
    if keyed == len(objs):
        plan = _plan(model, alias, _KEYED)
    elif not keyed:
        plan = _plan(model, alias, None)
    if plan is None:
        return model._default_manager.using(alias).bulk_create(objs)
    try:
        rows = _values(plan, objs)
    except _Unplanned:
        return model._default_manager.using(alias).bulk_create(objs)
    keys = plan.run(alias, rows)
    if plan.sql_tail:
        attname = plan.pk_attname
        for obj, key in zip(objs, keys, strict=True):
            setattr(obj, attname, key)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = alias
    return objs


# --- new instances ------------------------------------------------------------------


def new(model: type[M], /, **values: Any) -> M:
    """`model(**values)` for a row about to be inserted, about ten times
    cheaper: a publish builds some forty instances (its dispatches and their
    audit entries), and Django's keyword `__init__` (a signal send, a
    descriptor and a default lookup per field, each keyword popped) was
    about a twentieth of its CPU (bench/request_path.py, issue 20).

    `values` name concrete fields by attname ("institution_id") or, for a
    forward key, by name with a model instance (cached on the new object, as
    `__init__` does); every other field gets its default. A model with
    `pre_init` or `post_init` receivers, or any other keyword (a property, a
    reverse relation): `model(**values)` itself, so the object is always
    the one the constructor would make (tests/core/test_bulkinsert.py)."""
    maker = _makers.get(model)
    if maker is None:
        maker = _makers[model] = _Maker(model)
    if signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model):
        return model(**values)
    return maker.make(values)


class _Maker:
    """A model's concrete fields in order, with how each gets its value."""

    __slots__ = ("fields", "model", "names", "plain")

    def __init__(self, model: type[models.Model]) -> None:
        meta = model._meta
        self.model = model
        #: (attname, a many-to-one key's name or None, the field, its default)
        self.fields = [
            (f.attname, f.name if f.many_to_one else None, f, f.get_default)
            for f in meta.concrete_fields
        ]
        self.names = {f.attname for f in meta.concrete_fields}
        self.names |= {name for _a, name, _f, _d in self.fields if name}
        #: Whether building the instance this way gives what `__init__` gives.
        self.plain = (
            model.__init__ is models.Model.__init__ and not meta.abstract and not meta.parents
        )

    def make(self, values: dict[str, Any]) -> models.Model:
        model = self.model
        if not self.plain or not values.keys() <= self.names:
            return model(**values)
        obj = model.__new__(model)
        state = obj._state = ModelState()
        attributes = obj.__dict__
        for attname, name, field, default in self.fields:
            if attname in values:
                attributes[attname] = values[attname]
            elif name is not None and name in values:
                related = values[name]
                if related is None:
                    attributes[attname] = None
                    state.fields_cache[name] = None
                    continue
                if not isinstance(related, field.remote_field.model):
                    return model(**values)  # let the constructor say what is wrong
                attributes[attname] = getattr(related, field.target_field.attname)
                state.fields_cache[name] = related
            else:
                attributes[attname] = default()
        return obj


_makers: dict[type, _Maker] = {}


def create(obj: M, *, using: str | None = None) -> M:
    """`obj.save()` for a new row, through `insert` (its INSERT planned once,
    not compiled on every save), sending `pre_save` and `post_save` as
    `save()` does when someone listens; `save()` itself for a model that
    overrides it or inherits from another (a task's row is written this way
    on every publish: django-tasks-db's `pre_save` receiver sets its
    `run_after`)."""
    model = type(obj)
    if model.save is not models.Model.save or model._meta.parents:
        obj.save(force_insert=True, using=using)
        return obj
    alias = using or router.db_for_write(model, instance=obj)
    if signals.pre_save.has_listeners(model):
        signals.pre_save.send(
            sender=model, instance=obj, raw=False, using=alias, update_fields=None
        )
    insert(model, [obj], using=alias)
    if signals.post_save.has_listeners(model):
        signals.post_save.send(
            sender=model, instance=obj, created=True, update_fields=None, raw=False, using=alias
        )
    return obj


def _plain_save(model: type[models.Model]) -> bool:
    """Whether `save()` of this model does nothing `update` would skip:
    Django's own method (a model may override it to guard a rule, as the
    registry's published list versions do) and no model-signal receivers."""
    return model.save is models.Model.save and not (
        signals.pre_save.has_listeners(model) or signals.post_save.has_listeners(model)
    )


def insert_values(
    model: type[models.Model],
    names: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    using: str | None = None,
) -> int:
    """INSERT rows given as values of the fields `names` (attnames, e.g.
    "recipient_id"), without making a model instance of each: for rows
    nothing reads back. Every column not named gets the database's default,
    so name each one that has a Python-side default (Django's `default=`,
    `auto_now_add`): that is the caller's part. Returns how many rows."""
    rows = list(rows)
    if not rows:
        return 0
    alias = using or router.db_for_write(model)
    names = tuple(names)
    plan = _plan(model, alias, names)
    if plan is None:
        raise ValueError(f"cannot insert values into {model._meta.label}")
    converted = []
    for row in rows:
        if len(row) != len(names):
            raise ValueError(f"{len(row)} values for {len(names)} fields")
        out = []
        for value, (_pre, _attname, plain, convert, _relation) in zip(
            row, plan.getters, strict=True
        ):
            out.append(
                value
                if plain is not None and (value is None or type(value) is plain)
                else convert(value)
            )
        converted.append(out)
    plan.run(alias, converted)
    return len(rows)


def _values(plan: _Plan, objs: list) -> list[list[Any]]:
    rows = []
    for obj in objs:
        row = []
        for field, attname, plain, convert, relation in plan.getters:
            if field is not None:
                value = field.pre_save(obj, True)
            else:
                value = getattr(obj, attname)
                if value is None and relation is not None and relation.is_cached(obj):
                    # A key given as an object saved after it was assigned,
                    # or not saved at all: what bulk_create does (or refuses).
                    obj._prepare_related_fields_for_save(operation_name="bulk_create")
                    value = getattr(obj, attname)
            if plain is not None and (value is None or type(value) is plain):
                row.append(value)
            else:
                row.append(convert(value))
        rows.append(row)
    return rows


# --- one row's UPDATE -------------------------------------------------------------


_update_plans: dict[tuple, tuple[str, list, Callable[[Any], Any]] | None] = {}


def _update_plan(model: type[models.Model], alias: str, names: tuple[str, ...]):
    connection = connections[alias]
    key = (alias, connection.vendor, model, names)
    if key in _update_plans:
        return _update_plans[key]
    meta = model._meta
    fields = [meta.get_field(name) for name in names]
    plan = None
    if not meta.parents and not any(
        f.primary_key or not f.concrete or f.generated or hasattr(f, "get_placeholder")
        for f in fields
    ):
        quote = connection.ops.quote_name
        sets = ", ".join(f"{quote(f.column)} = %s" for f in fields)
        # Names from the model's own meta, quoted: no user input in this SQL.
        sql = f"UPDATE {quote(meta.db_table)} SET {sets} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608
        pk = meta.pk
        plan = (
            sql,
            [(f, *_converter(f, connection)) for f in fields],
            lambda value: pk.get_db_prep_value(value, connection),
        )
    _update_plans[key] = plan
    return plan


def update(obj: models.Model, fields: Sequence[str], *, using: str | None = None) -> None:
    """`obj.save(update_fields=fields)` for a row that exists (a workflow
    transition's locked row), without compiling the UPDATE each time: its
    SQL is planned once per model and list of fields, and each value is
    what `save` would send (`pre_save`, so auto_now stamps and keyed hashes
    are computed; then the field's own conversion unless the value is of
    the plain type). A model that overrides `save` or has `pre_save` or
    `post_save` receivers, a value that is an expression or a field with its
    own placeholder: `save` itself. Like `save`, fails when no row was updated."""
    model = type(obj)
    names = tuple(dict.fromkeys(fields))
    alias = using or obj._state.db or router.db_for_write(model, instance=obj)
    plan = _update_plan(model, alias, names) if _plain_save(model) else None
    if plan is None or obj.pk is None:
        obj.save(update_fields=names, using=alias)
        return
    sql, getters, key = plan
    params: list[Any] = []
    for field, plain, convert in getters:
        value = field.pre_save(obj, False)
        if plain is not None and (value is None or type(value) is plain):
            params.append(value)
            continue
        try:
            params.append(convert(value))
        except _Unplanned:  # an expression: save() resolves it
            obj.save(update_fields=names, using=alias)
            return
    params.append(key(obj.pk))
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        if cursor.rowcount == 0:
            raise DatabaseError("Save with update_fields did not affect any rows.")
