"""What an actor may see and do on a demand: the visible demand,
dispatch or offer by id (anything else is a 404, as for the rest of the
platform), who may create a demand, the actions pages and the API offer,
and the timeline as this actor may read it.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from chanrong.core.errors import NotFound
from chanrong.core.lookups import KeyLookup
from chanrong.core.scope import ScopeKind, scope_of

from .. import workflows
from ..models import Demand, DemandEvent, DemandState, Dispatch, Offer
from .parsing import _valid_pk

# --- visibility helpers -----------------------------------------------------------------


# Each family's visible_to(actor) depends on the actor's Scope only, so the
# scope is the lookups' shape (core.lookups.KeyLookup: compiled once per
# scope and thread).
_DEMAND = KeyLookup(
    lambda actor, pk: (
        Demand.objects.visible_to(actor)
        .select_related("enterprise__region__parent__parent", "enterprise__industry")
        .filter(pk=pk)
    ),
    int,
)
_DISPATCH = KeyLookup(
    lambda actor, pk: (
        Dispatch.objects.visible_to(actor)
        .select_related("demand__enterprise", "institution", "branch")
        .filter(pk=pk)
    ),
    int,
)
_OFFER = KeyLookup(
    lambda actor, pk: (
        Offer.objects.visible_to(actor)
        .select_related("dispatch", "demand", "institution")
        .filter(pk=pk)
    ),
    int,
)


def get_visible_demand(actor, pk: int) -> Demand:
    demand = _DEMAND.get(scope_of(actor), actor, pk) if _valid_pk(pk) else None
    if demand is None:
        raise NotFound(_("融资需求不存在"))
    return demand


def get_visible_dispatch(actor, pk: int) -> Dispatch:
    dispatch = _DISPATCH.get(scope_of(actor), actor, pk) if _valid_pk(pk) else None
    if dispatch is None:
        raise NotFound(_("派单不存在"))
    return dispatch


def get_visible_offer(actor, pk: int) -> Offer:
    offer = _OFFER.get(scope_of(actor), actor, pk) if _valid_pk(pk) else None
    if offer is None:
        raise NotFound(_("融资方案不存在"))
    return offer


def can_create_demand(actor) -> bool:
    return scope_of(actor).kind == ScopeKind.ENTERPRISE


# --- read helpers for pages and the API -------------------------------------------------------


def demand_actions(actor, demand: Demand) -> list[str]:
    names = [t.name for t in workflows.DEMAND.available(demand, actor)]
    # Only these are requests a person makes; the rest follow from other actions.
    return [n for n in names if n in {"publish", "withdraw", "redispatch"}]


def dispatch_actions(actor, dispatch: Dispatch) -> list[str]:
    names = {t.name for t in workflows.DISPATCH.available(dispatch, actor)}
    actions = [n for n in ("claim", "decline", "offer", "revise") if n in names]
    if names & {"grant", "disburse", "reject"}:
        actions.append("result")
    demand = dispatch.demand
    if demand.exclusive and "claim" in actions and demand.state != DemandState.DISPATCHED:
        actions.remove("claim")
    return actions


def timeline(actor, demand: Demand):
    return DemandEvent.objects.visible_to(actor).filter(demand=demand).order_by("created_at", "pk")
