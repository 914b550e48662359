"""What someone has to do next about demands and dispatches (待办).

Each to-do is one named filter over the lists' own `visible_to` querysets:
the demand list and the institution's workbench filter by `?todo=<key>`, and
the home page's to-do workbench counts the very same querysets, so a figure
on the home page is always the length of the list its link opens.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Demand, DemandState, Dispatch, DispatchState, Offer

#: A demand whose every live dispatch falls due within this time is "about to expire".
EXPIRING_WITHIN = dt.timedelta(days=2)

DEMAND_TODOS = {
    "decide": _("有融资方案待选择"),
    "expiring": _("即将超时"),
    "expired": _("已超时，待重新派单"),
    "unclaimed": _("超期无人接单"),
}

DISPATCH_TODOS = {
    "claim_today": _("今日到期待接单"),
    "claim_overdue": _("超期未接单"),
    "offered": _("方案待企业选择"),
    "report": _("待反馈办理结果"),
}


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _end_of_today(now: dt.datetime) -> dt.datetime:
    today = timezone.localtime(now).date()
    start = dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min)
    return timezone.make_aware(start, timezone.get_current_timezone())


def demand_todo(queryset: QuerySet, key: str, now: dt.datetime | None = None) -> QuerySet:
    """`queryset` (already `Demand.objects.visible_to(user)`) narrowed to to-do `key`."""
    now = _now(now)
    dispatches = Dispatch.objects.filter(demand_id=OuterRef("pk"))
    if key == "decide":
        return queryset.filter(state=DemandState.NEGOTIATING, accepted_offer__isnull=True).filter(
            Exists(dispatches.filter(state=DispatchState.OFFERED))
        )
    if key == "expiring":
        cutoff = now + EXPIRING_WITHIN
        live_until_later = dispatches.filter(
            Q(state=DispatchState.DISPATCHED, claim_due_at__gte=cutoff)
            | Q(state=DispatchState.CLAIMED, decide_due_at__gte=cutoff)
            | Q(state=DispatchState.OFFERED)
        )
        live = dispatches.filter(state__in=(DispatchState.DISPATCHED, DispatchState.CLAIMED))
        return queryset.filter(
            state__in=(DemandState.DISPATCHED, DemandState.CLAIMED, DemandState.NEGOTIATING)
        ).filter(Exists(live), ~Exists(live_until_later))
    if key == "expired":
        return queryset.filter(state=DemandState.EXPIRED)
    if key == "unclaimed":
        overdue = dispatches.filter(state=DispatchState.DISPATCHED, claim_due_at__lt=now)
        ever_claimed = dispatches.filter(claimed_at__isnull=False)
        return queryset.filter(
            (Q(state=DemandState.DISPATCHED) & Q(Exists(overdue)))
            | (Q(state=DemandState.EXPIRED) & ~Q(Exists(ever_claimed)))
        )
    return queryset.none()


def dispatch_todo(queryset: QuerySet, key: str, now: dt.datetime | None = None) -> QuerySet:
    """`queryset` (already `Dispatch.objects.visible_to(user)`) narrowed to to-do `key`."""
    now = _now(now)
    if key == "claim_today":
        return queryset.filter(
            state=DispatchState.DISPATCHED,
            claim_due_at__gte=now,
            claim_due_at__lt=_end_of_today(now),
        )
    if key == "claim_overdue":
        return queryset.filter(state=DispatchState.DISPATCHED, claim_due_at__lt=now)
    if key == "offered":
        return queryset.filter(state=DispatchState.OFFERED)
    if key == "report":
        return queryset.filter(state__in=(DispatchState.ACCEPTED, DispatchState.GRANTED))
    return queryset.none()


def with_offer_counts(queryset: QuerySet, user) -> QuerySet:
    """Demands annotated with `offer_count`: the offers on each that `user` may see."""
    counted = (
        Offer.objects.visible_to(user)
        .filter(demand_id=OuterRef("pk"))
        .order_by()
        .values("demand_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return queryset.annotate(offer_count=Coalesce(Subquery(counted), 0))


def demand_counts(user, keys, now: dt.datetime | None = None) -> dict[str, int]:
    visible = Demand.objects.visible_to(user)
    return {key: demand_todo(visible, key, now).count() for key in keys}


def dispatch_counts(user, keys, now: dt.datetime | None = None) -> dict[str, int]:
    visible = Dispatch.objects.visible_to(user)
    return {key: dispatch_todo(visible, key, now).count() for key in keys}
