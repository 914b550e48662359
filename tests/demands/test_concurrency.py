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
