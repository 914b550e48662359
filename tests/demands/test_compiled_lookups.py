"""core.lookups.KeyLookup against the ORM: the demand, dispatch and offer by
id and the token by hash, each compiled once per scope and thread, give the
same rows — with the same related objects already loaded — as the queryset
they stand for, for every kind of actor, and nothing for what an actor may
not see."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from chanrong.accounts.services import tokens
from chanrong.core.errors import NotFound
from chanrong.core.lookups import KeyLookup, _Plan, by_key
from chanrong.demands.models import Demand, Dispatch
from chanrong.demands.services import access

from .conftest import dispatch_of

pytestmark = pytest.mark.django_db

ACTORS = ("admin", "gov_national", "gov_jiashan", "gov_jiangsu", "bank_staff", "bank2_staff")
ACTORS += ("ent_user", "ent2_user")


def fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def same(a, b, *paths: str) -> None:
    assert type(a) is type(b) and fields(a) == fields(b)
    for path in paths:
        x, y = a, b
        for name in path.split("__"):
            # Loaded with the row, as select_related does: no query to follow it.
            assert type(x)._meta.get_field(name).is_cached(x)
            x, y = getattr(x, name), getattr(y, name)
        assert fields(x) == fields(y), path


def test_a_demand_by_id_is_the_querysets_row_for_every_actor(
    world, bank_products, make_demand, django_assert_num_queries
):
    demands = [make_demand(), make_demand(publish_it=False), make_demand(user="ent2_user")]
    related = ("enterprise__region__parent__parent", "enterprise__industry")
    for name in ACTORS:
        actor = world.user(name)
        for demand in demands:
            expected = by_key(
                Demand.objects.visible_to(actor).select_related(*related).filter(pk=demand.pk)
            )
            try:
                got = access.get_visible_demand(actor, demand.pk)
            except NotFound:
                got = None
            assert (got is None) == (expected is None), (name, demand.pk)
            if got is not None:
                same(got, expected, *related)
        # The second lookup of a shape is one query and nothing else.
        with django_assert_num_queries(1), pytest.raises(NotFound):
            access.get_visible_demand(actor, 2_000_000_000)


def test_dispatches_and_offers_by_id(world, bank_products, make_demand):
    demand = make_demand()
    dispatch = dispatch_of(demand, world.bank)
    for name in ACTORS:
        actor = world.user(name)
        expected = by_key(
            Dispatch.objects.visible_to(actor)
            .select_related("demand__enterprise", "institution", "branch")
            .filter(pk=dispatch.pk)
        )
        try:
            got = access.get_visible_dispatch(actor, dispatch.pk)
        except NotFound:
            got = None
        assert (got is None) == (expected is None), name
        if got is not None:
            same(got, expected, "demand__enterprise", "institution")
    assert access.get_visible_dispatch(world.user("bank_staff"), dispatch.pk).pk == dispatch.pk
    with pytest.raises(NotFound):
        access.get_visible_dispatch(world.user("bank2_staff"), dispatch.pk)
    with pytest.raises(NotFound):
        access.get_visible_offer(world.user("bank_staff"), 2_000_000_000)


def test_a_revoked_or_expired_token_stops_at_once(world):
    user = world.user("bank_staff")
    made = tokens.create_token(None, user, "lookup test")
    assert tokens.authenticate_token(made.raw) == user
    assert tokens.authenticate_token(made.raw + "x") is None
    made.token.revoked_at = made.token.created_at
    made.token.save(update_fields=["revoked_at"])
    assert tokens.authenticate_token(made.raw) is None
    other = tokens.create_token(None, user, "lookup test 2")
    other.token.expires_at = other.token.created_at
    other.token.save(update_fields=["expires_at"])
    assert tokens.authenticate_token(other.raw) is None
    user.is_active = False
    user.save(update_fields=["is_active"])
    third = tokens.create_token(None, world.user("bank2_staff"), "lookup test 3")
    assert tokens.authenticate_token(third.raw) == world.user("bank2_staff")


def test_plans_are_per_thread_and_per_shape(world, bank_products, make_demand):
    """Each thread compiles its own plan (a plan holds the compiling thread's
    connection's converters); a shape whose queryset is empty whatever the
    key (an actor without a scope) answers nothing without a query."""
    demand = make_demand()
    lookup = KeyLookup(lambda actor, pk: Demand.objects.visible_to(actor).filter(pk=pk), int)
    ent = world.user("ent_user")
    assert lookup.get(("ent", ent.enterprise_id), ent, demand.pk).pk == demand.pk
    assert len(lookup._plans()) == 1
    seen: list[int] = []
    thread = threading.Thread(target=lambda: seen.append(len(lookup._plans())))
    thread.start()
    thread.join()
    assert seen == [0]
    nobody = type("Anonymous", (), {"is_authenticated": False, "is_active": False})()
    assert lookup.get("none", nobody, demand.pk) is None
    assert lookup.get("none", nobody, demand.pk) is None
    lookup.clear()
    assert len(lookup._plans()) == 0


def test_a_queryset_the_key_cannot_be_found_in_runs_unplanned(world, bank_products, make_demand):
    """The key must appear exactly once among the compiled parameters; where it
    does not (here: twice), the lookup runs the queryset itself each time."""
    demand = make_demand()
    lookup = KeyLookup(
        lambda _ctx, pk: Demand.objects.filter(pk=pk).filter(pk=pk),
        int,
    )
    assert lookup.get(None, None, demand.pk).pk == demand.pk
    assert lookup.get(None, None, 2_000_000_000) is None
    assert lookup.get(None, None, demand.pk).pk == demand.pk


def test_each_thread_keeps_only_the_shapes_it_used_last(world, bank_products, make_demand):
    demand = make_demand()
    lookup = KeyLookup(
        lambda actor, pk: Demand.objects.visible_to(actor).filter(pk=pk), int, size=2
    )
    names = ("ent_user", "ent2_user", "bank_staff")
    for name in names:
        actor = world.user(name)
        lookup.get(name, actor, demand.pk)
    assert [shape for shape, _type in lookup._plans()] == ["ent2_user", "bank_staff"]
    # An evicted shape is compiled again and still answers right.
    assert lookup.get("ent_user", world.user("ent_user"), demand.pk).pk == demand.pk
    assert lookup.get("ent2_user", world.user("ent2_user"), demand.pk) is None


def test_a_locking_lookup_is_planned_and_still_locks(
    world, bank_products, make_demand, django_assert_num_queries
):
    """Publishing's lookup of its demand (select_for_update of the demand's
    row, with the enterprise and region unless the caller has them) is
    planned like the others: the same row and related objects as the
    queryset, in one statement that still says FOR UPDATE where the database
    has it."""
    from django.db import transaction

    from chanrong.demands.services.dispatch import _LOCKED_FOR_PUBLISH, _lock_for_publish

    demand = make_demand(publish_it=False)
    queryset = Demand.objects.select_for_update(of=("self",)).select_related("enterprise__region")
    bare = Demand.objects.get(pk=demand.pk)  # nothing related loaded
    loaded = Demand.objects.select_related("enterprise__region").get(pk=demand.pk)
    with transaction.atomic():
        expected = queryset.get(pk=demand.pk)
        for caller in (bare, loaded):
            _lock_for_publish(caller)
            with django_assert_num_queries(1) as captured:
                got = _lock_for_publish(caller)
            same(got, expected, "enterprise__region")
            sql = captured.captured_queries[0]["sql"]
            assert ("FOR UPDATE" in sql) == connection.features.has_select_for_update
            assert ("registry_enterprise" in sql) == (caller is bare)
        assert got.enterprise is loaded.enterprise  # the caller's, not read again
        assert {type(plan) for plan in _LOCKED_FOR_PUBLISH._plans().values()} == {_Plan}
        with pytest.raises(Demand.DoesNotExist):
            _lock_for_publish(Demand(pk=2_000_000_000))


@pytest.mark.django_db(transaction=True)
def test_a_locking_lookup_outside_a_transaction_is_refused(world, bank_products, make_demand):
    """As Django refuses select_for_update in autocommit, on every run of a
    plan, not only the first: a lock that ended with its statement is no lock."""
    from django.db import transaction
    from django.db.transaction import TransactionManagementError

    from chanrong.demands.services.dispatch import _lock_for_publish

    demand = make_demand(publish_it=False)
    with transaction.atomic():
        assert _lock_for_publish(demand).pk == demand.pk
    for _attempt in range(2):
        with pytest.raises(TransactionManagementError):
            _lock_for_publish(demand)


def test_a_planned_query_gives_the_querysets_rows_for_any_keys(world, bank_products):
    """PlannedQuery: instances and values_list rows, a scalar key and lists
    of several lengths (each a plan of its own), an empty list (no query),
    a key of a type no sentinel stands for (the queryset itself)."""
    from django.test.utils import CaptureQueriesContext

    from chanrong.accounts.models import User
    from chanrong.core.lookups import PlannedQuery
    from chanrong.finance.models import FinancialInstitution

    def users(field, key):
        return User.objects.filter(**{field: key, "is_active": True}).order_by("pk")

    planned = PlannedQuery(users)
    institutions = sorted(FinancialInstitution.objects.values_list("pk", flat=True))
    assert len(institutions) >= 2
    for keys in (institutions, institutions[:1], institutions[::-1], institutions + [2**40]):
        expected = list(users("institution_id__in", keys))
        assert expected or keys == institutions[:1]
        got = planned.rows("institutions", "institution_id__in", keys)
        assert [fields(u) for u in got] == [fields(u) for u in expected]
    with CaptureQueriesContext(connection) as queries:
        assert planned.rows("institutions", "institution_id__in", []) == []
    assert not queries.captured_queries
    enterprise = world.user("ent_user").enterprise_id
    got = planned.rows("enterprise", "enterprise_id", enterprise)
    assert [u.username for u in got] == [
        u.username for u in users("enterprise_id", enterprise)
    ] and got
    layouts = sorted(layout for _shape, layout in planned._plans())
    assert ((int, 1),) in layouts and ((int, len(institutions)),) in layouts
    # values_list rows, flat and not; a str key; None (no sentinel: unplanned).
    names = PlannedQuery(
        lambda _c, ids: (
            FinancialInstitution.objects.filter(pk__in=ids)
            .order_by("pk")
            .values_list("pk", "short_name")
        )
    )
    assert names.rows("n", None, institutions) == list(
        FinancialInstitution.objects.order_by("pk").values_list("pk", "short_name")
    )
    flat = PlannedQuery(
        lambda _c, name: User.objects.filter(username=name).values_list("pk", flat=True)
    )
    assert flat.rows("f", None, "bank_staff") == [world.user("bank_staff").pk]
    assert flat.rows("f", None, "nobody") == []
    assert flat.rows("f", None, None) == []


def test_a_planned_query_with_a_key_inside_a_pattern_runs_unplanned(world, bank_products):
    """A str key Django rewrites (startswith adds %) cannot be substituted:
    the queryset runs itself, and answers right, every time."""
    from chanrong.core.lookups import _UNPLANNED, PlannedQuery
    from chanrong.finance.models import Branch

    planned = PlannedQuery(
        lambda _c, prefix: (
            Branch.objects.filter(region__code__startswith=prefix)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    )
    for prefix in ("33", "3304", "32"):
        expected = list(
            Branch.objects.filter(region__code__startswith=prefix)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        assert planned.rows("p", None, prefix) == expected
    assert set(planned._plans().values()) == {_UNPLANNED}


def test_demand_link_is_what_reverse_gives_under_any_script_prefix():
    from django.urls import get_script_prefix, reverse, set_script_prefix

    from chanrong.demands.services.common import demand_link

    before = get_script_prefix()
    try:
        for prefix in ("/", "/chanrong/"):
            set_script_prefix(prefix)
            for pk in (1, 42, 2_147_480_001, 10**12):
                assert demand_link(Demand(pk=pk)) == reverse("demands:detail", args=[pk])
        assert demand_link(Demand(pk=7)) == "/chanrong/demands/7/"
    finally:
        set_script_prefix(before)
