"""风险监测's figures kept per viewer scope (risk.services.book_kept): for
every kind of viewer that has a kept row (the platform, the nation, a
province, a county, another province, two banks) the kept figures are the
live ones, row by row and month by month, and right by hand; the page reads
them (数据截至) without summing a loan; ?live=1, a scope nobody had, and
figures more than a day old are computed live (实时计算); a government
user's refresh request is audited and enqueued once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chanrong.accounts.models import Role, User
from chanrong.core.models import AuditEntry
from chanrong.risk.models import Alert, AlertState, BookFigures, BookSnapshot, LoanAccount
from chanrong.risk.services import book_kept, monitoring
from tests.demands.conftest import bank_products, make_demand  # noqa: F401
from tests.risk.test_groups_split import VIEWERS, book  # noqa: F401
from tests.risk.test_monitoring_one_pass import TODAY, alerts  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def both(book, alerts):  # noqa: F811
    """The loan book of test_groups_split and the alerts of test_monitoring_one_pass."""
    return book


@pytest.mark.parametrize("viewer", VIEWERS)
def test_kept_figures_are_the_live_figures(world, both, viewer):
    book_kept.refresh(today=TODAY)
    user = world.user(viewer)
    kept = book_kept.shown_to(user, today=TODAY)
    assert not kept.live and kept.snapshot.as_of == TODAY
    live = book_kept.shown_to(user, live=True, today=TODAY)
    assert live.live
    assert kept.figures == live.figures
    # and the live figures are those of what the user may see (visible_to)
    visible = LoanAccount.objects.visible_to(user)
    assert kept.figures.book == monitoring.book_figures(
        visible, limits=book_kept.LIMITS, borrowers=book_kept.BORROWERS
    )
    alerts_seen = Alert.objects.visible_to(user)
    assert kept.figures.alert_months == monitoring.alert_months(alerts_seen, TODAY)
    assert kept.figures.live_alerts == alerts_seen.live().count()


def test_the_figures_are_right_by_hand(world, both):
    book_kept.refresh(today=TODAY)
    national = book_kept.shown_to(world.user("gov_national")).figures
    on_book = [
        loan
        for loan in LoanAccount.objects.all()
        if loan.status in monitoring.ON_BOOK and loan.outstanding > 0
    ]
    summary = national.book.summary
    assert summary.loans == len(on_book) > 0
    assert summary.balance == sum((loan.outstanding for loan in on_book), Decimal(0))
    jiashan = book_kept.shown_to(world.user("gov_jiashan")).figures
    assert jiashan.book.summary.loans == sum(
        1 for loan in on_book if loan.enterprise.region_id.startswith("330421")
    )
    assert {row.key for row in jiashan.book.by_region} <= {"330421"}
    live = Alert.objects.exclude(state=AlertState.DISPOSED)
    assert national.live_alerts == live.count() > 0
    assert jiashan.live_alerts == live.filter(enterprise__region__code__startswith="330421").count()
    bank = book_kept.shown_to(world.user("bank_staff")).figures
    assert {row.key for row in bank.book.by_institution} == {str(world.bank.pk)}
    share = bank.book.concentration.share
    assert share is not None and Decimal(0) < share <= Decimal(100)


def test_kept_rows_are_the_scopes_people_act_for(world, both):
    snapshot = book_kept.refresh(today=TODAY)
    keys = set(BookFigures.objects.filter(snapshot=snapshot).values_list("scope", flat=True))
    institutions = {f"i:{world.user(u).institution_id}" for u in ("bank_staff", "bank2_staff")}
    assert keys == {"g:", "g:32", "g:33", "g:330421"} | institutions
    assert BookSnapshot.objects.count() == 1
    book_kept.refresh(today=TODAY)
    assert BookFigures.objects.count() == len(keys)


def test_the_page_reads_the_kept_figures(world, both):
    book_kept.refresh(today=TODAY)
    client = Client()
    client.force_login(world.user("gov_jiashan"))
    client.get("/risk/")
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/risk/")
    html = response.content.decode()
    assert response.status_code == 200
    computed = timezone.localtime(BookSnapshot.objects.get().computed_at)
    assert 'data-figures="snapshot"' in html
    assert f"数据截至 {computed:%Y-%m-%d %H:%M}" in html
    assert 'data-testid="refresh-book-figures"' in html
    summed = [
        q["sql"]
        for q in captured.captured_queries
        if '"risk_loanaccount"' in q["sql"] or '"risk_alert"' in q["sql"]
    ]
    assert summed == []
    shown = book_kept.shown_to(world.user("gov_jiashan")).figures
    assert f"{shown.live_alerts} 条" in html
    # ?live=1: computed now, from the loan book
    with CaptureQueriesContext(connection) as captured:
        html = client.get("/risk/?live=1").content.decode()
    assert 'data-figures="live"' in html
    assert any('"risk_loanaccount"' in q["sql"] for q in captured.captured_queries)


def test_unkept_scopes_and_old_figures_are_live(world, both):
    book_kept.refresh(today=TODAY)
    # 嘉兴 had nobody when the figures were computed: live, and right.
    jiaxing = User(username="gov_jiaxing", role=Role.GOV_ADMIN, agency=world.gov_jiaxing)
    jiaxing.save()
    shown = book_kept.shown_to(jiaxing, today=TODAY)
    assert shown.live
    expected = monitoring.summary(LoanAccount.objects.visible_to(jiaxing))
    assert shown.figures.book.summary == expected and expected.loans > 0
    # Figures computed more than a day ago are not shown (the job has stopped).
    BookSnapshot.objects.update(computed_at=timezone.now() - dt.timedelta(days=1, minutes=1))
    assert book_kept.shown_to(world.user("gov_jiashan"), today=TODAY).live
    # An enterprise user is sent to its loan list.
    client = Client()
    client.force_login(world.user("ent_user"))
    assert client.get("/risk/")["Location"] == "/risk/loans/"


def test_new_data_shows_after_the_next_refresh(world, both):
    book_kept.refresh(today=TODAY)
    admin = world.user("admin")
    before = book_kept.shown_to(admin).figures.book.summary
    LoanAccount.objects.filter(pk=LoanAccount.objects.order_by("pk").first().pk).update(
        overdue_amount=Decimal("1234.56")
    )
    assert book_kept.shown_to(admin).figures.book.summary == before
    book_kept.refresh(today=TODAY)
    after = book_kept.shown_to(admin).figures.book.summary
    assert after == book_kept.shown_to(admin, live=True).figures.book.summary != before


def test_a_government_user_asks_for_a_refresh(world, client, django_capture_on_commit_callbacks):
    gov = world.user("gov_zhejiang")
    client.force_login(gov)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post("/risk/refresh/")
    assert response.status_code == 302 and response["Location"] == "/risk/"
    snapshot = BookSnapshot.objects.get()
    assert snapshot.requested_by == gov and snapshot.refresh_pending
    assert snapshot.computed_at is None and len(callbacks) == 1
    entry = AuditEntry.objects.get(action="risk.book_figures.request")
    assert entry.actor_name == "gov_zhejiang"
    html = client.get("/risk/").content.decode()
    assert 'data-figures="pending"' in html and 'data-figures="live"' in html
    with django_capture_on_commit_callbacks() as callbacks:
        client.post("/risk/refresh/")
    assert callbacks == []
    assert AuditEntry.objects.filter(action="risk.book_figures.request").count() == 1
    from chanrong.risk.tasks import refresh_book_figures_now

    refresh_book_figures_now.call()
    snapshot.refresh_from_db()
    assert snapshot.computed_at is not None and not snapshot.refresh_pending
    assert 'data-figures="snapshot"' in client.get("/risk/").content.decode()
    # A bank sees the page (its own book) but may not ask; an enterprise has no page.
    client.force_login(world.user("bank_staff"))
    assert 'data-testid="refresh-book-figures"' not in client.get("/risk/").content.decode()
    assert client.post("/risk/refresh/").status_code == 403
    client.force_login(world.user("ent_user"))
    assert client.post("/risk/refresh/").status_code == 404
    client.force_login(gov)
    assert client.get("/risk/refresh/").status_code == 405
