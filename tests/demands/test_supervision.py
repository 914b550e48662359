"""The supervision board page and GET /stats/summary."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from chanrong.demands import sla

from .test_sla import at, freeze_time
from .test_stats import story  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def client_for(world, username: str) -> Client:
    client = Client()
    client.force_login(world.user(username))
    return client


@pytest.mark.parametrize("username", ["bank_staff", "ent_user", "bank_manager"])
def test_board_is_404_for_others(world, username):
    response = client_for(world, username).get(reverse("demands:supervision"))
    assert response.status_code == 404


def test_board_needs_login(client):
    response = client.get(reverse("demands:supervision"))
    assert response.status_code == 302


def test_board_for_government(world, story):  # noqa: F811
    with freeze_time(at(2026, 3, 20, 9)):
        response = client_for(world, "gov_jiashan").get(
            reverse("demands:supervision"),
            {"start": "2026-03-01", "end": "2026-03-31", "group_by": "institution"},
        )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-chart="stats-chart"' in html and 'id="stats-chart"' in html
    assert 'data-testid="compliance-table"' in html
    assert world.bank2.name in html
    # D2: the bank never claimed it (overdue since 03-04), bank2 claimed it and
    # has until 03-20 to decide; D1's other dispatch was cancelled, D3 went nowhere.
    board = response.context["board"]
    assert (board.open_count, board.overdue_count) == (2, 1)
    assert "50.0%" in html  # the bank's compliance (1 of 2 in time)


def test_board_reads_the_period_once_for_both_splits(world, story):  # noqa: F811
    """The split by region and the compliance split by institution come from
    one read of the period's demands and dispatches: no statement is sent
    twice (at scale 10 each read is every dispatch of the county)."""
    client = client_for(world, "gov_jiashan")
    with freeze_time(at(2026, 3, 20, 9)):
        client.get(reverse("demands:supervision"))
        with CaptureQueriesContext(connection) as captured:
            response = client.get(
                reverse("demands:supervision"), {"start": "2026-03-01", "end": "2026-03-31"}
            )
    assert response.status_code == 200
    assert response.context["stats"].group_by == "region"
    assert response.context["compliance_rows"]
    statements = [q["sql"] for q in captured.captured_queries]
    assert len(statements) == len(set(statements))


def test_board_shows_how_overdue(world, story):  # noqa: F811
    with freeze_time(at(2026, 3, 20, 9)):
        board = sla.supervision_board(world.user("admin"), at(2026, 4, 1, 9))
    first, line = board.overdue
    assert (first.stage, first.dispatch.institution) == (sla.STAGE_CLAIM, world.bank)
    assert line.stage == sla.STAGE_DECIDE
    assert line.dispatch.institution == world.bank2
    # decide due 2026-03-20 (10 working days after Friday 03-06); overdue 8 working days.
    assert line.due.astimezone(at(2026, 1, 1).tzinfo).date() == dt.date(2026, 3, 20)
    assert line.overdue_workdays == 8
    assert line.escalated is False
    assert sla.supervision_board(world.user("gov_jiangsu"), at(2026, 4, 1, 9)).overdue == []


def test_board_counts_every_open_dispatch_it_may_see(world, story):  # noqa: F811
    """The board starts from the live demands (sla.LIVE_DEMAND_STATES): what
    it counts is every open dispatch `visible_to` gives, in any scope, and a
    bank has no board at all."""
    from chanrong.core.errors import NotAllowed
    from chanrong.demands.models import Dispatch, DispatchState

    open_states = (DispatchState.DISPATCHED, DispatchState.CLAIMED)
    for username in ("admin", "gov_national", "gov_zhejiang", "gov_jiashan", "gov_jiangsu"):
        user = world.user(username)
        board = sla.supervision_board(user, at(2026, 4, 1, 9))
        visible = Dispatch.objects.visible_to(user).filter(state__in=open_states)
        assert board.open_count == visible.count(), username
        assert {d.pk for d in board.open_dispatches} == set(visible.values_list("pk", flat=True))
    assert board.open_count == 0  # 江苏 has no demand
    with pytest.raises(NotAllowed):
        sla.supervision_board(world.user("bank_staff"))


def test_board_bad_input_falls_back(world):
    response = client_for(world, "admin").get(
        reverse("demands:supervision"), {"start": "x", "group_by": "<script>"}
    )
    assert response.status_code == 200
    assert "<script>" not in response.content.decode().split("<main", 1)[-1].split("</main>")[0]


@pytest.fixture
def stats_api(settings):
    settings.ROOT_URLCONF = "tests.demands.urls_stats"


def test_summary_api(world, story, stats_api):  # noqa: F811
    client = client_for(world, "gov_jiashan")
    response = client.get(
        "/statsapi/stats/summary",
        {"start": "2026-03-01", "end": "2026-03-31", "group_by": "kind"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["total"]["demands"] == 3
    assert body["total"]["claim_rate"] == 0.5
    assert {row["key"] for row in body["rows"]} == {"debt", "equity"}
    assert (
        client_for(world, "gov_jiangsu")
        .get("/statsapi/stats/summary", {"start": "2026-03-01", "end": "2026-03-31"})
        .json()["total"]["demands"]
        == 0
    )


def test_summary_api_labels_follow_the_language(world, story, stats_api):  # noqa: F811
    client = client_for(world, "gov_jiashan")
    period = {"start": "2026-03-01", "end": "2026-03-31", "group_by": "kind"}
    labels = {}
    for language in ("zh-hans", "en"):
        response = client.get("/statsapi/stats/summary", period, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200, response.content
        labels[language] = {row["key"]: row["label"] for row in response.json()["rows"]}
    assert labels["zh-hans"] == {"debt": "债权融资", "equity": "股权融资"}
    assert labels["en"] == {"debt": "Debt financing", "equity": "Equity financing"}


def test_summary_api_errors(world, stats_api):
    client = client_for(world, "admin")
    response = client.get("/statsapi/stats/summary", {"group_by": "city"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "group_by"
    assert Client().get("/statsapi/stats/summary").status_code == 401


def test_board_statements(world, story):  # noqa: F811
    """The 督办看板's statements do not grow with the data: the statistics
    are GROUP BY statements (two on PostgreSQL, ten on SQLite, plus the
    labels), the two lists one count and two statements a page, and the
    escalations of the overdue page."""
    client = client_for(world, "gov_jiashan")
    period = {"start": "2026-03-01", "end": "2026-03-31", "group_by": "region"}
    with freeze_time(at(2026, 3, 20, 9)):
        client.get(reverse("demands:supervision"), period)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("demands:supervision"), period)
    assert response.status_code == 200
    statements = [q["sql"] for q in captured.captured_queries]
    # 4 to load the session, the user and the scope (agency, region); the
    # statistics (2 or 8, and the 2 splits' labels); the lists' counts (1),
    # their pages (2 each: the page's keys, then its rows) and the escalations
    # (1); the unread notifications (1); the kept statistics' snapshot (1:
    # none here, the period is not the default one).
    expected = 4 + (2 if connection.vendor == "postgresql" else 8) + 2 + 6 + 1 + 1
    assert len(statements) == expected, statements
