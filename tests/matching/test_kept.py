"""The 派单工作台's lists ranked ahead per institution (matching.kept, issue
20): what a view shows from a kept ranking is what ranking now shows, also
after demands were dispatched, edited or closed and enterprises published
demands since; a ranking that is stale, of another day, ranked with other
products, or too short is not used."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone

from chanrong.demands.models import Demand, DemandState, Dispatch
from chanrong.matching import access, adapter, kept, services
from chanrong.matching.models import InstitutionRanking
from chanrong.registry.models import ListEntry, ListType
from tests.conftest import JIASHAN, _enterprise

from .test_adapter import _list
from .test_workbench_queries import _dispatch, _open_demands, products  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    adapter.clear_cache()
    yield
    adapter.clear_cache()


def _live():
    """Rank on the view, as without a kept row."""
    return mock.patch.object(kept, "_usable", return_value=None)


def _demand_key(rows):
    return [(r.demand.pk, r.score, r.best_product_id, r.reasons) for r in rows]


def _outreach_key(rows):
    return [(r.enterprise_id, r.score, r.best_product_id, r.reasons, r.lists) for r in rows]


def _both(user, limit):
    demands = access.institution_demands(user, limit=limit)
    outreach = access.institution_outreach(user, limit=limit)
    with _live():
        live = access.institution_demands(user, limit=limit)
        live_outreach = access.institution_outreach(user, limit=limit)
    assert _demand_key(demands) == _demand_key(live)
    assert _outreach_key(outreach) == _outreach_key(live_outreach)
    return demands, outreach


@pytest.fixture
def bench(world, products):  # noqa: F811
    """12 open demands dispatched to the bank (and 6 to nobody), and 12 quiet
    enterprises on a 嘉善 white list."""
    enterprises = _open_demands(18, 800)
    _dispatch(world, enterprises[:12])
    quiet = [_enterprise(f"嘉善白名单企业{n}", JIASHAN, "C34", n) for n in range(850, 862)]
    _list(world, ListType.KEY_ENTERPRISES, "嘉善县重点企业白名单", quiet)
    return enterprises, quiet


def _ranking_counter(monkeypatch):
    """How many demands and enterprises the engine is given to rank."""
    seen = {"demands": 0, "enterprises": 0}
    demand_table, enterprise_table = adapter.demand_table, adapter.enterprise_table

    def demands(*args, **kwargs):
        facts = demand_table(*args, **kwargs)
        seen["demands"] += len(facts)
        return facts

    def enterprises(*args, **kwargs):
        facts = enterprise_table(*args, **kwargs)
        seen["enterprises"] += len(facts)
        return facts

    monkeypatch.setattr(adapter, "demand_table", demands)
    monkeypatch.setattr(adapter, "enterprise_table", enterprises)
    return seen


def test_kept_lists_are_the_live_lists_without_ranking_on_the_view(world, bench, monkeypatch):
    user = world.user("bank_staff")
    with _live():
        before = access.institution_demands(user, limit=20)
    assert kept.refresh() == 2  # the bank (bank_manager, bank_staff) and bank2
    row = InstitutionRanking.objects.get(institution=world.bank)
    assert len(row.demands) == 12 and row.demands_complete
    assert len(row.outreach) == 12 and row.outreach_complete
    assert row.as_of == timezone.localdate() and row.stamp == kept.current_stamp()
    seen = _ranking_counter(monkeypatch)
    for limit in (1, 5, 20):
        demands, outreach = _both(user, limit)
        assert len(demands) == min(limit, 12) and len(outreach) == min(limit, 12)
    assert _demand_key(access.institution_demands(user, limit=20)) == _demand_key(before)
    # The kept path ranked nothing; only the live comparisons did.
    assert seen == {"demands": 3 * 12, "enterprises": 3 * 12}
    assert access.institution_demands(world.user("bank2_staff"), limit=5) == []


def test_what_changed_since_the_ranking_shows_at_once(world, bench, monkeypatch):
    enterprises, quiet = bench
    user = world.user("bank_staff")
    kept.refresh()
    # A new demand dispatched to the bank, one edited, one closed.
    (late,) = _open_demands(1, 870)
    _dispatch(world, [late])
    edited = enterprises[3].demands.get()
    edited.amount = Decimal(2_900_000)
    edited.save()
    closed = enterprises[5].demands.get()
    Demand.objects.filter(pk=closed.pk).update(state=DemandState.WITHDRAWN)
    # An enterprise of the outreach list publishes a demand.
    Demand.objects.create(
        enterprise=quiet[0],
        kind="debt",
        amount=Decimal(1_000_000),
        term_months=12,
        purpose="流动资金",
        rate_max=Decimal("6"),
        state=DemandState.PUBLISHED,
        published_at=timezone.now(),
    )
    # And one leaves the white list.
    ListEntry.objects.filter(enterprise=quiet[1]).delete()
    seen = _ranking_counter(monkeypatch)
    demands = access.institution_demands(user, limit=20)
    assert seen["demands"] == 2  # the new and the edited demand, nothing else
    ids = [r.demand.pk for r in demands]
    assert late.demands.get().pk in ids and edited.pk in ids and closed.pk not in ids
    outreach = access.institution_outreach(user, limit=20)
    assert seen["enterprises"] == 0
    shown = [r.enterprise_id for r in outreach]
    assert quiet[0].pk not in shown and quiet[1].pk not in shown and len(outreach) == 10
    # The best five of the rest, not five less two: the kept list is read on.
    assert len(access.institution_outreach(user, limit=5)) == 5
    _both(user, 5)
    _both(user, 20)
    _both(user, 3)


def test_a_ranking_not_current_is_not_used(world, bench):
    bank = world.bank.pk
    today = timezone.localdate()
    kept.refresh()
    assert kept._usable(bank, today) is not None
    assert kept._usable(bank, today + timedelta(days=1)) is None  # of another day
    InstitutionRanking.objects.update(computed_at=timezone.now() - kept.SHOWN_FOR * 1.1)
    assert kept._usable(bank, today) is None  # the hourly job stopped
    kept.refresh()
    from chanrong.finance import services as finance

    finance.withdraw_product(world.user("bank_staff"), world.bank.products.first())
    assert kept._usable(bank, today) is None  # ranked with other products
    kept.refresh()
    assert kept._usable(bank, today) is not None
    _both(world.user("bank_staff"), 20)


def test_a_list_cut_short_is_ranked_live(world, bench, monkeypatch):
    monkeypatch.setattr(kept, "KEEP", 4)
    kept.refresh()
    row = InstitutionRanking.objects.get(institution=world.bank)
    assert len(row.demands) == 4 and not row.demands_complete
    assert len(row.outreach) == 4 and not row.outreach_complete
    seen = _ranking_counter(monkeypatch)
    assert len(access.institution_demands(world.user("bank_staff"), limit=4)) == 4
    assert seen["demands"] == 0  # four kept are enough
    demands, outreach = _both(world.user("bank_staff"), 10)
    assert len(demands) == 10 and len(outreach) == 10


def test_refresh_keeps_institutions_with_active_users_only(world, bench):
    kept.refresh()
    assert InstitutionRanking.objects.filter(institution=world.bank2).exists()
    world.user("bank2_staff").__class__.objects.filter(institution=world.bank2).update(
        is_active=False
    )
    assert kept.refresh() == 1
    assert not InstitutionRanking.objects.filter(institution=world.bank2).exists()
    assert kept.refresh([world.bank2.pk]) == 1  # asked for by name, kept
    assert InstitutionRanking.objects.filter(institution=world.bank2).exists()


def test_a_product_change_asks_for_a_new_ranking(world, bench, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    from chanrong.core import domain
    from chanrong.finance import services as finance
    from chanrong.matching import tasks
    from chanrong.registry import signals as registry_signals

    DBTaskResult.objects.all().delete()
    domain.discard_pending()
    with django_capture_on_commit_callbacks(execute=True):
        finance.withdraw_product(world.user("bank_staff"), world.bank.products.first())
        finance.withdraw_product(world.user("bank_staff"), world.bank.products.last())
    queued = list(DBTaskResult.objects.values_list("task_path", flat=True))
    assert queued.count("chanrong.matching.tasks.refresh_rankings") == 1  # not queued twice
    # A list version published changes who is on a white list.
    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        registry_signals.list_versions_published.send_after_commit([1])
    queued = list(DBTaskResult.objects.values_list("task_path", flat=True))
    assert queued.count("chanrong.matching.tasks.refresh_rankings") == 1
    assert tasks.refresh_rankings.call() == 2


def test_the_workbench_page_shows_the_kept_lists(world, bench, client):
    enterprises, quiet = bench
    kept.refresh()
    client.force_login(world.user("bank_staff"))
    with mock.patch.object(services, "rank_open_demands", side_effect=AssertionError):
        page = client.get("/demands/workbench/")
    assert page.status_code == 200
    html = page.content.decode()
    shown = Dispatch.objects.filter(institution=world.bank).values_list("demand_id", flat=True)
    assert sum(f'data-demand="{pk}"' in html for pk in shown) == 12
    assert sum(f'data-enterprise="{e.pk}"' in html for e in quiet) == 12
