"""The demand lifecycle through the services: dispatch at publication,
claims, offers, acceptance, outcome, withdrawal, deadlines, feedback."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from chanrong.core.errors import Conflict, NotAllowed, ValidationFailed
from chanrong.core.models import AuditEntry, Notification
from chanrong.demands import services
from chanrong.demands.models import Demand, DemandEvent, DemandState, DispatchState, Feedback
from chanrong.registry.models import DataAuthorisation

from .conftest import WAN, dispatch_of, publish

pytestmark = pytest.mark.django_db


def test_publication_dispatches_at_once_to_qualifying_institutions(
    world, bank_products, make_demand
):
    demand = make_demand()
    assert demand.state == DemandState.DISPATCHED
    assert demand.round == 1
    dispatches = {d.institution_id: d for d in demand.dispatches.all()}
    assert set(dispatches) == {world.bank.pk, world.bank2.pk}
    local = dispatches[world.bank.pk]
    assert local.branch == world.bank_branch  # the branch in the enterprise's county
    assert dispatches[world.bank2.pk].branch is None  # no branch there: head office
    assert local.matched_products == [bank_products[0].pk]
    assert local.claim_due_at > local.dispatched_at
    # bank staff were told, and the enterprise's timeline says who got it
    assert Notification.objects.filter(
        recipient=world.user("bank_staff"), verb="dispatch.new"
    ).exists()
    assert AuditEntry.objects.filter(action="demand.publish").exists()
    assert AuditEntry.objects.filter(action="demand.dispatch").exists()


def test_demand_above_a_product_ceiling_skips_that_institution(world, bank_products, make_demand):
    demand = make_demand(amount_wan=800)  # bank's product tops out at 500 万
    assert set(demand.dispatches.values_list("institution_id", flat=True)) == {world.bank2.pk}


def test_preferred_institutions_are_always_dispatched(world, make_demand):
    demand = make_demand(preferred_institution_ids=[world.bank2.pk])
    dispatch = demand.dispatches.get()
    assert dispatch.institution == world.bank2 and dispatch.preferred
    assert demand.state == DemandState.DISPATCHED


def test_no_qualifying_institution_leaves_demand_published(world, make_demand):
    demand = make_demand()
    assert demand.state == DemandState.PUBLISHED
    assert not demand.dispatches.exists()
    assert DemandEvent.objects.filter(demand=demand, verb="demand.no_target").exists()


def test_full_lifecycle_to_disbursement(world, bank_products, make_demand):
    demand = make_demand(share_profile=True)
    bank_staff, ent_user = world.user("bank_staff"), world.user("ent_user")
    # share_profile authorised every dispatched institution
    assert DataAuthorisation.objects.filter(
        enterprise=world.ent, institution=world.bank2, revoked_at__isnull=True
    ).exists()
    dispatch = dispatch_of(demand, world.bank)
    services.claim_dispatch(bank_staff, dispatch)
    demand.refresh_from_db()
    assert demand.state == DemandState.CLAIMED
    dispatch.refresh_from_db()
    assert dispatch.decide_due_at is not None and dispatch.claimed_by == bank_staff
    offer = services.make_offer(
        bank_staff, dispatch, {"amount_wan": 200, "rate": "4.2", "term_months": 12, "terms": "信用"}
    )
    demand.refresh_from_db()
    assert demand.state == DemandState.NEGOTIATING
    services.accept_offer(ent_user, offer)
    demand.refresh_from_db()
    assert demand.accepted_offer == offer and demand.outcome_institution == world.bank
    # the other bank's untouched dispatch is over
    assert dispatch_of(demand, world.bank2).state == DispatchState.CANCELLED
    services.record_result(
        bank_staff,
        dispatch,
        "disbursed",
        {
            "amount_wan": 180,
            "rate": "4.1",
            "term_months": 12,
            "disbursed_on": timezone.localdate().isoformat(),
        },
    )
    demand.refresh_from_db()
    assert demand.state == DemandState.DISBURSED
    assert demand.granted_amount == 200 * WAN  # 授信 recorded on the way
    assert demand.disbursed_amount == 180 * WAN and demand.disbursed_rate == Decimal("4.1")
    assert demand.closed_at is not None
    verbs = list(DemandEvent.objects.filter(demand=demand).values_list("verb", flat=True))
    for verb in ("demand.publish", "demand.dispatch", "dispatch.claim", "dispatch.offer",
                 "demand.accept", "demand.grant", "demand.disburse"):  # fmt: skip
        assert verb in verbs
    # feedback once per institution, after closure
    services.leave_feedback(ent_user, demand, world.bank.pk, 5, "放款快")
    with pytest.raises(Conflict):
        services.leave_feedback(ent_user, demand, world.bank.pk, 4, "")
    assert services.ratings([world.bank.pk])[world.bank.pk].count == 1


def test_rejection_and_feedback_rules(world, bank_products, make_demand):
    demand = make_demand()
    staff = world.user("bank_staff")
    dispatch = dispatch_of(demand, world.bank)
    with pytest.raises(Conflict):  # not closed yet
        services.leave_feedback(world.user("ent_user"), demand, world.bank.pk, 3)
    services.claim_dispatch(staff, dispatch)
    offer = services.make_offer(staff, dispatch, {"amount_wan": 100, "term_months": 6})
    services.accept_offer(world.user("ent_user"), offer)
    with pytest.raises(ValidationFailed) as excinfo:
        services.record_result(staff, dispatch, "rejected", {"reason": ""})
    assert excinfo.value.errors[0].field == "reason"
    services.record_result(staff, dispatch, "rejected", {"reason": "经营现金流不足"})
    demand.refresh_from_db()
    assert demand.state == DemandState.REJECTED and demand.rejection_reason == "经营现金流不足"
    with pytest.raises(ValidationFailed):
        services.leave_feedback(world.user("ent_user"), demand, world.bank.pk, 6)
    with pytest.raises(NotAllowed):
        services.leave_feedback(world.user("ent2_user"), demand, world.bank.pk, 3)
    feedback = services.leave_feedback(world.user("ent_user"), demand, world.bank2.pk, 2, "未响应")
    assert isinstance(feedback, Feedback)


def test_non_exclusive_several_offers_one_acceptance(world, bank_products, make_demand):
    demand = make_demand()
    offers = []
    for user, bank in (("bank_staff", world.bank), ("bank2_staff", world.bank2)):
        dispatch = dispatch_of(demand, bank)
        services.claim_dispatch(world.user(user), dispatch)
        offers.append(
            services.make_offer(world.user(user), dispatch, {"amount_wan": 200, "term_months": 12})
        )
    services.accept_offer(world.user("ent_user"), offers[1])
    assert dispatch_of(demand, world.bank).state == DispatchState.NOT_SELECTED
    with pytest.raises(Conflict):
        services.accept_offer(world.user("ent_user"), offers[0])


def test_exclusive_first_claim_wins(world, bank_products, make_demand, settings):
    settings.CHANRONG_DEMAND_EXCLUSIVE = True
    demand = make_demand()
    assert demand.exclusive
    services.claim_dispatch(world.user("bank2_staff"), dispatch_of(demand, world.bank2))
    assert dispatch_of(demand, world.bank).state == DispatchState.CANCELLED
    with pytest.raises(Conflict) as excinfo:
        services.claim_dispatch(world.user("bank_staff"), dispatch_of(demand, world.bank))
    assert excinfo.value.status == 409


def test_wrong_actor_or_state_changes_nothing(world, bank_products, make_demand):
    demand = make_demand()
    dispatch = dispatch_of(demand, world.bank)
    audit_count = AuditEntry.objects.count()
    with pytest.raises(NotAllowed):  # another institution's dispatch
        services.claim_dispatch(world.user("bank2_staff"), dispatch)
    with pytest.raises(NotAllowed):  # someone else's demand
        services.withdraw_demand(world.user("ent2_user"), demand)
    with pytest.raises(Conflict):  # offer before claiming
        services.make_offer(world.user("bank_staff"), dispatch, {"amount_wan": 1, "term_months": 1})
    with pytest.raises(Conflict):  # publish twice
        services.publish_demand(world.user("ent_user"), demand)
    with pytest.raises(Conflict):  # edit after publication
        services.update_demand(world.user("ent_user"), demand, {"purpose": "别的用途"})
    assert AuditEntry.objects.count() == audit_count
    dispatch.refresh_from_db()
    demand.refresh_from_db()
    assert dispatch.state == DispatchState.DISPATCHED and demand.state == DemandState.DISPATCHED


def test_withdraw_cancels_live_dispatches(world, bank_products, make_demand):
    demand = make_demand()
    services.claim_dispatch(world.user("bank_staff"), dispatch_of(demand, world.bank))
    services.withdraw_demand(world.user("ent_user"), demand, "已通过其他渠道解决")
    assert demand.state == DemandState.WITHDRAWN
    assert set(demand.dispatches.values_list("state", flat=True)) == {DispatchState.CANCELLED}
    assert Notification.objects.filter(
        recipient=world.user("bank_staff"), verb="dispatch.cancel"
    ).exists()


def test_timeout_then_redispatch(world, bank_products, make_demand):
    demand = make_demand()
    later = timezone.now() + timedelta(days=30)
    assert services.expire_overdue(later) == 2
    demand.refresh_from_db()
    assert demand.state == DemandState.EXPIRED
    assert set(demand.dispatches.values_list("state", flat=True)) == {DispatchState.EXPIRED}
    with pytest.raises(NotAllowed):
        services.redispatch_demand(world.user("gov_jiangsu"), demand)
    services.redispatch_demand(world.user("gov_jiashan"), demand)
    demand.refresh_from_db()
    assert demand.state == DemandState.DISPATCHED and demand.round == 2
    assert set(demand.dispatches.values_list("state", flat=True)) == {DispatchState.DISPATCHED}
    assert set(demand.dispatches.values_list("round", flat=True)) == {2}


def test_all_declined_goes_to_timeout_and_decliners_are_not_asked_again(
    world, bank_products, make_demand
):
    demand = make_demand()
    services.decline_dispatch(
        world.user("bank_staff"), dispatch_of(demand, world.bank), "超出授信政策"
    )
    services.decline_dispatch(world.user("bank2_staff"), dispatch_of(demand, world.bank2), "不符")
    demand.refresh_from_db()
    assert demand.state == DemandState.EXPIRED
    with pytest.raises(Conflict):
        services.redispatch_demand(world.user("ent_user"), demand)


def test_published_without_target_can_be_dispatched_once_products_exist(world, make_demand):
    demand = make_demand()
    assert demand.state == DemandState.PUBLISHED
    publish(world.user("bank_staff"))
    services.redispatch_demand(world.user("admin"), demand)
    demand.refresh_from_db()
    assert demand.state == DemandState.DISPATCHED


def test_demand_input_is_validated(world):
    user = world.user("ent_user")
    with pytest.raises(ValidationFailed) as excinfo:
        services.create_demand(
            user,
            {
                "kind": "loan",
                "amount_wan": "-5",
                "term_months": 0,
                "purpose": "",
                "rate_max": "40",
                "collateral_offered": ["gold"],
                "preferred_institution_ids": [999999],
            },
        )
    fields = {e.field for e in excinfo.value.errors}
    assert fields == {
        "kind",
        "amount_wan",
        "term_months",
        "purpose",
        "rate_max",
        "collateral_offered",
        "preferred_institution_ids",
    }
    assert not Demand.objects.exists()
    demand = services.create_demand(
        user, {"kind": "debt", "amount_wan": "1.2亿", "term_months": "24", "purpose": "扩产"}
    )
    assert demand.amount == Decimal("120000000.00")
    with pytest.raises(NotAllowed):
        services.create_demand(world.user("bank_staff"), {"kind": "debt"})


def test_visibility(world, bank_products, make_demand):
    from chanrong.demands.models import Demand, Offer

    demand = make_demand()
    other = make_demand(user="ent2_user", amount_wan=800)  # bank2 only
    for user, expected in (
        ("ent_user", {demand.pk}),
        ("ent2_user", {other.pk}),
        ("bank_staff", {demand.pk}),
        ("bank2_staff", {demand.pk, other.pk}),
        ("gov_jiashan", {demand.pk, other.pk}),
        ("gov_jiangsu", set()),
        ("admin", {demand.pk, other.pk}),
    ):
        got = set(Demand.objects.visible_to(world.user(user)).values_list("pk", flat=True))
        assert got == expected, user
    # each institution sees only its own offer
    for user, bank in (("bank_staff", world.bank), ("bank2_staff", world.bank2)):
        dispatch = dispatch_of(demand, bank)
        services.claim_dispatch(world.user(user), dispatch)
        services.make_offer(world.user(user), dispatch, {"amount_wan": 100, "term_months": 12})
    assert set(
        Offer.objects.visible_to(world.user("bank_staff")).values_list("institution_id", flat=True)
    ) == {world.bank.pk}
    assert Offer.objects.visible_to(world.user("ent_user")).count() == 2
    winner = Offer.objects.get(demand=demand, institution=world.bank2)
    services.accept_offer(world.user("ent_user"), winner)
    services.record_result(world.user("bank2_staff"), winner.dispatch, "granted", {})
    events = services.timeline(world.user("bank_staff"), demand)
    assert all(e.institution_id in (None, world.bank.pk) for e in events)
    assert not any("工商银行" in e.message for e in events)
    # messages addressed to one institution stay out of the enterprise's timeline
    enterprise_view = list(services.timeline(world.user("ent_user"), demand))
    assert enterprise_view and not any("贵机构" in e.message for e in enterprise_view)
    assert any("贵机构" in e.message for e in services.timeline(world.user("bank_staff"), demand))
    # drafts are private to the enterprise
    draft = make_demand(publish_it=False)
    assert not Demand.objects.visible_to(world.user("gov_jiashan")).filter(pk=draft.pk).exists()


def test_an_offer_stays_within_the_demand_and_its_product(world, bank_products, make_demand):
    """800 万 on a 200 万 demand, a 40-month term on a 36-month product, a
    product capped at 500 万: every breach at once, by field, and no offer."""
    demand = make_demand(amount_wan=200)
    staff = world.user("bank_staff")
    dispatch = dispatch_of(demand, world.bank)
    services.claim_dispatch(staff, dispatch)
    product = bank_products[0]
    with pytest.raises(ValidationFailed) as excinfo:
        services.make_offer(
            staff,
            dispatch,
            {"amount_wan": 800, "term_months": 40, "product_id": product.pk},
        )
    messages = {(e.field, e.message) for e in excinfo.value.errors}
    assert {field for field, _ in messages} == {"amount_wan", "term_months"}
    assert any("超过需求金额" in m for f, m in messages if f == "amount_wan")
    assert any("所选产品的额度" in m for f, m in messages if f == "amount_wan")
    assert not dispatch.demand.offers.exists()
    offer = services.make_offer(
        staff, dispatch, {"amount_wan": 200, "term_months": 36, "product_id": product.pk}
    )
    assert offer.amount == 200 * WAN


def test_an_amount_under_one_wan_is_refused_as_a_slip_of_the_unit(world):
    with pytest.raises(ValidationFailed) as excinfo:
        services.create_demand(
            world.user("ent_user"),
            {"kind": "debt", "amount_wan": "0.001", "term_months": 12, "purpose": "扩产"},
        )
    assert [e.field for e in excinfo.value.errors] == ["amount_wan"]
    assert not Demand.objects.exists()
