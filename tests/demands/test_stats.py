"""demand_stats on hand-made data whose answers are known."""

from __future__ import annotations

import datetime as dt

import pytest

from chanrong.core.errors import ValidationFailed
from chanrong.demands import services
from chanrong.demands.stats import demand_stats

from .conftest import WAN, dispatch_of
from .test_sla import at, freeze_time

pytestmark = pytest.mark.django_db
MARCH = {"start": dt.date(2026, 3, 1), "end": dt.date(2026, 3, 31)}


@pytest.fixture
def story(world, bank_products, make_demand):
    """D1 and D2 go to both banks, D3 (equity) to nobody. The bank claims D1
    after 24 h (in time) and lends 180 万 ten days after publication; bank2
    claims D2 after 96 h (late: due Wednesday 03-04)."""
    with freeze_time(at(2026, 3, 2, 10)):
        d1 = make_demand(amount_wan=200)
        d2 = make_demand(user="ent2_user", amount_wan=100)
        d3 = make_demand(kind="equity", amount_wan=50)
    bank, bank2 = world.user("bank_staff"), world.user("bank2_staff")
    with freeze_time(at(2026, 3, 3, 10)):
        services.claim_dispatch(bank, dispatch_of(d1, world.bank))
        offer = services.make_offer(
            bank, dispatch_of(d1, world.bank), {"amount_wan": 200, "term_months": 12}
        )
        services.accept_offer(world.user("ent_user"), offer)
    with freeze_time(at(2026, 3, 6, 10)):
        services.claim_dispatch(bank2, dispatch_of(d2, world.bank2))
    with freeze_time(at(2026, 3, 12, 15)):
        services.record_result(
            bank,
            dispatch_of(d1, world.bank),
            "disbursed",
            {"amount_wan": 180, "rate": "4", "term_months": 12, "disbursed_on": "2026-03-12"},
        )
    return d1, d2, d3


def test_totals(world, story):
    total = demand_stats(world.user("admin"), group_by="region", **MARCH).total
    assert (total.demands, total.demand_amount) == (3, 350 * WAN)
    assert (total.dispatches, total.claims, total.claimed_in_time) == (4, 2, 1)
    assert (total.financings, total.financing_amount) == (1, 180 * WAN)
    assert total.claim_rate == 0.5
    assert total.success_rate == 0.3333
    assert total.compliance == 0.25
    assert total.median_claim_hours == 60  # median of 24 h and 96 h
    assert total.median_disburse_days == 10


def test_by_institution(world, story):
    result = demand_stats(world.user("gov_jiashan"), group_by="institution", **MARCH)
    rows = {row.key: row for row in result.rows}
    bank, bank2 = rows[str(world.bank.pk)], rows[str(world.bank2.pk)]
    assert bank.label == world.bank.name
    assert (bank.demands, bank.dispatches, bank.claims, bank.claimed_in_time) == (2, 2, 1, 1)
    assert (bank.financings, bank.financing_amount, bank.compliance) == (1, 180 * WAN, 0.5)
    assert (bank2.demands, bank2.claims, bank2.claimed_in_time, bank2.financings) == (2, 1, 0, 0)
    assert bank2.median_claim_hours == 96 and bank2.compliance == 0


def test_by_kind_region_size_industry(world, story):
    admin = world.user("admin")
    kinds = {r.key: r for r in demand_stats(admin, group_by="kind", **MARCH).rows}
    assert (kinds["debt"].demands, kinds["debt"].dispatches) == (2, 4)
    assert (kinds["equity"].demands, kinds["equity"].dispatches, kinds["equity"].claim_rate) == (
        1,
        0,
        None,
    )
    regions = demand_stats(admin, group_by="region", **MARCH).rows
    assert [(r.key, r.demands) for r in regions] == [("330421", 3)]
    sizes = demand_stats(admin, group_by="size", **MARCH).rows
    assert sum(r.demands for r in sizes) == 3
    sections = demand_stats(admin, group_by="industry", **MARCH).rows
    assert sum(r.financings for r in sections) == 1


def test_scoped_by_visibility_and_period(world, story):
    assert demand_stats(world.user("gov_jiangsu"), group_by="region", **MARCH).total.demands == 0
    bank = demand_stats(world.user("bank_staff"), group_by="institution", **MARCH)
    assert (bank.total.demands, bank.total.dispatches, bank.total.claims) == (2, 2, 1)
    assert [r.key for r in bank.rows] == [str(world.bank.pk)]
    later = demand_stats(
        world.user("admin"), start=dt.date(2026, 3, 3), end=dt.date(2026, 3, 31), group_by="kind"
    )
    assert later.total.demands == 0 and later.rows == []


@pytest.mark.parametrize(
    "start,end,group_by",
    [("2026-13-01", "", "region"), ("2026-03-05", "2026-03-01", "kind"), ("", "", "city")],
)
def test_bad_input_is_422(world, start, end, group_by):
    with pytest.raises(ValidationFailed):
        demand_stats(world.user("admin"), start=start, end=end, group_by=group_by)
