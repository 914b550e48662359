"""Kept figures (services.snapshots, issue 20): a plan's completion from the
snapshot is the live completion at the snapshot's date, figure for figure;
the pages read no loan with a snapshot and their statements do not grow with
the book; a government user's refresh request is audited, enqueued once and
scoped; the nightly job is registered."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chanrong.core.models import AuditEntry, Region
from chanrong.insights import services
from chanrong.insights.models import FigureSnapshot, IndicatorDefinition, IndicatorPlan
from chanrong.insights.services import snapshots
from chanrong.insights.services.figures import completion
from chanrong.risk.models import LoanAccount

from .test_computed_indicators import _loan, book  # noqa: F401 (the loan-book fixture)

JIASHAN = "330421"
AS_OF = date(2024, 3, 15)  # inside the plan's last year: a running year too


@pytest.fixture
def plan(world, book):  # noqa: F811
    """嘉善's plan 2022–2024 with a target for every computed indicator and
    for a reported one (gdp, reported for 2023)."""
    gov = world.user("gov_jiashan")
    jiashan = Region.objects.get(code=JIASHAN)
    plan = services.create_plan(gov, jiashan, "嘉善定量指标", 2022, 2024)
    definitions = list(IndicatorDefinition.objects.filter(source__gt="")) + [
        IndicatorDefinition.objects.get(code="gdp")
    ]
    assert any(d.computed for d in definitions)
    rows = [
        {"definition": d.code, "year": y, "value": "1"}
        for d in definitions
        for y in (2022, 2023, 2024)
    ]
    services.set_targets(gov, plan, rows)
    services.report_actual(
        gov, region=jiashan, definition=IndicatorDefinition.objects.get(code="gdp"),
        period_type="year", year=2023, value="512.3",
    )  # fmt: skip
    return plan


def _fields(rows):
    return [
        (
            r.definition.code,
            str(r.target),
            str(r.actual),
            str(r.actual_second),
            str(r.ratio),
            r.status,
            r.computed,
            r.complete,
            r.actual_text,
            r.percent,
        )
        for r in rows
    ]


def _loan_statements(queries) -> list[str]:
    table = LoanAccount._meta.db_table
    return [q["sql"] for q in queries.captured_queries if table in q["sql"]]


def test_snapshot_figures_are_the_live_figures(world, plan):
    snapshot = snapshots.refresh(plan.region.prefix, today=AS_OF)
    assert snapshot.as_of == AS_OF and snapshot.computed_at is not None
    assert snapshot.values.count() > 0
    computed_seen = False
    for year in plan.years:
        live = completion(plan, year, today=AS_OF)
        with CaptureQueriesContext(connection) as queries:
            kept = snapshots.plan_figures(plan, year)
        assert not kept.live and kept.as_of == AS_OF
        assert _fields(kept.rows) == _fields(live), year
        assert _loan_statements(queries) == [], year  # nothing from the loan book
        computed_seen |= any(r.computed and r.actual is not None for r in kept.rows)
    assert computed_seen
    # a figure of the book (2023 end: 5 M + 4 M + 6 M 制造业 balance in 嘉善)
    rows = {r.definition.code: r for r in snapshots.plan_figures(plan, 2023).rows}
    assert rows["manufacturing-loans"].actual_text == "0.15"
    assert rows["gdp"].actual_text == "512.3" and not rows["gdp"].computed


def test_without_a_snapshot_the_page_computes_live(world, plan):
    figures = snapshots.plan_figures(plan, 2023)
    assert figures.live and figures.snapshot is None
    assert _fields(figures.rows) == _fields(completion(plan, 2023))
    # a year after the snapshot's date (a new year before the nightly run): live too
    snapshots.refresh(plan.region.prefix, today=date(2023, 12, 31))
    figures = snapshots.plan_figures(plan, 2024)
    assert figures.live and figures.snapshot is not None
    assert _fields(figures.rows) == _fields(completion(plan, 2024))
    assert not snapshots.plan_figures(plan, 2023).live


def test_a_request_no_worker_answered_lapses(world, plan):
    from datetime import timedelta

    from django.utils import timezone

    snapshot = FigureSnapshot.objects.create(
        region_prefix=plan.region.prefix, requested_at=timezone.now()
    )
    assert snapshot.refresh_pending
    snapshot.requested_at -= FigureSnapshot.REQUEST_LAPSES + timedelta(minutes=1)
    assert not snapshot.refresh_pending


def test_a_window_the_snapshot_lacks_is_computed_live(world, plan):
    snapshot = snapshots.refresh(plan.region.prefix, today=AS_OF)
    first = snapshot.values.order_by("pk").first()
    key = (first.source, first.start, first.end)
    first.delete()
    reader = snapshots.SnapshotSources(snapshot)
    for year in plan.years:
        kept = completion(plan, year, today=AS_OF, sources=reader)
        assert _fields(kept) == _fields(completion(plan, year, today=AS_OF)), (year, key)
    assert reader.missed > 0


def test_refresh_all_keeps_one_snapshot_per_plan_region(world, plan):
    FigureSnapshot.objects.create(region_prefix="3502")  # no plan there any more
    kept = snapshots.refresh_all(today=AS_OF)
    assert list(kept) == [plan.region.prefix]
    assert set(FigureSnapshot.objects.values_list("region_prefix", flat=True)) == {"330421"}


def _page_statements(client, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return response, queries


def test_plan_page_reads_the_snapshot_and_its_statements_stay_flat(world, plan, client):
    client.force_login(world.user("gov_jiashan"))
    path = f"/insights/plans/{plan.pk}/?year=2023"
    live_page, live = _page_statements(client, path)
    assert 'data-figures="live"' in live_page.content.decode()
    assert _loan_statements(live)  # computed from the book on every view

    snapshots.refresh(plan.region.prefix, today=AS_OF)
    page, kept = _page_statements(client, path)
    html = page.content.decode()
    assert "数据截至 2024-03-15" in html and 'data-testid="refresh-figures"' in html
    assert _loan_statements(kept) == []
    assert len(kept) < len(live)
    # more loans in the county: the same statements
    for i in range(5):
        _loan(world, world.ent, 1_000_000 + i, date(2023, 2, 1 + i), date(2025, 2, 1))
    _again, more = _page_statements(client, path)
    assert len(more) == len(kept)


def test_dashboard_plan_panel_reads_no_loans_with_snapshots(world, plan, client):
    client.force_login(world.user("gov_jiashan"))
    snapshots.refresh(plan.region.prefix, today=AS_OF)
    page, with_plans = _page_statements(client, "/insights/")
    assert "数据截至 2024-03-15" in page.content.decode()
    # Whatever the loan book costs the page (the risk app's group panel) is
    # the same without any plan: the plans' panel adds no loan statement.
    from_plans = _loan_statements(with_plans)
    IndicatorPlan.objects.filter(pk=plan.pk).update(region=Region.objects.get(code="320508"))
    _page, without = _page_statements(client, "/insights/")
    assert from_plans == _loan_statements(without)
    # and the page's statements do not grow with the book
    IndicatorPlan.objects.filter(pk=plan.pk).update(region=Region.objects.get(code=JIASHAN))
    _page, before = _page_statements(client, "/insights/")
    for i in range(5):
        _loan(world, world.ent, 2_000_000 + i, date(2023, 3, 1 + i), date(2025, 3, 1))
    _page, after = _page_statements(client, "/insights/")
    assert len(after) == len(before)


def test_a_government_user_asks_for_a_refresh(
    world, plan, client, django_capture_on_commit_callbacks
):
    gov = world.user("gov_jiashan")
    client.force_login(gov)
    path = f"/insights/plans/{plan.pk}/"
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post("/insights/figures/refresh/", {"region": JIASHAN, "next": path})
    assert response.status_code == 302 and response["Location"] == path
    snapshot = FigureSnapshot.objects.get(region_prefix=JIASHAN)
    assert snapshot.requested_by == gov and snapshot.refresh_pending
    assert snapshot.computed_at is None  # the worker computes it
    assert len(callbacks) == 1
    entry = AuditEntry.objects.get(action="insights.snapshot.request")
    assert entry.actor_name == "gov_jiashan" and entry.changes["region_prefix"] == JIASHAN
    page = client.get(path).content.decode()
    assert 'data-figures="pending"' in page and 'data-figures="live"' in page
    # asked again while pending: nothing more enqueued or audited
    with django_capture_on_commit_callbacks() as callbacks:
        client.post("/insights/figures/refresh/", {"region": JIASHAN, "next": path})
    assert callbacks == []
    assert AuditEntry.objects.filter(action="insights.snapshot.request").count() == 1
    # the task computes it; the request is then answered
    from chanrong.insights.tasks import refresh_figure_snapshot

    refresh_figure_snapshot.call(JIASHAN)
    snapshot.refresh_from_db()
    assert snapshot.computed_at is not None and not snapshot.refresh_pending
    assert snapshot.values.count() > 0
    # outside the user's region, an unknown code, or a user without indicators: 404
    assert client.post("/insights/figures/refresh/", {"region": "350200"}).status_code == 404
    assert client.post("/insights/figures/refresh/", {"region": "999999"}).status_code == 404
    client.force_login(world.user("ent_user"))
    assert client.post("/insights/figures/refresh/", {"region": JIASHAN}).status_code == 404
    # an off-site `next` goes back to the dashboard
    client.force_login(world.user("gov_national"))
    response = client.post(
        "/insights/figures/refresh/", {"region": JIASHAN, "next": "https://example.com/"}
    )
    assert response["Location"] == "/insights/"


def test_the_nightly_refresh_is_a_periodic_job(db):
    from chanrong.core import periodic

    paths = {job.name for job in periodic.jobs()}
    assert "chanrong.insights.tasks.refresh_figure_snapshots" in paths
