"""The demo is built relative to its build day (`--today`): its timelines agree.

Built on a given day, open dispatches are due that day or in the next working
days, a few are a day or two past due so that the scheduler's first SLA run
reminds and re-dispatches; the history (demands, outcomes, events, indicators,
registry, pilot programme) ends that day, and only what is planned ahead
(events, the next pilot batch, deadlines) lies after it. Any day must work: a
Monday, the first working day after the National Day holiday, a Saturday.
"""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Max, Min, Q
from django.utils import timezone

from chanrong.core.models import AuditEntry
from chanrong.core.workdays import workdays_between
from chanrong.demands import sla
from chanrong.demands.models import (
    Demand,
    DemandEvent,
    DemandState,
    Dispatch,
    DispatchState,
    Feedback,
    Offer,
)
from chanrong.demo import services
from chanrong.demo.builders import demands as demand_builder
from chanrong.events.models import Event, EventStatus, SignedDeal
from chanrong.insights.models import FinancingRecord, IndicatorActual
from chanrong.pilots.models import Batch, ProgressReport
from chanrong.registry.models import ListVersion, OperatingRecord, Qualification, TaxCreditGrade

from .conftest import SMALL

pytestmark = pytest.mark.django_db

TZ = dt.timezone(dt.timedelta(hours=8))  # Asia/Shanghai has no DST
# At most this share of the open dispatches may be past due on the build day.
MAX_OVERDUE_SHARE = 0.25


def _start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=TZ)


def _local_day(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def _open_dispatches() -> list[Dispatch]:
    return list(
        Dispatch.objects.filter(
            state__in=(DispatchState.DISPATCHED, DispatchState.CLAIMED)
        ).order_by("pk")
    )


@pytest.mark.parametrize(
    "today",
    [
        dt.date(2025, 6, 16),  # a Monday
        dt.date(2026, 10, 8),  # the first working day after the National Day holiday
        dt.date(2026, 12, 5),  # a Saturday
    ],
    ids=["monday", "after-national-day", "saturday"],
)
def test_open_dispatches_are_due_around_the_build_day(refdata_loaded, demo_password, today):
    services.build_demo(seed=11, scale=SMALL, today=today)
    now = _start(today) + dt.timedelta(hours=10)  # the demo opened at 10:00 on its build day

    # Deadlines: mostly today or ahead, a few just past, none long past.
    dispatches = _open_dispatches()
    assert len(dispatches) >= 20
    late = {}
    ahead = []
    for dispatch in dispatches:
        due = sla.due_of(dispatch)
        assert due is not None, dispatch.pk
        if due < now:
            late[dispatch.pk] = workdays_between(_local_day(due), today)
        else:
            ahead.append(workdays_between(today, _local_day(due)))
    share = len(late) / len(dispatches)
    assert 0 < share <= MAX_OVERDUE_SHARE, (len(late), len(dispatches))
    assert max(late.values()) <= demand_builder.quiet_workdays(), late
    # Claims are due within 2 working days, decisions within 10.
    assert max(ahead) <= 10
    assert Dispatch.objects.filter(sla.overdue_q(now)).count() == len(late)

    # The scheduler's first SLA run reminds every overdue dispatch once and
    # expires and re-dispatches the ones past the second deadline.
    result = sla.run(now)
    assert result.escalated == len(late)
    assert result.expired >= 1 and result.redispatched >= 1, result.as_dict()
    assert sla.run(now + dt.timedelta(minutes=5)).as_dict() == {
        "escalated": 0,
        "expired": 0,
        "redispatched": 0,
        "not_redispatched": [],
    }
    # What is still overdue afterwards is at most a day or two past due, and reminded.
    for dispatch in Dispatch.objects.filter(sla.overdue_q(now)):
        assert workdays_between(_local_day(sla.due_of(dispatch)), today) <= (
            sla.redispatch_workdays()
        )
    # Re-dispatched demands are due again within the claim window.
    again = Dispatch.objects.filter(round__gte=2, state=DispatchState.DISPATCHED)
    assert again.exists() and all(d.claim_due_at > now for d in again)

    # Long-overdue dispatches in the history went the SLA's way: reminded, then expired.
    for dispatch in Dispatch.objects.filter(state=DispatchState.EXPIRED).select_related("demand")[
        :200
    ]:
        verbs = set(
            DemandEvent.objects.filter(
                demand_id=dispatch.demand_id, institution_id=dispatch.institution_id
            ).values_list("verb", flat=True)
        )
        assert "dispatch.expire" in verbs
        assert verbs & {"dispatch.escalate_claim", "dispatch.escalate_decide"}, dispatch.pk


@pytest.mark.parametrize(
    "today", [dt.date(2025, 6, 16), dt.date(2026, 12, 5)], ids=["2025", "2026"]
)
def test_the_history_ends_on_the_build_day(refdata_loaded, demo_password, today):
    services.build_demo(seed=11, scale=SMALL, today=today)
    cutoff = _start(today)

    # Demands: two years of history up to the build day, nothing after it.
    span = Demand.objects.aggregate(first=Min("published_at"), last=Max("published_at"))
    assert span["first"] < cutoff - dt.timedelta(days=550)
    assert span["last"] < cutoff
    assert span["last"] > cutoff - dt.timedelta(days=10)
    for model, fields in (
        (Demand, ("created_at", "updated_at", "published_at", "closed_at")),
        (Dispatch, ("dispatched_at", "claimed_at", "decided_at")),
        (Offer, ("created_at", "accepted_at")),
        (DemandEvent, ("created_at",)),
        (Feedback, ("created_at",)),
    ):
        for name in fields:
            after = model.objects.filter(**{f"{name}__gte": cutoff})
            assert not after.exists(), (model.__name__, name, after.first())
    assert not Demand.objects.filter(disbursed_on__gt=today).exists()
    assert Demand.objects.filter(state=DemandState.DISBURSED).exists()
    assert Demand.objects.filter(disbursed_on__gt=today - dt.timedelta(days=120)).exists()

    # Indicators up to the build day's month, platform financing up to the day.
    latest = IndicatorActual.objects.order_by("-period_start").first()
    assert (latest.period_start.year, latest.period_start.month) == (today.year, today.month)
    assert not IndicatorActual.objects.filter(period_start__gt=today).exists()
    years = set(IndicatorActual.objects.values_list("year", flat=True))
    assert set(range(2021, today.year + 1)) <= years
    dates = FinancingRecord.objects.aggregate(last=Max("date"))
    assert today - dt.timedelta(days=30) <= dates["last"] <= today

    # Events: held or cancelled before the build day; planned ones after it.
    assert Event.objects.filter(
        status=EventStatus.CLOSED, date__gt=today - dt.timedelta(days=400)
    ).exists()
    assert not Event.objects.filter(
        status__in=(EventStatus.CLOSED, EventStatus.CANCELLED), date__gte=today
    ).exists()
    upcoming = Event.objects.filter(status__in=(EventStatus.PUBLISHED, EventStatus.DRAFT))
    assert upcoming.exists() and not upcoming.filter(date__lte=today).exists()
    assert not upcoming.filter(date__gt=today + dt.timedelta(days=120)).exists()
    assert not SignedDeal.objects.filter(signed_on__gte=today).exists()

    # Registry: grades, qualifications, list versions and operating data so far.
    assert not TaxCreditGrade.objects.filter(year__gte=today.year).exists()
    assert not TaxCreditGrade.objects.filter(created_at__gte=cutoff).exists()
    assert not Qualification.objects.filter(valid_from__gt=today).exists()
    assert not OperatingRecord.objects.filter(
        Q(period_start__gt=today) | Q(created_at__gte=cutoff) | Q(reviewed_at__gte=cutoff)
    ).exists()
    last_month = OperatingRecord.objects.aggregate(last=Max("period_start"))["last"]
    assert (today - last_month).days < 100
    assert not ListVersion.objects.filter(
        Q(published_at__gte=cutoff) | Q(submitted_at__gte=cutoff)
    ).exists()
    assert ListVersion.objects.filter(effective_from__gt=today, status="submitted").exists()

    # The pilot programme: the past batches and reports before the day, the
    # next batch's deadlines ahead of it.
    assert not ProgressReport.objects.filter(submitted_at__gte=cutoff).exists()
    third = Batch.objects.get(number=3)
    assert today < third.application_deadline < third.provincial_deadline
    assert third.application_deadline < today + dt.timedelta(days=200)
    for batch in Batch.objects.exclude(number=3):
        assert batch.application_deadline < today and batch.published_at < cutoff


def test_the_build_day_is_explicit_and_recorded(refdata_loaded, demo_password):
    day = dt.date(2026, 3, 2)
    first = services.build_demo(seed=3, scale=SMALL, today=day)
    assert first.today == day
    entry = AuditEntry.objects.filter(action=services.BUILD_ACTION).order_by("-seq").first()
    assert entry.changes["today"] == "2026-03-02"
    assert services.demo_state().today == "2026-03-02"
    # Same seed, scale and build day: the same world, row for row.
    again = services.build_demo(seed=3, scale=SMALL, today=day, reset=True)
    assert again.digest == first.digest
    reset = AuditEntry.objects.filter(action=services.RESET_ACTION).order_by("-seq").first()
    assert reset.changes["today"] == "2026-03-02"

    out = StringIO()
    call_command(
        "demo", "--reset", "--scale", str(SMALL), "--seed", "3", "--today", "2026-03-02", stdout=out
    )
    assert "2026-03-02" in out.getvalue() and first.digest in out.getvalue()
    out = StringIO()
    call_command("demo", "--if-missing", stdout=out)
    assert "2026-03-02" in out.getvalue()
    assert "--reset" in out.getvalue()  # an old build day: says how to bring it to today


@pytest.mark.parametrize("value", ["2026-13-01", "yesterday", "2023-12-31", "2100-01-01"])
def test_a_bad_build_day_is_refused(value):
    with pytest.raises(CommandError):
        call_command("demo", "--today", value, stdout=StringIO(), stderr=StringIO())


def test_the_default_build_day_is_today_in_shanghai(refdata_loaded, demo_password):
    result = services.build_demo(seed=3, scale=SMALL)
    # Read the clock on both sides: a build across midnight may take either day.
    assert result.today in {
        dt.datetime.now(dt.UTC).astimezone(TZ).date(),
        (dt.datetime.now(dt.UTC).astimezone(TZ) - dt.timedelta(minutes=10)).date(),
    }
