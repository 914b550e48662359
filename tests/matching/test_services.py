"""The matching services on real rows: both directions, reasons, determinism,
dispatch order, sparse profiles, the stored batch and incremental re-matching."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from chanrong.core import domain
from chanrong.core.models import Region
from chanrong.demands import services as demands
from chanrong.demands import signals as demand_signals
from chanrong.demands.models import Demand, DemandState
from chanrong.finance import services as finance
from chanrong.finance.models import Product, ProductState
from chanrong.matching import adapter, policy, services
from chanrong.matching.models import DemandMatch
from chanrong.registry import services as registry
from chanrong.registry.models import Enterprise

from .surface_fixtures import demand_data, publish


@pytest.fixture(autouse=True)
def _fresh_cache():
    adapter.clear_cache()
    yield
    adapter.clear_cache()


@pytest.fixture
def products(world):
    bank, bank2 = world.user("bank_staff"), world.user("bank2_staff")
    return {
        "fit": publish(bank, name="善企信用贷"),
        "fit2": publish(bank, name="善企快贷", amount_max_wan=300, rate_min="4.2"),
        "small": publish(bank, name="善企微贷", amount_max_wan=50),
        "tax_a": publish(bank, name="税易贷", kind="tax", min_tax_grade="A"),
        "bank2": publish(bank2, name="工行经营快贷", amount_max_wan=1000),
    }


def _demand(world, **overrides):
    """A draft demand of ent_user (no dispatch, no hooks beyond create)."""
    return demands.create_demand(world.user("ent_user"), demand_data(**overrides))


def _set_grade(world, enterprise, grade):
    registry.set_tax_grade(world.user("admin"), enterprise, timezone.localdate().year - 1, grade)


def test_match_demand_ranks_explains_and_says_why_not(world, products):
    _set_grade(world, world.ent, "B")
    demand = _demand(world)
    result = services.match_demand(demand, limit=10)
    ranked = [m.product_id for m in result.ranked]
    assert set(ranked) == {products["fit"].pk, products["fit2"].pk, products["bank2"].pk}
    keys = [(-m.score, m.product_id) for m in result.ranked]
    assert keys == sorted(keys)
    assert all(m.reasons and m.failed == [] for m in result.ranked)
    why_not = {m.product_id: m for m in result.not_eligible}
    assert why_not[products["small"].pk].failed == ["额度上限 50 万元，需求 200 万元"]
    assert "需纳税信用等级 A 级，当前为 B 级" in why_not[products["tax_a"].pk].failed
    assert not any(m.eligible for m in result.not_eligible)
    assert [i.institution_id for i in result.institutions] == list(
        dict.fromkeys(m.institution_id for m in result.ranked)
    )
    assert result.weights_region == "" and set(result.policy_weights) == {
        "white_list",
        "specialised",
        "tech",
        "green",
    }
    # Same data, same answer.
    assert services.match_demand(demand, limit=10) == result
    # One institution's products only: the same entries, in the same order.
    own = services.match_demand(demand, limit=10, institution_id=world.bank.pk)
    assert own.ranked == [m for m in result.ranked if m.institution_id == world.bank.pk]
    assert own.not_eligible == [m for m in result.not_eligible if m.institution_id == world.bank.pk]
    assert {i.institution_id for i in own.institutions} == {world.bank.pk}


def test_sparse_profile_gets_need_more_reasons_not_an_error(world):
    sparse = Enterprise.objects.create(
        uscc="91330421MA2B000001", name="资料很少的企业", region_id="330421", industry_id="C34"
    )
    publish(
        world.user("bank_staff"),
        name="成熟企业贷",
        min_tax_grade="B",
        min_years=3,
        min_revenue_wan=100,
        sizes=["small", "micro"],
    )
    demand = Demand.objects.create(
        enterprise=sparse,
        kind="debt",
        amount=Decimal(1_000_000),
        term_months=12,
        purpose="周转",
        state=DemandState.PUBLISHED,
    )
    result = services.match_demand(demand)
    (match,) = result.ranked
    assert match.eligible is False and match.failed == []
    assert match.missing and all(m.startswith("需补充：") for m in match.missing)
    assert "需补充：纳税信用等级" in match.missing


def test_dispatch_targets_are_the_qualifying_set_best_first(world, products):
    demand = _demand(world)
    targets = services.dispatch_targets(demand)
    today = timezone.localdate()
    results = finance.evaluate_products(
        Product.objects.filter(state=ProductState.PUBLISHED),
        world.ent,
        demands.demand_facts(demand),
        today=today,
    )
    possible = {pk for pk, r in results.items() if r.possible}
    assert {pk for pks in targets.values() for pk in pks} == possible
    ranked = {m.product_id: m.score for m in services.match_demand(demand, limit=50).ranked}
    for pks in targets.values():
        assert [ranked[pk] for pk in pks] == sorted((ranked[pk] for pk in pks), reverse=True)
    best = [max(ranked[pk] for pk in pks) for pks in targets.values()]
    assert best == sorted(best, reverse=True)


def test_policy_weights_of_the_region_are_reported(world, products):
    policy.set_weights(
        world.user("gov_jiashan"),
        Region.objects.get(pk="330421"),
        {"white_list": 3, "specialised": 1, "tech": 0, "green": 0},
    )
    result = services.match_demand(_demand(world))
    assert result.weights_region == "330421"
    assert result.policy_weights["white_list"] == 3.0


def test_institution_side_sees_only_its_own_products(world, products):
    _demand(world)
    open_demand = demands.publish_demand(world.user("ent_user"), _demand(world))
    mine = services.rank_open_demands(world.bank2.pk)
    assert [d.demand_id for d in mine] == [open_demand.pk]
    assert mine[0].best_product_id == products["bank2"].pk and mine[0].reasons
    assert services.rank_open_demands(world.bank2.pk) == mine
    ours = {p.pk for p in products.values() if p.institution_id == world.bank.pk}
    assert all(d.best_product_id in ours for d in services.rank_open_demands(world.bank.pk))


@pytest.mark.parametrize("grouped_pairs", [services.GROUPED_PAIRS, 0])
def test_outreach_skips_enterprises_that_asked_recently(
    world, products, grouped_pairs, monkeypatch
):
    """Also through the province-scale path (grouped), forced with grouped_pairs=0."""
    from chanrong.registry.models import ListType

    monkeypatch.setattr(services, "GROUPED_PAIRS", grouped_pairs)

    from .test_adapter import _list

    _list(world, ListType.KEY_ENTERPRISES, "嘉善县重点企业白名单", [world.ent, world.ent2])
    first = services.outreach(world.bank.pk)
    assert {c.enterprise_id for c in first} == {world.ent.pk, world.ent2.pk}
    assert all(c.lists == ["嘉善县重点企业白名单"] for c in first)
    demands.publish_demand(world.user("ent_user"), _demand(world))
    assert {c.enterprise_id for c in services.outreach(world.bank.pk)} == {world.ent2.pk}
    # The second bank has no branch in 嘉善: its region is Beijing.
    assert services.outreach(world.bank2.pk) == []


def test_outreach_narrows_to_a_policy_group(world, products):
    """首贷培育: with group="no_loan" only the 无贷户 among the candidates."""
    from chanrong.registry.models import ListType
    from chanrong.risk.services import loanbook

    from .test_adapter import _list

    _list(world, ListType.KEY_ENTERPRISES, "嘉善县重点企业白名单", [world.ent, world.ent2])
    today = timezone.localdate()
    loanbook.report_loan(
        world.user("bank_staff"),
        {
            "uscc": world.ent.uscc,
            "contract_no": "NL-1",
            "principal": "1000000",
            "disbursed_on": (today - timedelta(days=30)).isoformat(),
            "maturity_on": (today + timedelta(days=300)).isoformat(),
        },
    )
    narrowed = services.outreach(world.bank.pk, group="no_loan")
    assert {c.enterprise_id for c in narrowed} == {world.ent2.pk}
    assert len(services.outreach(world.bank.pk)) == 2


def test_grouped_outreach_gives_the_same_list(world, products, monkeypatch):
    from chanrong.registry.models import ListType

    from .test_adapter import _list

    _list(world, ListType.KEY_ENTERPRISES, "嘉善县重点企业白名单", [world.ent, world.ent2])
    demands.publish_demand(world.user("ent_user"), _demand(world))
    dense = services.outreach(world.bank.pk), services.rank_open_demands(world.bank.pk)
    monkeypatch.setattr(services, "GROUPED_PAIRS", 0)
    grouped = services.outreach(world.bank.pk), services.rank_open_demands(world.bank.pk)
    assert grouped == dense and dense[1]


def test_rematch_command_stores_top_k_and_replaces_it(world, products):
    live = demands.publish_demand(world.user("ent_user"), _demand(world))
    draft = _demand(world)
    out = StringIO()
    call_command("matching_rematch", "--all", stdout=out)
    assert "re-matched 1" in out.getvalue()
    stored = services.stored_matches(live)
    online = services.match_demand(live, limit=20).ranked
    assert [(p, i) for p, i, _s in stored] == [(m.product_id, m.institution_id) for m in online]
    assert [s for *_x, s in stored] == pytest.approx([m.score for m in online])
    assert not DemandMatch.objects.filter(demand=draft).exists()
    call_command("matching_rematch", stdout=StringIO())  # nothing new: unchanged
    assert services.stored_matches(live) == stored
    Demand.objects.filter(pk=live.pk).update(state=DemandState.WITHDRAWN)
    call_command("matching_rematch", "--all", stdout=StringIO())
    assert not DemandMatch.objects.filter(demand=live).exists()
    with pytest.raises(CommandError):
        call_command("matching_rematch", "--k", "0")


def test_changes_enqueue_rematch_tasks_after_commit(
    world, products, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    def queued():
        return sorted(DBTaskResult.objects.values_list("task_path", flat=True))

    DBTaskResult.objects.all().delete()
    domain.discard_pending()  # the fixtures' products, never committed
    with django_capture_on_commit_callbacks(execute=True):
        demand = _demand(world)
    assert queued() == []  # a new draft has nothing matched to refresh
    with django_capture_on_commit_callbacks(execute=True):
        demands.publish_demand(world.user("ent_user"), demand)
    assert queued() == ["chanrong.matching.tasks.rematch_demands"]
    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        _set_grade(world, world.ent, "A")
        _set_grade(world, world.ent2, "B")
        _set_grade(world, world.ent, "B")
    # One task for the whole transaction, naming both enterprises once.
    (task,) = DBTaskResult.objects.all()
    assert task.task_path == "chanrong.matching.tasks.rematch_enterprises"
    assert task.args_kwargs["args"] == [sorted([world.ent.pk, world.ent2.pk])]
    with django_capture_on_commit_callbacks(execute=True):
        finance.withdraw_product(world.user("bank_staff"), products["small"])
        finance.withdraw_product(world.user("bank_staff"), products["fit2"])
    assert queued().count("chanrong.matching.tasks.rematch_all") == 1  # not queued twice
    # A rolled-back change enqueues nothing.
    before = len(queued())
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
        from django.db import transaction

        with transaction.atomic():
            demand_signals.demands_changed.send_after_commit([demand.pk])
            raise RuntimeError
    assert len(queued()) == before


def test_incremental_task_rematches_one_demand(world, products):
    from chanrong.matching import tasks

    live = demands.publish_demand(world.user("ent_user"), _demand(world))
    assert tasks.rematch_demands.call([live.pk]) == 1
    assert services.stored_matches(live)
    assert tasks.rematch_enterprises.call([world.ent.pk]) == 1
    assert tasks.rematch_all.call() == 1
    Demand.objects.filter(pk=live.pk).update(state=DemandState.WITHDRAWN)
    assert tasks.rematch_demands.call([live.pk]) == 0
    assert not services.stored_matches(live)


def test_facts_as_of_today_follow_the_registry(world, products):
    """A tax grade recorded today changes the why-not list at once."""
    demand = _demand(world)
    tax = products["tax_a"].pk
    _set_grade(world, world.ent, "B")
    assert tax in {m.product_id for m in services.match_demand(demand).not_eligible}
    _set_grade(world, world.ent, "A")
    assert tax in {m.product_id for m in services.match_demand(demand).ranked}


def test_without_live_products_everything_is_empty_not_an_error(world):
    demand = demands.publish_demand(world.user("ent_user"), _demand(world))
    result = services.match_demand(demand)
    assert result.ranked == [] and result.not_eligible == [] and result.institutions == []
    assert services.dispatch_targets(demand) == {}
    assert services.rank_open_demands(world.bank.pk) == []
    assert services.outreach(world.bank.pk) == []
    assert services.rematch() == 1 and services.stored_matches(demand) == []
