"""超期无人接单 (`demand_todo(..., "unclaimed")`), the government home page's
count and the list it links to, against the rule computed one demand at a
time: a dispatched demand with a dispatch still waiting past its claim
deadline, or an expired demand no institution ever claimed — within what
each viewer may see."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chanrong.demands.models import Demand, DemandState, Dispatch, DispatchState
from chanrong.demands.todo import demand_counts, demand_todo
from chanrong.portal.todo import todos_for

from .test_sla import at, freeze_time

pytestmark = pytest.mark.django_db

NOW = at(2026, 3, 4, 10)
VIEWERS = (
    "admin",
    "gov_national",
    "gov_zhejiang",
    "gov_jiashan",
    "gov_jiangsu",
    "bank_staff",
    "bank2_staff",
    "ent_user",
    "ent2_user",
)


def by_hand(demands, now) -> set[int]:
    out = set()
    for demand in demands:
        dispatches = list(Dispatch.objects.filter(demand=demand))
        if demand.state == DemandState.DISPATCHED and any(
            d.state == DispatchState.DISPATCHED and d.claim_due_at < now for d in dispatches
        ):
            out.add(demand.pk)
        if demand.state == DemandState.EXPIRED and not any(d.claimed_at for d in dispatches):
            out.add(demand.pk)
    return out


@pytest.fixture
def demands(world, bank_products, make_demand):
    """Demands of ent_user (嘉善), ent2_user (嘉善) and one moved to 苏州,
    each dispatched to both banks, then set to the edge cases."""
    made = {}
    with freeze_time(NOW - timedelta(days=5)):
        for name, user in (
            ("overdue", "ent_user"),  # one dispatch past its claim deadline: in
            ("due_now", "ent_user"),  # deadline exactly now: not yet
            ("on_time", "ent2_user"),  # deadlines ahead: out
            ("claimed_late", "ent_user"),  # deadline passed but claimed: out
            ("demand_claimed", "ent2_user"),  # the demand moved on: out
            ("expired_never", "ent2_user"),  # expired, nobody claimed: in
            ("expired_claimed", "ent_user"),  # expired after a claim: out
            ("expired_js", "ent2_user"),  # in 苏州: national, 江苏, admin
            ("overdue_js", "ent_user"),  # in 苏州 too
            ("published", "ent_user"),  # overdue dispatch but demand not dispatched: out
        ):
            made[name] = make_demand(user=user, purpose=name)
    ahead = NOW + timedelta(days=1)
    Dispatch.objects.filter(demand__in=made.values()).update(claim_due_at=ahead)

    def dispatches(name):
        return Dispatch.objects.filter(demand=made[name]).order_by("institution_id")

    def state(name, value):
        Demand.objects.filter(pk=made[name].pk).update(state=value)

    first = dispatches("overdue").first()
    Dispatch.objects.filter(pk=first.pk).update(claim_due_at=NOW - timedelta(seconds=1))
    dispatches("due_now").update(claim_due_at=NOW)
    dispatches("claimed_late").update(
        claim_due_at=NOW - timedelta(hours=1),
        state=DispatchState.CLAIMED,
        claimed_at=NOW - timedelta(hours=2),
    )
    state("demand_claimed", DemandState.CLAIMED)
    dispatches("demand_claimed").update(claim_due_at=NOW - timedelta(hours=1))
    for name in ("expired_never", "expired_claimed", "expired_js"):
        state(name, DemandState.EXPIRED)
        dispatches(name).update(state=DispatchState.EXPIRED, claim_due_at=NOW - timedelta(days=1))
    Dispatch.objects.filter(pk=dispatches("expired_claimed").first().pk).update(
        claimed_at=NOW - timedelta(days=2)
    )
    dispatches("overdue_js").update(claim_due_at=NOW - timedelta(minutes=5))
    state("published", DemandState.PUBLISHED)
    dispatches("published").update(claim_due_at=NOW - timedelta(hours=1))
    Demand.objects.filter(pk__in=[made["expired_js"].pk, made["overdue_js"].pk]).update(
        enterprise=world.ent_js
    )
    return made


@pytest.mark.parametrize("viewer", VIEWERS)
def test_unclaimed_is_the_rule_one_demand_at_a_time(world, demands, viewer):
    user = world.user(viewer)
    visible = Demand.objects.visible_to(user)
    expected = by_hand(visible, NOW)
    listed = demand_todo(visible, "unclaimed", NOW)
    assert set(listed.values_list("pk", flat=True)) == expected
    assert demand_counts(user, ["unclaimed"], NOW) == {"unclaimed": len(expected)}


def test_which_demands_are_unclaimed(world, demands):
    names = {d.pk: name for name, d in demands.items()}

    def listed(viewer):
        visible = Demand.objects.visible_to(world.user(viewer))
        return {
            names[pk] for pk in demand_todo(visible, "unclaimed", NOW).values_list("pk", flat=True)
        }

    assert listed("gov_national") == {"overdue", "expired_never", "expired_js", "overdue_js"}
    assert listed("gov_zhejiang") == listed("gov_jiashan") == {"overdue", "expired_never"}
    assert listed("gov_jiangsu") == {"expired_js", "overdue_js"}
    with freeze_time(NOW):
        home = {item.key: item.count for item in todos_for(world.user("gov_zhejiang"), NOW)}
    assert home["demands_unclaimed"] == 2


def test_nothing_unclaimed(world):
    assert demand_counts(world.user("gov_national"), ["unclaimed"], NOW) == {"unclaimed": 0}
