"""风险监测 in fewer passes (issue 20, scale 100): the warnings' months and
live count from one grouped statement, the ten largest borrowers inside
`book_figures`' statement, and the national scope without a join — each
against a straightforward computation, for every kind of viewer."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chanrong.core.models import Region
from chanrong.registry.models import Enterprise
from chanrong.risk.models import Alert, AlertState, LoanAccount, RuleKind, WarningRule
from chanrong.risk.services import monitoring
from tests.demands.conftest import bank_products, make_demand  # noqa: F401
from tests.risk.test_groups_split import VIEWERS, book  # noqa: F401

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 15)  # the window: 2025-04 … 2026-03
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def local(*args) -> dt.datetime:
    """An aware datetime given in Beijing time."""
    return dt.datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def alerts(world):
    """Alerts whose events sit on the window's and the months' edges in
    Beijing time (a UTC date would put them in the other month)."""
    rules = [
        WarningRule.objects.create(
            agency=world.gov_jiashan,
            region_prefix="330421",
            name=f"规则{i}",
            kind=RuleKind.OVERDUE,
            severity="red",
        )  # fmt: skip
        for i in range(4)
    ]

    def alert(rule, enterprise, opened_on, state, acknowledged_at=None, disposed_at=None):
        return Alert.objects.create(
            rule=rule, enterprise=enterprise, severity="red", detail="预警", state=state,
            opened_on=opened_on, acknowledged_at=acknowledged_at, disposed_at=disposed_at,
        )  # fmt: skip

    disposed = AlertState.DISPOSED
    # opened the day before the window; acknowledged on its first local
    # midnight (April); disposed in the last second of April, local time
    alert(rules[0], world.ent, dt.date(2025, 3, 31), disposed,
          local(2025, 4, 1, 0, 0), local(2025, 4, 30, 23, 59, 59))  # fmt: skip
    # opened on the window's first day; acknowledged at 16:00 UTC on 30 April
    # = 1 May 00:00 in Beijing (May); live
    alert(rules[0], world.ent, dt.date(2025, 4, 1), AlertState.ACKNOWLEDGED,
          local(2025, 5, 1, 0, 0))  # fmt: skip
    # this month, open (live)
    alert(rules[1], world.ent, TODAY, AlertState.OPEN)
    # acknowledged 1 March 00:30 Beijing (28 February UTC); disposed in the
    # last second of March, Beijing
    alert(rules[1], world.ent2, dt.date(2026, 2, 28), disposed,
          local(2026, 3, 1, 0, 30), local(2026, 3, 31, 23, 59, 59))  # fmt: skip
    # all before the window: disposed one second before its first local midnight
    alert(rules[2], world.ent2, dt.date(2025, 3, 1), disposed,
          local(2025, 3, 2, 9), local(2025, 3, 31, 23, 59, 59))  # fmt: skip
    # after the window (next month): counted nowhere, but live
    alert(rules[2], world.ent, dt.date(2026, 4, 1), AlertState.OPEN)
    # 苏州: only the national scope, 江苏 and the admin see it
    alert(rules[3], world.ent_js, dt.date(2026, 1, 31), AlertState.ACKNOWLEDGED,
          local(2026, 2, 1, 8))  # fmt: skip
    alert(rules[3], world.ent_js, dt.date(2025, 12, 1), disposed,
          local(2025, 12, 31, 23, 30), local(2026, 1, 1, 0, 0))  # fmt: skip


def reference(alerts) -> tuple[list[tuple[str, int, int, int]], int]:
    """Each event in its Beijing month, one alert at a time."""
    keys = []
    for back in range(11, -1, -1):
        index = TODAY.year * 12 + TODAY.month - 1 - back
        keys.append(dt.date(index // 12, index % 12 + 1, 1))
    opened, acknowledged, disposed = Counter(), Counter(), Counter()
    live = 0
    for alert in alerts:
        opened[alert.opened_on.replace(day=1)] += 1
        if alert.acknowledged_at:
            acknowledged[timezone.localtime(alert.acknowledged_at).date().replace(day=1)] += 1
        if alert.disposed_at:
            disposed[timezone.localtime(alert.disposed_at).date().replace(day=1)] += 1
        live += alert.state != AlertState.DISPOSED
    rows = [(f"{k:%Y-%m}", opened[k], acknowledged[k], disposed[k]) for k in keys]
    return rows, live


def as_tuples(months) -> list[tuple[str, int, int, int]]:
    return [(m.label, m.opened, m.acknowledged, m.disposed) for m in months]


@pytest.mark.parametrize("viewer", (*VIEWERS, "ent_user"))
def test_alert_months_and_live_count_match_a_count_by_hand(world, alerts, viewer):
    user = world.user(viewer)
    visible = Alert.objects.visible_to(user)
    expected_rows, expected_live = reference(list(visible))
    assert as_tuples(monitoring.alert_months(visible, TODAY)) == expected_rows
    panel = monitoring.warning_panel(user, today=TODAY)
    assert as_tuples(panel["alert_months"]) == expected_rows
    assert panel["live_alerts"] == expected_live == visible.live().count()


def test_month_edges_in_beijing_time(world, alerts):
    rows = dict(
        (label, (o, a, d))
        for label, o, a, d in as_tuples(
            monitoring.alert_months(Alert.objects.visible_to(world.user("gov_national")), TODAY)
        )
    )
    assert rows["2025-04"] == (1, 1, 1)
    assert rows["2025-05"] == (0, 1, 0)
    assert rows["2025-12"] == (1, 1, 0)
    assert rows["2026-01"] == (1, 0, 1)
    assert rows["2026-02"] == (1, 1, 0)
    assert rows["2026-03"] == (1, 1, 1)
    assert sum(o + a + d for o, a, d in rows.values()) == 13
    jiashan = monitoring.warning_panel(world.user("gov_jiashan"), today=TODAY)
    assert jiashan["live_alerts"] == 3
    assert monitoring.warning_panel(world.user("gov_jiangsu"), today=TODAY)["live_alerts"] == 1


def test_no_alerts(world):
    months = monitoring.alert_months(Alert.objects.none(), TODAY)
    assert [m.label for m in months][0::11] == ["2025-04", "2026-03"]
    assert as_tuples(months) == [(m.label, 0, 0, 0) for m in months]
    panel = monitoring.warning_panel(world.user("gov_national"), today=TODAY)
    assert panel["live_alerts"] == 0 and panel["alert_chart"] is None


@pytest.mark.postgres
def test_warnings_are_one_statement_on_postgresql(world, alerts):
    user = world.user("gov_zhejiang")
    with CaptureQueriesContext(connection) as captured:
        monitoring.warning_panel(user, today=TODAY)
    on_alerts = [q["sql"] for q in captured.captured_queries if '"risk_alert"' in q["sql"]]
    assert len(on_alerts) == 1, on_alerts


# --- the largest borrowers inside book_figures ----------------------------------------------------


@pytest.mark.parametrize("borrowers", [1, 2, 10])
def test_book_figures_borrowers_match_concentration(world, book, borrowers):  # noqa: F811
    for viewer in (*VIEWERS, "ent_user"):
        loans = LoanAccount.objects.visible_to(world.user(viewer))
        plain = monitoring.book_figures(loans)
        figures = monitoring.book_figures(loans, borrowers=borrowers)
        expected = monitoring.concentration(loans, borrowers)
        assert repr(figures.concentration) == repr(expected), viewer
        assert plain.concentration is None
        assert repr(figures.summary) == repr(plain.summary), viewer
        for name in ("by_region", "by_industry", "by_institution"):
            assert repr(getattr(figures, name)) == repr(getattr(plain, name)), (viewer, name)
    everything = monitoring.book_figures(LoanAccount.objects.all(), borrowers=borrowers)
    assert len(everything.concentration.top) == min(
        borrowers, LoanAccount.objects.filter(status__in=monitoring.ON_BOOK, outstanding__gt=0)
        .values("enterprise_id").distinct().count()
    )  # fmt: skip
    assert everything.concentration.share is not None


def test_borrowers_of_an_empty_book(world):
    figures = monitoring.book_figures(LoanAccount.objects.none(), borrowers=10)
    assert figures.concentration.top == [] and figures.concentration.share is None
    figures = monitoring.book_figures(LoanAccount.objects.filter(pk=-1), borrowers=10)
    assert figures.concentration.top == [] and figures.concentration.share is None
    assert figures.summary.balance == Decimal(0)


@pytest.mark.postgres
def test_book_and_borrowers_are_one_statement_and_the_names_on_postgresql(world, book):  # noqa: F811
    loans = LoanAccount.objects.visible_to(world.user("gov_zhejiang"))
    with CaptureQueriesContext(connection) as captured:
        figures = monitoring.book_figures(loans, borrowers=10)
    assert len(captured) == 2
    assert figures.concentration.top


# --- the national scope ---------------------------------------------------------------------------


def test_national_scope_sees_what_the_platform_sees_without_a_join(world, book, alerts):  # noqa: F811
    """An enterprise's region is required and a region's code is its key,
    so `code LIKE '%'` held for every enterprise: the national agency's
    unfiltered queryset sees the same rows. Should the region ever become
    optional, this test says the filter must come back (it excluded
    enterprises without one)."""
    assert Enterprise._meta.get_field("region").null is False
    assert Region._meta.get_field("code").primary_key
    national = world.user("gov_national")
    for model in (LoanAccount, Alert):
        seen = model.objects.visible_to(national)
        assert "registry_enterprise" not in str(seen.query)
        assert set(seen.values_list("pk", flat=True)) == set(
            model.objects.visible_to(world.user("admin")).values_list("pk", flat=True)
        )
        assert seen.filter(enterprise=world.ent_js).exists()
        zhejiang = model.objects.visible_to(world.user("gov_zhejiang"))
        assert not zhejiang.filter(enterprise=world.ent_js).exists()
        assert zhejiang.filter(enterprise=world.ent).exists()
