"""The demo builder for products and demands: consistent with what the
services would produce, and the same world for the same seed."""

from __future__ import annotations

import hashlib

import pytest
from django.db.models import Count, Q

from chanrong.demands.models import (
    CLOSED_STATES,
    Demand,
    DemandEvent,
    DemandState,
    Dispatch,
    DispatchState,
    Feedback,
    Offer,
)
from chanrong.demo import services as demo
from chanrong.demo.builders import demands as builder
from chanrong.demo.builders.base import DemoContext, default_today
from chanrong.finance.models import FinancialInstitution, Product, ProductState
from tests.module_demo import demo_for_module

pytestmark = pytest.mark.django_db
SCALE = 0.05
TODAY = default_today()


def _digest() -> str:
    hasher = hashlib.sha256()
    for label, rows in builder.digest_rows():
        hasher.update(label.encode())
        for row in rows:
            hasher.update(repr(row).encode())
    return hasher.hexdigest()


def _build(seed: int, reset: bool = False) -> dict:
    # An explicit build day: a rebuild across midnight would otherwise be another world.
    demo.build_demo(seed=seed, scale=SCALE, today=TODAY, reset=reset)
    if Product.objects.exists():  # the lead has wired the builder into the demo
        return {}
    ctx = DemoContext(seed=seed, scale=SCALE, password_hash="x", today=TODAY)
    builder.build(ctx)
    return ctx.counts


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker):
    """Built once for the module (tests/module_demo.py); each test sees it fresh."""
    with demo_for_module(django_db_blocker, seed=11, scale=SCALE, today=TODAY):
        yield {}


def test_every_institution_has_published_products(built):
    without = FinancialInstitution.objects.annotate(
        n=Count("products", filter=Q(products__state=ProductState.PUBLISHED))
    ).filter(n=0)
    assert not without.exists()


def test_demand_histories_are_consistent(built):
    assert Demand.objects.count() == builder.demand_count(SCALE)
    states = set(Demand.objects.values_list("state", flat=True))
    assert {DemandState.DISBURSED, DemandState.NEGOTIATING, DemandState.DISPATCHED} <= states
    for demand in Demand.objects.prefetch_related("dispatches"):
        dispatch_states = {d.state for d in demand.dispatches.all()}
        if demand.state == DemandState.DISBURSED:
            assert DispatchState.DISBURSED in dispatch_states
            assert demand.disbursed_amount and demand.disbursed_on and demand.accepted_offer_id
            assert demand.accepted_offer.institution_id == demand.outcome_institution_id
        if demand.state == DemandState.DRAFT:
            assert not dispatch_states and demand.published_at is None
        if demand.state in (DemandState.DISPATCHED, DemandState.CLAIMED, DemandState.NEGOTIATING):
            assert dispatch_states & {
                DispatchState.DISPATCHED,
                DispatchState.CLAIMED,
                DispatchState.OFFERED,
            }
        if demand.state == DemandState.EXPIRED:
            assert dispatch_states <= {DispatchState.EXPIRED, DispatchState.DECLINED}
        if demand.state in CLOSED_STATES:
            assert demand.closed_at is not None
        for dispatch in demand.dispatches.all():
            assert dispatch.claim_due_at > dispatch.dispatched_at
    assert (
        Offer.objects.filter(accepted_at__isnull=False)
        .values("demand")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
        == 0
    )
    assert DemandEvent.objects.exists() and Feedback.objects.exists()
    assert not Feedback.objects.exclude(demand__state__in=CLOSED_STATES).exists()


def test_demo_accounts_have_demands_to_work_on(built):
    ent = Demand.objects.filter(enterprise__users__username="ent_user")
    assert ent.filter(state=DemandState.NEGOTIATING).exists()
    assert ent.filter(state=DemandState.DRAFT).exists()
    assert Dispatch.objects.filter(
        institution__users__username="bank_staff", state=DispatchState.DISPATCHED
    ).exists()


def test_same_seed_same_world(built, settings):
    first = _digest()
    _build(11, reset=True)
    assert _digest() == first
