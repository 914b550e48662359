"""Two requests at the same moment, on real concurrent PostgreSQL connections:
exactly one wins. (SQLite serialises all writers, so there is nothing to test there.)"""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from chanrong.core.errors import Conflict
from chanrong.demands import services
from chanrong.demands.models import Dispatch, DispatchState, Offer

from .conftest import dispatch_of

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres("real row locks and concurrent connections"),
]


def race(*calls):
    """Run the calls in threads released together by a barrier; return each
    call's result or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=30)
            outcomes[index] = call()
        except Exception as exc:  # noqa: BLE001 - the outcome is what we check
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_two_institutions_claim_an_exclusive_demand_at_once(
    world, bank_products, make_demand, settings
):
    settings.CHANRONG_DEMAND_EXCLUSIVE = True
    demand = make_demand()
    first, second = dispatch_of(demand, world.bank), dispatch_of(demand, world.bank2)
    outcomes = race(
        lambda: services.claim_dispatch(world.user("bank_staff"), first),
        lambda: services.claim_dispatch(world.user("bank2_staff"), second),
    )
    winners = [o for o in outcomes if isinstance(o, Dispatch)]
    losers = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert losers[0].status == 409
    states = sorted(demand.dispatches.values_list("state", flat=True))
    assert states == sorted([DispatchState.CLAIMED, DispatchState.CANCELLED])


def test_enterprise_accepts_two_offers_at_once(world, bank_products, make_demand):
    demand = make_demand()
    offers = []
    for user, bank in (("bank_staff", world.bank), ("bank2_staff", world.bank2)):
        dispatch = dispatch_of(demand, bank)
        services.claim_dispatch(world.user(user), dispatch)
        offers.append(
            services.make_offer(world.user(user), dispatch, {"amount_wan": 200, "term_months": 12})
        )
    ent_user = world.user("ent_user")
    outcomes = race(*(lambda o=o: services.accept_offer(ent_user, o) for o in offers))
    accepted = [o for o in outcomes if isinstance(o, Offer)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(accepted) == 1 and len(refused) == 1, outcomes
    assert Offer.objects.filter(demand=demand, accepted_at__isnull=False).count() == 1
    demand.refresh_from_db()
    assert demand.accepted_offer_id == accepted[0].pk


def test_one_institutions_dispatches_lock_independently(world, bank_products, make_demand):
    """Locking a dispatch for a claim or an offer locks that row, not the
    institution it is read with: a second claim on another of the same bank's
    dispatches does not wait for the first transaction (under load such joined
    locks serialised a bank's work and deadlocked crossing operations)."""
    from django.db import transaction

    from chanrong.demands.services.offers import _lock

    first = dispatch_of(make_demand(), world.bank)
    second = dispatch_of(make_demand(), world.bank)
    holding = threading.Event()
    release = threading.Event()

    def hold_first():
        try:
            with transaction.atomic():
                _lock(first)
                holding.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=hold_first)
    thread.start()
    try:
        assert holding.wait(30)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            demand, locked = _lock(second)  # would time out if the bank's row were locked
        assert locked.pk == second.pk and locked.institution_id == world.bank.pk
    finally:
        release.set()
        thread.join(30)
