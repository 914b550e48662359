"""demand_stats' SQL aggregation gives exactly the figures of the old rule
(every row read and grouped in Python: tests/demands/stats_reference.py), on
a fixture with claims, declines, overdue and escalated dispatches, a
financing through the services, and ~100 more demands written directly with
durations to the microsecond, ties, odd and even group sizes, several
institutions, regions, industries and sizes, financings without a lender or
a date, and publications either side of local midnight."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chanrong.core.models import Region
from chanrong.demands import services, sla
from chanrong.demands.models import Demand, DemandState, Dispatch, DispatchState
from chanrong.demands.stats import GROUPS, demand_stats, demand_stats_by
from chanrong.finance.models import FinancialInstitution, InstitutionKind
from tests.conftest import JIASHAN, _enterprise

from .conftest import dispatch_of
from .stats_reference import demand_stats_by as reference_stats_by
from .test_sla import at, freeze_time
from .test_stats import (
    MARCH,
    story,  # noqa: F401  (fixture)
)

pytestmark = pytest.mark.django_db
USERS = ("admin", "gov_national", "gov_zhejiang", "gov_jiashan", "gov_jiangsu", "bank_staff")
FIGURES = (
    "key",
    "label",
    "demands",
    "demand_amount",
    "dispatches",
    "claims",
    "claimed_in_time",
    "financings",
    "financing_amount",
    "claim_rate",
    "success_rate",
    "compliance",
    "median_claim_hours",
    "median_disburse_days",
)


def figures(row) -> tuple:
    return tuple(getattr(row, name) for name in FIGURES)


@pytest.fixture
def mixed(world, story):  # noqa: F811
    """The story (two claims, one in time, a financing), a decline, the
    escalation of the overdue dispatches, then random demands of six
    enterprises in three regions dispatched to four institutions."""
    d1, d2, d3 = story
    with freeze_time(at(2026, 3, 9, 11)):
        d4 = services.publish_demand(
            world.user("ent2_user"),
            services.create_demand(
                world.user("ent2_user"),
                {
                    "kind": "debt",
                    "amount_wan": 80,
                    "term_months": 6,
                    "purpose": "备货",
                    "rate_max": "6",
                    "collateral_offered": [],
                    "urgency": "normal",
                },
            ),
        )
    with freeze_time(at(2026, 3, 10, 9)):
        services.decline_dispatch(world.user("bank_staff"), dispatch_of(d4, world.bank), "额度已满")
    with freeze_time(at(2026, 3, 25, 9)):
        assert sla.run().escalated >= 1
    rng = random.Random(20)
    other = (
        Region.objects.filter(code__startswith="3304", code__regex=r"^\d{4}[1-9]\d$")
        .exclude(code=JIASHAN)
        .order_by("code")
        .first()
    )
    enterprises = [
        world.ent,
        world.ent2,
        world.ent_js,
        _enterprise("嘉兴测试甲有限公司", other.code, "C34", 11),
        _enterprise("嘉兴测试乙有限公司", other.code, "F51", 12),
        _enterprise("嘉善测试丙有限公司", JIASHAN, "I65", 13),
    ]
    enterprises[4].size = ""
    enterprises[4].save(update_fields=["size"])
    third = FinancialInstitution.objects.create(
        name="嘉兴银行股份有限公司",
        short_name="嘉兴银行",
        kind=InstitutionKind.BANK,
        region_id=JIASHAN,
    )
    institutions = [world.bank, world.bank2, third]
    states = [s for s in DemandState.values if s != DemandState.DRAFT]
    base = at(2026, 3, 1, 0)
    for n in range(100):
        # Some publications at 23:30 or 00:30 local time (either side of UTC's date).
        published = base + dt.timedelta(
            days=rng.randrange(31), hours=rng.choice([0.5, 9, 13, 23.5]), seconds=rng.randrange(60)
        )
        state = rng.choice(states + [DemandState.DISBURSED] * 4)
        disbursed = state == DemandState.DISBURSED
        demand = Demand.objects.create(
            enterprise=rng.choice(enterprises),
            kind=rng.choice(["debt", "debt", "equity"]),
            amount=Decimal(rng.randrange(1, 10**8)) / 100,
            term_months=12,
            purpose=f"随机需求 {n}",
            state=state if n != 7 else DemandState.DRAFT,
            published_at=published,
            disbursed_amount=(
                Decimal(rng.randrange(1, 10**8)) / 100 if disbursed and n % 9 else None
            ),
            disbursed_on=(
                (published + dt.timedelta(days=rng.choice([0, 3, 3, 10, 41]))).date()
                if disbursed and n % 5
                else None
            ),
            outcome_institution=rng.choice(institutions) if disbursed and n % 4 else None,
        )
        for institution in rng.sample(institutions, rng.randrange(0, 4)):
            dispatched = published + dt.timedelta(minutes=rng.randrange(120))
            claimed = (
                dispatched
                + dt.timedelta(
                    hours=rng.choice([1, 5, 24, 24, 70]), microseconds=rng.choice([0, 0, 1, 999999])
                )
                if rng.random() < 0.7
                else None
            )
            Dispatch.objects.create(
                demand=demand,
                institution=institution,
                state=DispatchState.CLAIMED if claimed else DispatchState.DISPATCHED,
                dispatched_at=dispatched,
                claim_due_at=dispatched + dt.timedelta(hours=48),
                claimed_at=claimed,
            )
    return d1, d2, d3, d4


@pytest.mark.parametrize("username", USERS)
def test_sql_figures_equal_the_old_rule(world, mixed, username):
    user = world.user(username)
    splits = tuple(GROUPS)
    periods = [MARCH, {"start": dt.date(2026, 3, 10), "end": dt.date(2026, 3, 10)}]
    for period in periods:
        new = demand_stats_by(user, group_bys=splits, **period)
        old = reference_stats_by(user, group_bys=splits, **period)
        for new_split, old_split in zip(new, old, strict=True):
            assert new_split.group_by == old_split.group_by
            assert figures(new_split.total) == figures(old_split.total), new_split.group_by
            assert [figures(r) for r in new_split.rows] == [figures(r) for r in old_split.rows]
            assert new_split.as_dict() == old_split.as_dict()


def test_the_fixture_covers_what_it_claims(world, mixed):
    admin = world.user("admin")
    by_institution = demand_stats(admin, group_by="institution", **MARCH)
    assert len(by_institution.rows) == 3
    assert len(demand_stats(admin, group_by="region", **MARCH).rows) == 3
    assert "" in {r.key for r in demand_stats(admin, group_by="size", **MARCH).rows}
    total = by_institution.total
    assert 0 < total.claimed_in_time < total.claims < total.dispatches
    assert 0 < total.financings < total.demands
    assert Dispatch.objects.filter(state=DispatchState.DECLINED).exists()
    assert Demand.objects.filter(state=DemandState.DISBURSED, outcome_institution=None).exists()
    assert Demand.objects.filter(state=DemandState.DISBURSED, disbursed_on=None).exists()


@pytest.mark.parametrize("group_by", ["institution", "kind"])
def test_one_split_equals_the_old_rule(world, mixed, group_by):
    """A single split: for the institution split alone the demand totals
    have their own statement."""
    user = world.user("gov_zhejiang")
    (new,) = demand_stats_by(user, group_bys=(group_by,), **MARCH)
    (old,) = reference_stats_by(user, group_bys=(group_by,), **MARCH)
    assert new.as_dict() == old.as_dict()


@pytest.mark.parametrize(
    "group_bys,postgres,sqlite",
    [
        # PostgreSQL: one statement over the dispatches and one over the
        # demands (GROUPING SETS), then the labels of the split (region).
        # SQLite: per split demands, dispatches, the two medians' middles and
        # the labels.
        (("region",), 3, 5),
        # the institution split alone: on SQLite + the demand totals
        (("institution",), 3, 6),
        # the 督办看板's two splits
        (("region", "institution"), 4, 10),
        (tuple(GROUPS), 5, 23),
    ],
)
def test_statements(world, mixed, group_bys, postgres, sqlite):
    user = world.user("gov_jiashan")
    demand_stats_by(user, group_bys=group_bys, **MARCH)  # the user's scope, read once
    with CaptureQueriesContext(connection) as captured:
        demand_stats_by(user, group_bys=group_bys, **MARCH)
    expected = postgres if connection.vendor == "postgresql" else sqlite
    assert len(captured) == expected, [q["sql"] for q in captured.captured_queries]
