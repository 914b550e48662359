"""Deadline supervision with a frozen clock: escalation once per dispatch and
stage, then expiry and re-dispatch after the second deadline, counted on
China's working-day calendar (a weekend; Spring Festival 2026 with its 调休)."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from chanrong.core.models import AuditEntry, Notification
from chanrong.demands import services, sla
from chanrong.demands.models import DemandEvent, DemandState, DispatchState
from chanrong.demands.tasks import supervise_deadlines

from .conftest import dispatch_of

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


@contextmanager
def freeze_time(moment: dt.datetime):
    """Freeze django.utils.timezone.now (what every service reads); freezegun
    would also fake datetime for pydantic's schema building, which breaks it."""
    original = timezone.now
    timezone.now = lambda: moment.astimezone(dt.UTC)
    try:
        yield
    finally:
        timezone.now = original


def escalations(demand, stage="claim"):
    return DemandEvent.objects.filter(demand=demand, verb=sla.ESCALATE_VERB % stage)


@pytest.fixture
def published(world, bank_products, make_demand):
    """A demand published on Friday 2026-01-09: claim due Tuesday 01-13."""
    with freeze_time(at(2026, 1, 9, 10)):
        demand = make_demand()
    return demand


def test_weekend_escalation_then_redispatch(world, published):
    demand = published
    dispatch = dispatch_of(demand, world.bank)
    assert timezone_local(dispatch.claim_due_at) == at(2026, 1, 13, 23, 59, 59)

    with freeze_time(at(2026, 1, 13, 18)):  # Tuesday: still in time
        assert sla.run().escalated == 0
    with freeze_time(at(2026, 1, 14, 9)):  # Wednesday: overdue
        result = sla.run()
        assert result.escalated == 2  # both banks' dispatches
        assert result.expired == 0
        again = sla.run()  # idempotent
        assert again.escalated == 0
    events = escalations(demand)
    assert events.count() == 2
    notes = Notification.objects.filter(verb="dispatch.escalate_claim")
    # The most local supervising agency (嘉善, 工信): its two users, once per dispatch.
    assert sorted({n.recipient.username for n in notes}) == ["gov_jiashan", "gov_jiashan_staff"]
    assert notes.count() == 4
    assert AuditEntry.objects.filter(action="dispatch.escalate").count() == 2

    # Second deadline: 2 more working days after Tuesday = Thursday 01-15 end of day.
    with freeze_time(at(2026, 1, 15, 20)):
        assert sla.run().expired == 0
    with freeze_time(at(2026, 1, 16, 9)):
        result = sla.run()
        assert (result.expired, result.redispatched) == (2, 1)
        assert sla.run().as_dict() == {
            "escalated": 0,
            "expired": 0,
            "redispatched": 0,
            "not_redispatched": [],
        }
    demand.refresh_from_db()
    dispatch.refresh_from_db()
    assert demand.state == DemandState.DISPATCHED
    assert demand.round == 2
    assert dispatch.state == DispatchState.DISPATCHED
    assert timezone_local(dispatch.claim_due_at) == at(2026, 1, 20, 23, 59, 59)
    # The new round is escalated again once it is overdue.
    with freeze_time(at(2026, 1, 21, 9)):
        assert sla.run().escalated == 2
    assert escalations(demand).count() == 4


def test_decide_stage_escalated_separately(world, published):
    demand = published
    dispatch = dispatch_of(demand, world.bank)
    with freeze_time(at(2026, 1, 12, 10)):  # Monday: claim, decide within 10 working days
        services.claim_dispatch(world.user("bank_staff"), dispatch)
    dispatch.refresh_from_db()
    assert timezone_local(dispatch.decide_due_at) == at(2026, 1, 26, 23, 59, 59)
    with freeze_time(at(2026, 1, 14, 9)):
        sla.run()  # the other bank's unclaimed dispatch only
    assert not escalations(demand, "decide").exists()
    with freeze_time(at(2026, 1, 27, 9)):
        assert sla.run().escalated == 1
        assert sla.run().escalated == 0
    assert escalations(demand, "decide").get().institution_id == world.bank.pk


def test_spring_festival_2026(world, bank_products, make_demand):
    # Thursday 02-12: Friday 02-13 and the make-up Saturday 02-14 are working days.
    with freeze_time(at(2026, 2, 12, 10)):
        demand = make_demand()
    dispatch = dispatch_of(demand, world.bank)
    assert timezone_local(dispatch.claim_due_at) == at(2026, 2, 14, 23, 59, 59)
    with freeze_time(at(2026, 2, 15, 9)):  # first day of the holiday
        assert sla.run().escalated == 2
    # Second deadline: 02-15..02-23 are off, so 2 working days = Wednesday 02-25.
    with freeze_time(at(2026, 2, 24, 9)):
        assert sla.run().expired == 0
    with freeze_time(at(2026, 2, 25, 23)):
        assert sla.run().expired == 0
    with freeze_time(at(2026, 2, 26, 0, 30)):
        result = supervise_deadlines.call()
    assert result["expired"] == 2
    assert result["redispatched"] == 1
    dispatch.refresh_from_db()
    # Re-dispatched on Thursday 02-26: Friday 02-27, make-up Saturday 02-28.
    assert timezone_local(dispatch.claim_due_at) == at(2026, 2, 28, 23, 59, 59)


def test_supervisors_fall_back_to_higher_level(world, make_demand, bank_products):
    with freeze_time(at(2026, 1, 9, 10)):
        demand = make_demand()
    for name in ("gov_jiashan", "gov_jiashan_staff"):
        user = world.user(name)
        user.is_active = False
        user.save(update_fields=["is_active"])
    # 嘉兴's agency has no users: the province is the most local level left.
    names = [u.username for u in sla.supervisors(demand)]
    assert names == ["gov_zhejiang"]


def test_not_redispatched_when_nobody_qualifies(world, published, bank_products):
    from chanrong.finance import services as products

    first, second = bank_products
    products.withdraw_product(world.user("bank_staff"), first)
    products.withdraw_product(world.user("bank2_staff"), second)
    with freeze_time(at(2026, 1, 16, 9)):
        result = sla.run()
        assert (result.expired, result.redispatched) == (2, 0)
        assert result.not_redispatched == [published.pk]
        assert sla.run().not_redispatched == []  # not retried every five minutes
    published.refresh_from_db()
    assert published.state == DemandState.EXPIRED


def test_cutoff_is_start_of_day_after_last_expirable_due_date():
    with freeze_time(at(2026, 1, 16, 9)):
        assert sla.expiry_cutoff(at(2026, 1, 16, 9)) == at(2026, 1, 14)


def timezone_local(value: dt.datetime) -> dt.datetime:
    return value.astimezone(SH)
