"""The 督办看板's statistics kept for its default view (demands.stats_kept):
for every government scope somebody acts for (the nation, a province, a
county, another province) and the platform, every grouping's kept figures
are what the live statistics give for the kept period, field by field and
median by median; the board reads them (数据截至) without reading a
dispatch; another period, a scope nobody had, a bank or an old year's
snapshot are computed live (实时计算); a government user's refresh request
is audited and enqueued once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from chanrong.accounts.models import Role, User
from chanrong.core.models import AuditEntry
from chanrong.demands import services, stats, stats_kept
from chanrong.demands.models import SupervisionFigures, SupervisionSnapshot

from .conftest import dispatch_of
from .test_sla import at, freeze_time
from .test_stats import story  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

NOW = at(2026, 3, 20, 9)
TODAY = dt.date(2026, 3, 20)
VIEWERS = ("admin", "gov_national", "gov_zhejiang", "gov_jiashan", "gov_jiangsu")


@pytest.fixture
def book(world, story, make_demand):  # noqa: F811
    """The story (three demands in 嘉善, one financing, two claims), one
    demand of a 江苏 enterprise claimed after 30 h, one published last year
    (outside the period) and a draft (never counted)."""
    js_user = User(username="ent_js_user", role=Role.ENTERPRISE_USER, enterprise=world.ent_js)
    js_user.set_unusable_password()
    js_user.save()
    world.users["ent_js_user"] = js_user
    with freeze_time(at(2025, 12, 30, 10)):
        make_demand(amount_wan=70)
    with freeze_time(at(2026, 3, 9, 10)):
        js = make_demand(user="ent_js_user", amount_wan=40)
        make_demand(amount_wan=10, publish_it=False)
    with freeze_time(at(2026, 3, 10, 16)):
        services.claim_dispatch(world.user("bank_staff"), dispatch_of(js, world.bank))
    return story


def _figures(result: stats.DemandStats) -> tuple:
    return result.total.as_dict(), [row.as_dict() for row in result.rows]


@pytest.mark.parametrize("viewer", VIEWERS)
def test_kept_figures_are_the_live_figures_of_the_kept_period(world, book, viewer):
    with freeze_time(NOW):
        snapshot = stats_kept.refresh()
        assert snapshot.as_of == TODAY
        actor = world.user(viewer)
        shown = stats_kept.board_stats(actor, start=None, end=None, group_bys=stats_kept.GROUPINGS)
        assert not shown.live and shown.as_of == TODAY
        live = stats.demand_stats_by(
            actor, start=dt.date(2026, 1, 1), end=TODAY, group_bys=stats_kept.GROUPINGS
        )
    for kept_result, live_result in zip(shown.results, live, strict=True):
        assert kept_result.group_by == live_result.group_by
        assert (kept_result.start, kept_result.end) == (live_result.start, live_result.end)
        assert _figures(kept_result) == _figures(live_result), kept_result.group_by


def test_the_figures_are_what_the_story_says(world, book):
    """Not only equal to the live figures: right (the story's known answers)."""
    with freeze_time(NOW):
        stats_kept.refresh()
        shown = stats_kept.board_stats(
            world.user("admin"), start=None, end=None, group_bys=("region", "institution")
        )
        jiashan = stats_kept.board_stats(
            world.user("gov_jiashan"), start=None, end=None, group_bys=("region",)
        )
    by_region, by_institution = shown.results
    total = by_region.total
    assert (total.demands, total.dispatches, total.claims, total.financings) == (4, 6, 3, 1)
    assert total.median_claim_hours == 30  # 24 h, 30 h and 96 h
    assert total.median_disburse_days == 10
    assert [row.label for row in by_region.rows][:1] == ["嘉善县"]
    bank = {row.key: row for row in by_institution.rows}[str(world.bank.pk)]
    assert (bank.label, bank.demands, bank.claims) == (world.bank.name, 3, 2)
    assert jiashan.results[0].total.demands == 3  # not the 江苏 demand


def test_the_board_reads_the_kept_figures(world, book):
    client = Client()
    client.force_login(world.user("gov_jiashan"))
    with freeze_time(NOW):
        stats_kept.refresh()
        client.get("/demands/supervision/")
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/demands/supervision/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-figures="snapshot"' in html and "数据截至 2026-03-20 09:00" in html
    assert 'value="2026-01-01"' in html and 'value="2026-03-20"' in html
    assert 'data-testid="refresh-supervision-stats"' in html
    # The statistics read no dispatch: the board's own lists do (2 per list).
    dispatch_reads = [
        q["sql"] for q in captured.captured_queries if 'FROM "demands_dispatch"' in q["sql"]
    ]
    assert len(dispatch_reads) == 5, dispatch_reads
    assert not any("GROUP BY" in sql for sql in dispatch_reads)


def test_other_periods_scopes_and_years_are_live(world, book):
    with freeze_time(NOW):
        stats_kept.refresh()
        gov = world.user("gov_jiashan")
        march = stats_kept.board_stats(
            gov, start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31), group_bys=("kind",)
        )
        assert march.live and march.results[0].total.demands == 3
        same = stats_kept.board_stats(
            gov, start=dt.date(2026, 1, 1), end=TODAY, group_bys=("kind",)
        )
        assert not same.live  # the default period, given explicitly
        # A bank is never kept (it sees its own dispatches only).
        bank = stats_kept.board_stats(
            world.user("bank_staff"), start=None, end=None, group_bys=("kind",)
        )
        assert bank.live and bank.results[0].total.dispatches == 3
        # 嘉兴 had nobody when the figures were computed: live, and right.
        jiaxing = User(username="gov_jiaxing", role=Role.GOV_ADMIN, agency=world.gov_jiaxing)
        jiaxing.save()
        shown = stats_kept.board_stats(jiaxing, start=None, end=None, group_bys=("region",))
        assert shown.live and shown.results[0].total.demands == 3
        assert "3304" not in SupervisionFigures.objects.values_list("region_prefix", flat=True)
    # A new year: last year's snapshot is not this year's default view.
    with freeze_time(at(2027, 1, 2, 9)):
        shown = stats_kept.board_stats(
            world.user("admin"), start=None, end=None, group_bys=("region",)
        )
        assert shown.live and shown.results[0].start == dt.date(2027, 1, 1)


def test_new_data_shows_after_the_next_refresh(world, book, make_demand):
    with freeze_time(NOW):
        stats_kept.refresh()
        make_demand(amount_wan=5)
        admin = world.user("admin")
        before = stats_kept.board_stats(admin, start=None, end=None, group_bys=("kind",))
        assert before.results[0].total.demands == 4
    with freeze_time(at(2026, 3, 20, 10)):
        stats_kept.refresh()
        after = stats_kept.board_stats(admin, start=None, end=None, group_bys=("kind",))
    assert after.results[0].total.demands == 5 and not after.live
    assert SupervisionSnapshot.objects.count() == 1
    assert SupervisionFigures.objects.count() == len(stats_kept.scopes())


def test_scopes_are_the_agencies_people_act_for(world):
    # admin and gov_national: ""; 浙江 33, 嘉善 330421, 江苏 32; 嘉兴 has nobody.
    assert stats_kept.scopes() == ["", "32", "33", "330421"]
    world.user("gov_jiangsu").is_active = False
    world.user("gov_jiangsu").save()
    assert stats_kept.scopes() == ["", "33", "330421"]


def test_a_government_user_asks_for_a_refresh(world, client, django_capture_on_commit_callbacks):
    gov = world.user("gov_jiashan")
    client.force_login(gov)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post("/demands/supervision/refresh/?group_by=kind")
    assert response.status_code == 302
    assert response["Location"] == "/demands/supervision/?group_by=kind"
    snapshot = SupervisionSnapshot.objects.get()
    assert snapshot.requested_by == gov and snapshot.refresh_pending
    assert snapshot.computed_at is None and len(callbacks) == 1
    entry = AuditEntry.objects.get(action="demands.supervision_stats.request")
    assert entry.actor_name == "gov_jiashan"
    html = client.get("/demands/supervision/").content.decode()
    assert 'data-figures="pending"' in html and 'data-figures="live"' in html
    with django_capture_on_commit_callbacks() as callbacks:
        client.post("/demands/supervision/refresh/")
    assert callbacks == []
    assert AuditEntry.objects.filter(action="demands.supervision_stats.request").count() == 1
    from chanrong.demands.tasks import refresh_supervision_stats_now

    refresh_supervision_stats_now.call()
    snapshot.refresh_from_db()
    assert snapshot.computed_at is not None and not snapshot.refresh_pending
    assert 'data-figures="snapshot"' in client.get("/demands/supervision/").content.decode()
    # Only those who may see the board may ask (404 otherwise); GET is refused.
    for username in ("bank_staff", "ent_user"):
        client.force_login(world.user(username))
        assert client.post("/demands/supervision/refresh/").status_code == 404
    client.force_login(gov)
    assert client.get("/demands/supervision/refresh/").status_code == 405


def test_the_hourly_refresh_is_a_periodic_job():
    from chanrong.core import periodic

    jobs = {job.name: job for job in periodic.jobs()}
    job = jobs["chanrong.demands.tasks.refresh_supervision_stats"]
    assert job.every == dt.timedelta(hours=1)
