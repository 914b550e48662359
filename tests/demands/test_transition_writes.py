"""core.workflow.apply_transition writes what a transition changed, and
publishing a demand locks the demand row once (held=True for both moves)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chanrong.core.workflow import apply_transition
from chanrong.demands import services, workflows
from chanrong.demands.models import Demand, DemandState

from .conftest import demand_data

pytestmark = pytest.mark.django_db


def test_publishing_locks_the_demand_once_and_writes_only_what_changed(world, bank_products):
    user = world.user("ent_user")
    demand = services.create_demand(user, demand_data())
    with CaptureQueriesContext(connection) as queries:
        services.publish_demand(user, demand)
    sql = [q["sql"] for q in queries.captured_queries]
    table = Demand._meta.db_table
    locks = [
        s for s in sql if s.startswith("SELECT") and "FOR UPDATE" in s and f'FROM "{table}"' in s
    ]
    if connection.features.has_select_for_update:  # SQLite locks the whole file instead
        assert len(locks) == 1, locks
    updates = [s for s in sql if s.startswith(f'UPDATE "{table}"')]
    assert updates and not any('"purpose"' in s or '"amount"' in s for s in updates), updates
    demand.refresh_from_db()
    assert demand.state == DemandState.DISPATCHED and demand.published_at is not None


@pytest.mark.django_db(transaction=True)
def test_held_outside_a_transaction_is_refused_and_writes_nothing(world):
    user = world.user("ent_user")
    demand = services.create_demand(user, demand_data())
    with pytest.raises(RuntimeError):
        apply_transition(workflows.DEMAND, demand, "publish", user, held=True)
    demand.refresh_from_db()
    assert demand.state == DemandState.DRAFT
