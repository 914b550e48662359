"""Deadlines: dispatches past their claim or decide deadline expire, and
a demand left without a live dispatch goes to 超时, from where it can be
dispatched again. Run by the periodic SLA task (`demands.sla`); safe to run
twice or concurrently, since rows are locked.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import workflows
from ..models import LIVE_DISPATCH_STATES, Demand, Dispatch, DispatchState
from .common import _Event, _move, enterprise_users, institution_users

# --- deadlines ---------------------------------------------------------------------------------


def _settle(demand: Demand, actor, reason: str) -> None:
    """A demand whose dispatches have all ended without a live one goes to
    超时, from where it can be dispatched again (caller holds the demand lock)."""
    if demand.state not in workflows.DEMAND.transitions["expire"].source:
        return
    if demand.dispatches.filter(state__in=LIVE_DISPATCH_STATES).exists():
        return
    _move(
        workflows.DEMAND, demand, "expire", actor,
        event=_Event(_("%(reason)s，需求超时，待重新派单") % {"reason": reason}, enterprise_users(demand)),
    )  # fmt: skip


def expire_overdue(now: datetime | None = None, actor=None) -> int:
    """Expire dispatches past their claim or decide deadline, and the demands
    left with no live dispatch. Returns how many dispatches expired. Meant to
    be run by a periodic task; safe to run concurrently (rows are locked)."""
    now = now or timezone.now()
    overdue = Dispatch.objects.filter(
        Q(state=DispatchState.DISPATCHED, claim_due_at__lt=now)
        | Q(state=DispatchState.CLAIMED, decide_due_at__lt=now)
    ).order_by("demand_id", "pk")
    expired = 0
    for demand_id in list(dict.fromkeys(overdue.values_list("demand_id", flat=True))):
        with transaction.atomic():
            demand = Demand.objects.select_for_update().get(pk=demand_id)
            for dispatch in (
                demand.dispatches.select_for_update()
                .filter(
                    Q(state=DispatchState.DISPATCHED, claim_due_at__lt=now)
                    | Q(state=DispatchState.CLAIMED, decide_due_at__lt=now)
                )
                .order_by("pk")
            ):
                what = _("接单") if dispatch.state == DispatchState.DISPATCHED else _("办理")
                _move(
                    workflows.DISPATCH, dispatch, "expire", actor,
                    event=_Event(
                        _("%(name)s 未在期限内%(what)s，派单超时") % {"name": dispatch.institution, "what": what},
                        institution_users(dispatch.institution_id, dispatch.branch_id),
                        institution_id=dispatch.institution_id,
                    ),
                )  # fmt: skip
                expired += 1
            _settle(demand, actor, _("已派单机构均未在期限内响应"))
    return expired
