"""Events: state machine, visibility, registration, results feeding indicators."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from chanrong.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from chanrong.core.models import AuditEntry, Notification, Region
from chanrong.events import services
from chanrong.events.models import Event, EventStatus
from chanrong.insights import services as insights
from chanrong.insights.models import IndicatorDefinition


def _event(world, *, is_open=False, day=date(2022, 5, 20), region="330421", user="gov_jiashan"):
    return services.create_event(
        world.user(user),
        {
            "kind": "matchmaking",
            "title": "嘉善县制造业银企对接会",
            "date": day.isoformat(),
            "place": "嘉善县行政中心",
            "region": region,
            "is_open": is_open,
        },
    )


def test_state_machine(world):
    gov = world.user("gov_jiashan")
    event = _event(world)
    assert event.status == EventStatus.DRAFT
    with pytest.raises(Conflict):
        services.close(gov, event, today=date(2022, 6, 1))
    with pytest.raises(NotAllowed):
        services.publish(world.user("gov_zhejiang"), event)  # not the organiser
    services.publish(gov, event)
    assert event.status == EventStatus.PUBLISHED
    with pytest.raises(Conflict):
        services.close(gov, event, today=date(2022, 5, 19))  # not held yet
    services.close(gov, event, today=date(2022, 5, 20))
    assert Event.objects.get(pk=event.pk).status == EventStatus.CLOSED
    with pytest.raises(Conflict):
        services.cancel(gov, event)
    assert AuditEntry.objects.filter(action="event.publish").exists()
    assert AuditEntry.objects.filter(action="event.close").exists()


def test_create_is_for_government_in_its_subtree(world):
    with pytest.raises(NotAllowed):
        _event(world, user="bank_staff")
    with pytest.raises(ValidationFailed):
        _event(world, user="gov_jiashan", region="320508")
    with pytest.raises(ValidationFailed):
        services.create_event(world.user("gov_jiashan"), {"kind": "party", "date": "x"})
    assert not Event.objects.exists()


def _sees(world, name, event):
    return Event.objects.visible_to(world.user(name)).filter(pk=event.pk).exists()


def test_visibility(world):
    gov = world.user("gov_jiashan")
    private = _event(world)
    assert _sees(world, "gov_jiashan", private)
    assert not _sees(world, "gov_zhejiang", private)  # a draft: organiser only
    assert not _sees(world, "ent_user", private)
    services.invite(gov, private, enterprises=[world.ent], institutions=[world.bank])
    services.publish(gov, private)
    assert _sees(world, "gov_zhejiang", private) and _sees(world, "gov_national", private)
    assert not _sees(world, "gov_jiangsu", private)
    assert _sees(world, "ent_user", private) and _sees(world, "bank_staff", private)
    assert not _sees(world, "ent2_user", private) and not _sees(world, "bank2_staff", private)
    # invitees were notified on publish
    assert Notification.objects.filter(recipient=world.user("ent_user")).exists()
    open_event = _event(world, is_open=True)
    services.publish(gov, open_event)
    for name in ("ent2_user", "bank2_staff", "gov_jiangsu"):
        assert _sees(world, name, open_event)
    with pytest.raises(NotFound):
        services.get_visible_event(world.user("ent2_user"), private.pk)


def test_registration(world):
    gov = world.user("gov_jiashan")
    private = _event(world)
    services.invite(gov, private, enterprises=[world.ent])
    with pytest.raises(NotFound):  # draft: not visible yet
        services.register(world.user("ent_user"), private)
    services.publish(gov, private)
    reg = services.register(world.user("ent_user"), private)
    assert reg.enterprise_id == world.ent.pk
    with pytest.raises(Conflict):
        services.register(world.user("ent_user"), private)
    with pytest.raises(NotFound):
        services.register(world.user("ent2_user"), private)
    with pytest.raises(NotAllowed):
        services.register(gov, private)
    open_event = _event(world, is_open=True)
    services.publish(gov, open_event)
    assert services.register(world.user("bank2_staff"), open_event).institution_id == world.bank2.pk
    services.withdraw(world.user("bank2_staff"), open_event)
    assert not open_event.registrations.exists()


def test_results_feed_indicators(world):
    gov = world.user("gov_jiashan")
    defs = {d.code: d for d in IndicatorDefinition.objects.all()}
    jiashan = Region.objects.get(code="330421")
    jiaxing = Region.objects.get(code="330400")
    plan = insights.create_plan(gov, jiashan, "计划", 2022, 2022)
    insights.set_targets(
        gov,
        plan,
        [
            {"definition": "matching-events", "year": 2022, "value": "2"},
            {"definition": "matching-event-financing", "year": 2022, "value": "1"},
        ],
    )
    held = []
    for day, amounts in ((date(2022, 5, 20), ["6000", "3000"]), (date(2022, 9, 1), ["2000"])):
        event = _event(world, day=day)
        services.publish(gov, event)
        services.record_presented_demand(
            gov, event, enterprise=world.ent, title="技改贷款", amount="8000万元"
        )
        for a in amounts:  # 万元
            services.record_deal(gov, event, enterprise=world.ent, institution=world.bank, amount=a)
        held.append(event)
    services.close(gov, held[0], today=date(2022, 12, 31))
    # only held (closed) events count
    year = (date(2022, 1, 1), date(2022, 12, 31))
    assert insights.indicator_value(defs["matching-events"], jiashan, *year).value == 1
    assert insights.indicator_value(
        defs["matching-event-financing"], jiashan, *year
    ).value == Decimal("0.9")
    services.close(gov, held[1], today=date(2022, 12, 31))
    rows = {r.definition.code: r for r in insights.completion(plan, 2022, today=date(2023, 1, 5))}
    assert rows["matching-events"].actual == 2
    assert rows["matching-events"].status == "met"
    assert rows["matching-events"].computed
    assert rows["matching-event-financing"].actual == Decimal("1.1")
    # by region and period: the city sees its counties' events, another year sees none
    assert insights.indicator_value(defs["matching-events"], jiaxing, *year).value == 2
    q2 = insights.period_bounds("quarter", 2022, 2)
    assert insights.indicator_value(defs["matching-events"], jiashan, *q2).value == 1
    assert (
        insights.indicator_value(
            defs["matching-events"], jiashan, date(2023, 1, 1), date(2023, 12, 31)
        ).value
        == 0
    )


def test_results_only_by_organiser_and_not_on_drafts(world):
    gov = world.user("gov_jiashan")
    event = _event(world)
    with pytest.raises(Conflict):
        services.record_deal(gov, event, enterprise=world.ent, institution=world.bank, amount="1")
    services.publish(gov, event)
    with pytest.raises(NotAllowed):
        services.record_deal(
            world.user("gov_zhejiang"),
            event,
            enterprise=world.ent,
            institution=world.bank,
            amount="1",
        )
    with pytest.raises(ValidationFailed):
        services.record_deal(gov, event, enterprise=world.ent, institution=world.bank, amount="-5")
    with pytest.raises(ValidationFailed):
        services.record_deal(gov, event, enterprise=world.ent, institution=world.bank, amount="abc")
    assert not event.deals.exists()
