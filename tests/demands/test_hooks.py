"""Side effects of the lifecycle: webhooks to the institutions that asked for
them, and 已放款 written to the indicator system's fact table."""

from __future__ import annotations

import pytest
from django.utils import timezone

from chanrong.api.models import WebhookDelivery, WebhookEndpoint
from chanrong.demands import services
from chanrong.insights.models import FinancingRecord
from chanrong.insights.services import financing_totals

from .conftest import WAN, dispatch_of

pytestmark = pytest.mark.django_db

EVENTS = ["dispatch.created", "demand.status_changed", "offer.accepted"]


def disburse(world, demand, amount_wan=180):
    staff = world.user("bank_staff")
    dispatch = dispatch_of(demand, world.bank)
    services.claim_dispatch(staff, dispatch)
    offer = services.make_offer(staff, dispatch, {"amount_wan": 200, "term_months": 12})
    services.accept_offer(world.user("ent_user"), offer)
    services.record_result(
        staff,
        dispatch,
        "disbursed",
        {
            "amount_wan": amount_wan,
            "rate": "4.1",
            "term_months": 12,
            "disbursed_on": timezone.localdate().isoformat(),
        },
    )
    demand.refresh_from_db()
    return demand


def test_webhooks_follow_the_lifecycle(
    world, bank_products, make_demand, django_capture_on_commit_callbacks
):
    WebhookEndpoint.objects.create(
        institution=world.bank,
        url="https://hooks.example.com/x",
        secret_encrypted="x",
        events=EVENTS,
    )
    with django_capture_on_commit_callbacks():
        demand = make_demand()
    events = list(WebhookDelivery.objects.order_by("pk").values_list("event", "payload"))
    assert events[0][0] == "dispatch.created"
    assert events[0][1]["demand_id"] == demand.pk
    assert ("demand.status_changed") in [e for e, _p in events]
    changed = [p for e, p in events if e == "demand.status_changed"]
    assert changed[-1]["to"] == "dispatched"
    with django_capture_on_commit_callbacks():
        disburse(world, demand)
    names = list(WebhookDelivery.objects.values_list("event", flat=True))
    assert names.count("offer.accepted") == 1
    last = WebhookDelivery.objects.filter(event="demand.status_changed").order_by("-pk").first()
    assert last.payload["to"] == "disbursed"
    # The other bank has no endpoint: nothing is written for it.
    assert not WebhookDelivery.objects.exclude(endpoint__institution=world.bank).exists()


def test_disbursement_recorded_once_in_insights(world, bank_products, make_demand):
    demand = disburse(world, make_demand())
    record = FinancingRecord.objects.get(source_ref=f"demand:{demand.pk}")
    assert record.amount == 180 * WAN
    assert record.institution == world.bank and record.region_id == world.ent.region_id
    assert financing_totals("330421") == (1, 180 * WAN)
