"""The institution workbench's ranking reads a fixed number of statements,
whatever the number of open demands or white-listed enterprises behind it
(issue 20: the 派单工作台 at county scale sent IN lists of ~3,000 literal
ids). On PostgreSQL the id sets go as one array parameter each, so the
statements' text does not grow either."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chanrong.demands.models import Demand, DemandState
from chanrong.matching import access, adapter, services
from chanrong.registry.models import ListType, Qualification
from tests.conftest import JIASHAN, _enterprise

from .surface_fixtures import publish
from .test_adapter import _list


@pytest.fixture(autouse=True)
def _fresh_cache():
    adapter.clear_cache()
    yield
    adapter.clear_cache()


@pytest.fixture
def products(world):
    bank, bank2 = world.user("bank_staff"), world.user("bank2_staff")
    return [
        publish(bank, name="善企信用贷"),
        publish(bank, name="善企快贷", amount_max_wan=300, rate_min="4.2"),
        publish(bank2, name="工行经营快贷", amount_max_wan=1000),
    ]


def _open_demands(n: int, serial: int) -> list:
    """n enterprises in 嘉善, each with a qualification and a published demand."""
    today = timezone.localdate()
    made = []
    for i in range(n):
        enterprise = _enterprise(f"嘉善测试企业{serial + i}", JIASHAN, "C34", serial + i)
        Qualification.objects.create(
            enterprise=enterprise,
            kind="high_tech",
            issuer="科技厅",
            valid_from=today - timedelta(days=9),
        )
        Demand.objects.create(
            enterprise=enterprise,
            kind="debt",
            amount=Decimal(1_000_000 + 10_000 * i),
            term_months=12,
            purpose="流动资金",
            rate_max=Decimal("6"),
            state=DemandState.PUBLISHED,
            published_at=timezone.now() - timedelta(days=1),
        )
        made.append(enterprise)
    return made


def _statements(fn) -> list[str]:
    fn()  # the per-process caches (products, weights) warm, as in a served page
    with CaptureQueriesContext(connection) as queries:
        fn()
    return [q["sql"] for q in queries.captured_queries]


def _shape(sql: str) -> str:
    """The statement without its literal values (PostgreSQL's client-side
    binding writes the array parameter into the text)."""
    sql = re.sub(r"'\{[0-9,]*\}'", "'{…}'", sql)
    # Lists of the few ids of the 20 rows shown, and the clock, may differ.
    sql = re.sub(r"'[0-9-]+ [0-9:.+]+'::timestamptz", "'…'", sql)
    return re.sub(r"IN \(('?[0-9]+'?(, )?)+\)", "IN (…)", sql)


def test_ranking_statements_do_not_grow_with_open_demands(world, products):
    _open_demands(2, 100)
    few = _statements(lambda: services.rank_open_demands(world.bank.pk, limit=20))
    _open_demands(40, 200)
    many = _statements(lambda: services.rank_open_demands(world.bank.pk, limit=20))
    assert len(many) == len(few)
    if connection.vendor == "postgresql":
        assert [_shape(s) for s in many] == [_shape(s) for s in few]
        assert not any(re.search(r"IN \((\d+, ){60}", s) for s in many)


def test_outreach_statements_do_not_grow_with_the_white_list(world, products):
    _list(world, ListType.KEY_ENTERPRISES, "嘉善县重点企业白名单", [world.ent, world.ent2])
    few = _statements(lambda: services.outreach(world.bank.pk, limit=20))
    _list(world, ListType.KEY_ENTERPRISES, "嘉善县重点企业白名单二", _open_demands(40, 300))
    many = _statements(lambda: services.outreach(world.bank.pk, limit=20))
    assert len(many) == len(few)
    if connection.vendor == "postgresql":
        assert [_shape(s) for s in many] == [_shape(s) for s in few]


def _dispatch(world, enterprises) -> None:
    from chanrong.demands.models import Dispatch

    now = timezone.now()
    for enterprise in enterprises:
        Dispatch.objects.create(
            demand=enterprise.demands.get(),
            institution=world.bank,
            dispatched_at=now,
            claim_due_at=now + timedelta(days=3),
        )


def test_workbench_panel_statements_do_not_grow(world, products):
    """The whole panel: ranked demands dispatched to the bank and outreach
    among the white list, with 3 and then 43 of each."""
    user = world.user("bank_staff")
    first = _open_demands(2, 400)
    _dispatch(world, first)
    _list(world, ListType.KEY_ENTERPRISES, "嘉善县重点企业白名单", [world.ent, world.ent2])
    few = _statements(lambda: access.workbench_panel(user=user))
    more = _open_demands(40, 500)
    _dispatch(world, more)
    quiet = [_enterprise(f"嘉善白名单企业{n}", JIASHAN, "C34", n) for n in range(900, 940)]
    _list(world, ListType.KEY_ENTERPRISES, "嘉善县重点企业白名单二", quiet)
    many = _statements(lambda: access.workbench_panel(user=user))
    assert len(access.workbench_panel(user=user)["ranked_demands"]) == 20
    assert len(many) == len(few), "\n".join(s[:150] for s in many)
    if connection.vendor == "postgresql":
        assert [_shape(s) for s in many] == [_shape(s) for s in few]


def _old_institution_demands(actor, institution_id, limit):
    """The rule before issue 20: rank every open demand, keep the visible
    ones whose best product may be named, widening the search as needed."""
    visible = Demand.objects.visible_to(actor)
    ask = limit * 2
    while True:
        candidates = services.rank_open_demands(institution_id, limit=ask)
        rows = access._visible_demand_rows(actor, institution_id, candidates, visible, limit)
        if len(rows) >= limit or len(candidates) < ask or ask >= access.DEMAND_SEARCH_CAP:
            return rows
        ask = min(ask * 4, access.DEMAND_SEARCH_CAP)


def _key(rows):
    return [(r.demand.pk, r.score, r.best_product_id, r.reasons) for r in rows]


@pytest.mark.parametrize("grouped_pairs", [services.GROUPED_PAIRS, 0])
def test_ranking_only_the_visible_demands_gives_the_old_list(
    world, products, grouped_pairs, monkeypatch
):
    """Only the demands dispatched to the bank are ranked now; the list is the
    one the old path found by ranking every open demand and filtering."""
    from chanrong.demands.models import Dispatch

    monkeypatch.setattr(services, "GROUPED_PAIRS", grouped_pairs)
    enterprises = _open_demands(30, 600)
    now = timezone.now()
    for i, enterprise in enumerate(enterprises):
        if i % 3 == 0:  # a third dispatched to the bank, the rest to nobody
            Dispatch.objects.create(
                demand=enterprise.demands.get(),
                institution=world.bank,
                dispatched_at=now,
                claim_due_at=now + timedelta(days=3),
            )
    user = world.user("bank_staff")
    for limit in (1, 3, 20):
        new = access.institution_demands(user, limit=limit)
        assert _key(new) == _key(_old_institution_demands(user, world.bank.pk, limit))
        assert len(new) == min(limit, 10)
    assert access.institution_demands(world.user("bank2_staff"), limit=5) == []


def test_pairs_scored_together_equal_one_row_at_a_time(world, products):
    """The ranked lists' reasons are now computed for all their pairs in one
    pass (`_score_pairs`); each pair's features, score and reasons are those
    of the one-row pass (`_score_row`) used before."""
    import numpy as np

    _open_demands(12, 700)
    table = adapter.product_table()
    facts = adapter.demand_table(Demand.objects.filter(state=DemandState.PUBLISHED))
    policy = services.policy_rows(facts)
    fitted = services.current_model()
    rows = np.repeat(np.arange(len(facts)), len(table))
    cols = np.tile(np.arange(len(table)), len(facts))
    together = services._score_pairs(table, facts, rows, cols, policy, fitted)
    for i, (row, col) in enumerate(zip(rows, cols, strict=True)):
        one = services._score_row(table, facts, int(row), np.array([col]), policy[row], fitted)
        assert together.scores[i] == one.scores[0]
        assert [f[i] for f in together.feats] == [f[0] for f in one.feats]
        assert together.failed[i] == one.failed[0] and together.unknown[i] == one.unknown[0]
        assert services._reasons(together, i) == services._reasons(one, 0)
    ranked = services._rank_rows(table, facts, services._institution_cols(table, world.bank.pk), 20)
    assert ranked and all(reasons for *_rest, reasons in ranked)


@pytest.mark.parametrize("grouped_pairs", [services.GROUPED_PAIRS, 0])
def test_facts_no_product_asks_for_are_not_read_and_change_nothing(
    world, products, grouped_pairs, monkeypatch
):
    """Holdings, chains and the 碳效等级 are read only when one of the
    institution's products asks for them; the lists are those with every
    fact read."""
    from chanrong.green.models import CarbonGrade, GradeBasis

    monkeypatch.setattr(services, "GROUPED_PAIRS", grouped_pairs)
    enterprises = _open_demands(6, 800)
    for grade, enterprise in enumerate(enterprises[:5], start=1):
        CarbonGrade.objects.create(
            enterprise=enterprise,
            year=timezone.localdate().year - 1,
            grade=grade,
            intensity=Decimal("0.1"),
            basis=GradeBasis.NATIONAL,
            division="C34",
            peers=10,
            bounds=["0.1", "0.2", "0.3", "0.4"],
        )
    _list(world, ListType.KEY_ENTERPRISES, "嘉善县重点企业白名单", enterprises)
    table = adapter.product_table()
    for bank in (world.bank, world.bank2):
        assert adapter.facts_needed(table, services._institution_cols(table, bank.pk)) == {
            "supply_facts": False,
            "carbon_facts": False,
        }
    lean = [
        (services.rank_open_demands(b.pk), services.outreach(b.pk))
        for b in (world.bank, world.bank2)
    ]
    monkeypatch.setattr(
        adapter, "facts_needed", lambda *a: {"supply_facts": True, "carbon_facts": True}
    )
    full = [
        (services.rank_open_demands(b.pk), services.outreach(b.pk))
        for b in (world.bank, world.bank2)
    ]
    assert lean == full and lean[0][0]
