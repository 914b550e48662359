"""GET /dispatches through core.apikit.compiled.CompiledList: its count and
pages, compiled once per (scope, state) and thread, are the queryset's for
every kind of actor, every state filter and any window; a compiled shape
runs two statements and nothing else; `matched_products` comes as the
database's JSON text and, on PostgreSQL, the datetimes as the JSON strings
Django writes, for the renderer to copy in."""

from __future__ import annotations

import json
from datetime import datetime

import orjson
import pytest
from django.db import connection
from pydantic import TypeAdapter, ValidationError

from chanrong.accounts.models import User
from chanrong.api.api import Renderer
from chanrong.core.apikit.compiled import CompiledList, passed_on
from chanrong.core.lookups import forget_plans
from chanrong.demands import services
from chanrong.demands.api import _DISPATCH_LIST, DispatchRows
from chanrong.demands.models import Dispatch, DispatchState

from .conftest import dispatch_of

pytestmark = pytest.mark.django_db

ACTORS = ("admin", "gov_national", "gov_jiashan", "gov_jiangsu", "bank_staff", "bank2_staff")
ACTORS += ("ent_user", "ent2_user")
WINDOWS = ((0, 50), (0, 1), (1, 2), (2, 200), (3, 50), (1000, 50))


def _read(rows: list[tuple]) -> list:
    """Rows as the API's renderer writes them, read back: fragments (copied
    in) and values (datetimes written by the renderer) compare alike."""
    return json.loads(Renderer().render(None, list(rows), response_status=200))


@pytest.fixture
def dispatches(world, bank_products, make_demand):
    demands = [make_demand(amount_wan=amount) for amount in (100, 200, 300)]
    demands.append(make_demand(user="ent2_user"))
    services.claim_dispatch(world.user("bank_staff"), dispatch_of(demands[1], world.bank))
    services.decline_dispatch(
        world.user("bank2_staff"), dispatch_of(demands[2], world.bank2), "额度已满"
    )
    return demands


def test_pages_and_counts_are_the_querysets_for_every_actor_state_and_window(world, dispatches):
    states = (None, *DispatchState.values)
    for name in ACTORS:
        actor = world.user(name)
        for state in states:
            queryset = DispatchRows.queryset(actor, state)
            rows = DispatchRows(actor, state)
            for _twice in range(2):  # compiled the first time, run the second
                assert rows.count() == queryset.count(), (name, state)
                for offset, limit in WINDOWS:
                    expected = list(
                        queryset.values_list(*DispatchRows.COLUMNS)[offset : offset + limit]
                    )
                    got = _DISPATCH_LIST.rows(rows.shape, rows, offset, limit)
                    assert _read(got) == _read(expected), (name, state, offset, limit)
    # Somebody sees something: the comparison above is not of empty lists.
    assert DispatchRows(world.user("bank_staff")).count() == 4


def test_no_scope_is_an_empty_list_without_a_statement(django_assert_num_queries):
    nobody = User(username="nobody", is_active=False)
    rows = DispatchRows(nobody)
    assert rows.count() == 0 and rows[0:50] == []
    with django_assert_num_queries(0):
        assert rows.count() == 0 and rows[0:50] == []


def test_a_compiled_shape_runs_its_two_statements_and_nothing_else(
    world, dispatches, django_assert_num_queries
):
    for name in ("bank_staff", "ent_user", "gov_jiashan", "admin"):
        rows = DispatchRows(world.user(name))
        rows.count(), rows[0:50]
        with django_assert_num_queries(2):
            assert rows.count() == len(rows[0:50]) > 0


def test_two_institutions_never_share_a_plan(world, dispatches):
    """The shape is the scope: bank2's list after bank's is bank2's own."""
    mine = {row["id"] for row in DispatchRows(world.user("bank_staff"))[0:50]}
    theirs = {row["id"] for row in DispatchRows(world.user("bank2_staff"))[0:50]}
    assert mine and theirs and not mine & theirs
    assert theirs == set(
        Dispatch.objects.filter(institution=world.bank2).values_list("pk", flat=True)
    )


def test_what_cannot_be_planned_runs_as_the_queryset(world, dispatches):
    """Extra select columns: not planned, still the queryset's answer."""
    listing = CompiledList(
        lambda actor: Dispatch.objects.visible_to(actor).extra(select={"one": "1"}).order_by("pk"),
        ("id", "state"),
    )
    actor = world.user("bank_staff")
    expected = list(
        Dispatch.objects.visible_to(actor).order_by("pk").values_list("id", "state")[1:3]
    )
    for _twice in range(2):
        assert listing.rows("bank", actor, 1, 2) == expected
        assert listing.count("bank", actor) == 4


def test_raw_json_columns_come_as_fragments_planned_or_not(world, dispatches):
    """`matched_products` is never decoded: a plan hands on the database's
    text, an unplanned list re-encodes what Django decoded; either way the
    response carries the stored list, even one orjson could not write
    (an integer beyond 64 bits)."""
    actor = world.user("bank_staff")
    first = Dispatch.objects.visible_to(actor).order_by("pk").first()
    Dispatch.objects.filter(pk=first.pk).update(matched_products=[2**70, 3])
    stored = list(Dispatch.objects.visible_to(actor).order_by("pk").values_list("matched_products"))
    assert any(products for (products,) in stored)
    planned = CompiledList(
        lambda actor: Dispatch.objects.visible_to(actor).order_by("pk"),
        ("matched_products",),
        raw_json=("matched_products",),
    )
    unplanned = CompiledList(
        lambda actor: Dispatch.objects.visible_to(actor).extra(select={"one": "1"}).order_by("pk"),
        ("matched_products",),
        raw_json=("matched_products",),
    )
    for listing in (planned, unplanned):
        for _twice in range(2):
            rows = listing.rows("bank", actor, 0, 50)
            assert all(isinstance(products, orjson.Fragment) for (products,) in rows)
            assert _read(rows) == _read(stored)


def test_raw_json_must_name_a_listed_column():
    with pytest.raises(ValueError, match="matched_products"):
        CompiledList(lambda _: Dispatch.objects.all(), ("id",), raw_json=("matched_products",))
    with pytest.raises(ValueError, match="raw_datetime.*claimed_at"):
        CompiledList(lambda _: Dispatch.objects.all(), ("id",), raw_datetime=("claimed_at",))


def test_the_list_datetimes_come_as_text_on_postgresql_only(world, dispatches):
    """The dispatch list's five datetime columns: JSON text on PostgreSQL
    (each value, never a None), datetimes elsewhere; written alike."""
    rows = DispatchRows(world.user("bank_staff"))
    got = _DISPATCH_LIST.rows(rows.shape, rows, 0, 50)
    stamps = [value for row in got for value in row[12:17] if value is not None]
    assert stamps and all(row[16] is None for row in got[:1])  # decided_at: not yet
    kind = orjson.Fragment if connection.vendor == "postgresql" else datetime
    assert all(isinstance(value, kind) for value in stamps)


def test_a_timestamp_not_listed_as_raw_keeps_every_column_a_datetime(world, dispatches):
    """The loader goes by type: with a `timestamptz` column not named in
    `raw_datetime` on the page, none of them comes as text."""
    actor = world.user("bank_staff")
    listing = CompiledList(
        lambda actor: Dispatch.objects.visible_to(actor).order_by("pk"),
        ("id", "dispatched_at", "claim_due_at"),
        raw_datetime=("dispatched_at",),
    )
    rows = listing.rows("bank", actor, 0, 50)
    assert rows and all(isinstance(row[1], datetime) for row in rows)
    expected = Dispatch.objects.visible_to(actor).order_by("pk")
    assert rows == list(expected.values_list("id", "dispatched_at", "claim_due_at"))


def test_forgetting_plans_compiles_again(world, dispatches, django_assert_num_queries):
    rows = DispatchRows(world.user("bank_staff"))
    rows.count()
    forget_plans()
    assert rows.count() == 4


def test_passed_on_validates_values_and_passes_fragments():
    """The schema type for a raw_json column: a list is still validated as
    `list[int]`, a fragment passes unread, and OpenAPI documents `list[int]`."""
    adapter = TypeAdapter(passed_on(list[int]))
    assert adapter.validate_python(["1", 2]) == [1, 2]
    with pytest.raises(ValidationError):
        adapter.validate_python(["x"])
    fragment = orjson.Fragment("[1, 2]")
    assert adapter.dump_python(adapter.validate_python(fragment)) is fragment
    assert adapter.json_schema(mode="serialization") == TypeAdapter(list[int]).json_schema()
