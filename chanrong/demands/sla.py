"""Deadline supervision (督办): escalate overdue dispatches to government,
then, after a second deadline, expire and re-dispatch them.

An institution that has not claimed a dispatch by its claim deadline (or not
answered a claimed one by its decide deadline) is reported once, per
dispatch, round and stage, to the government users supervising the
enterprise's region. If the dispatch is still overdue CHANRONG_REDISPATCH_WORKDAYS
working days later, `expire_overdue` expires it and the demand, left with no
live dispatch, is sent round again with `redispatch_demand`.

Everything here is "do whatever is due now": the periodic task may run
twice, late or concurrently and still escalates each dispatch once (the
escalation is recorded as a DemandEvent under the dispatch's row lock).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Count, F, Q, When
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.errors import NotAllowed, ServiceError
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.core.workdays import add_workdays, deadline_after

from . import services
from .models import Demand, DemandEvent, DemandState, Dispatch, DispatchState

logger = logging.getLogger(__name__)

STAGE_CLAIM = "claim"
STAGE_DECIDE = "decide"
ESCALATE_VERB = "dispatch.escalate_%s"


def redispatch_workdays() -> int:
    return int(getattr(settings, "CHANRONG_REDISPATCH_WORKDAYS", 2))


#: The demand states that can have open (待接单 / 已接单) dispatches.
LIVE_DEMAND_STATES = (DemandState.DISPATCHED, DemandState.CLAIMED, DemandState.NEGOTIATING)


def overdue_q(now: dt.datetime) -> Q:
    """Dispatches past their claim or decide deadline at `now`."""
    return Q(state=DispatchState.DISPATCHED, claim_due_at__lt=now) | Q(
        state=DispatchState.CLAIMED, decide_due_at__lt=now
    )


def stage_of(dispatch: Dispatch) -> str:
    return STAGE_CLAIM if dispatch.state == DispatchState.DISPATCHED else STAGE_DECIDE


def due_of(dispatch: Dispatch) -> dt.datetime | None:
    return dispatch.claim_due_at if stage_of(dispatch) == STAGE_CLAIM else dispatch.decide_due_at


def second_deadline(due: dt.datetime) -> dt.datetime:
    """When an overdue dispatch is taken away: N more working days."""
    return deadline_after(timezone.localtime(due), redispatch_workdays())


def expiry_cutoff(now: dt.datetime) -> dt.datetime:
    """The instant c such that a first deadline before c has its second
    deadline before `now`. Deadlines fall at the end of a working day, so
    the test is on dates: the last day D whose N-th following working day is
    before today; c is the start of the day after D."""
    today = timezone.localtime(now).date()
    days = redispatch_workdays()
    day = today
    while add_workdays(day, days) >= today:
        day -= dt.timedelta(days=1)
    start = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min)
    return timezone.make_aware(start, timezone.get_current_timezone())


def supervisors(demand: Demand) -> list:
    """Government users supervising the enterprise's region: the most local
    agency level that has active users, its 工信 (industry) agencies first —
    only they, if that level has any; otherwise every agency at that level."""
    from chanrong.accounts.models import GOVERNMENT_ROLES, AgencyFunction, User

    region_code = demand.enterprise.region_id
    users = list(
        User.objects.filter(
            role__in=GOVERNMENT_ROLES, is_active=True, agency__isnull=False
        ).select_related("agency__region")
    )
    by_prefix: dict[str, list] = {}
    for user in users:
        prefix = user.agency.region_prefix
        if region_code.startswith(prefix):
            by_prefix.setdefault(prefix, []).append(user)
    if not by_prefix:
        return []
    chosen = by_prefix[max(by_prefix, key=len)]
    industry = [u for u in chosen if u.agency.function == AgencyFunction.INDUSTRY]
    return sorted(industry or chosen, key=lambda u: u.pk)


def _already_escalated(dispatch: Dispatch, stage: str) -> bool:
    since = dispatch.dispatched_at if stage == STAGE_CLAIM else dispatch.claimed_at
    events = DemandEvent.objects.filter(
        demand_id=dispatch.demand_id,
        institution_id=dispatch.institution_id,
        verb=ESCALATE_VERB % stage,
    )
    if since is not None:
        events = events.filter(created_at__gte=since)
    return events.exists()


def escalate_dispatch(dispatch_id: int, now: dt.datetime) -> bool:
    """Escalate one overdue dispatch, unless done already. True if it was now."""
    with transaction.atomic():
        dispatch = Dispatch.objects.filter(pk=dispatch_id).select_related("demand").first()
        if dispatch is None:
            return False
        # Lock order of the services: the demand first, then its dispatch.
        # of=("self",): lock the rows named, not the joined enterprise, region
        # or institution (PostgreSQL would lock those too, serialising every
        # operation of one institution and deadlocking crossing ones).
        demand = (
            Demand.objects.select_for_update(of=("self",))
            .select_related("enterprise__region")
            .get(pk=dispatch.demand_id)
        )
        dispatch = (
            Dispatch.objects.select_for_update(of=("self",))
            .select_related("institution")
            .filter(overdue_q(now), pk=dispatch_id)
            .first()
        )
        if dispatch is None:
            return False
        stage = stage_of(dispatch)
        if _already_escalated(dispatch, stage):
            return False
        due = due_of(dispatch)
        recipients = supervisors(demand)
        what = _("接单") if stage == STAGE_CLAIM else _("办理")
        message = _(
            "督办：%(enterprise)s 的融资需求派给 %(institution)s 后，未在期限（%(due)s）内%(what)s；"
            "%(second)s 前仍未处理将重新派单"
        ) % {
            "enterprise": demand.enterprise.name,
            "institution": dispatch.institution,
            "due": timezone.localtime(due).strftime("%Y-%m-%d %H:%M"),
            "what": what,
            "second": timezone.localtime(second_deadline(due)).strftime("%Y-%m-%d %H:%M"),
        }
        audit.record(
            "dispatch.escalate",
            actor=None,
            obj=dispatch,
            changes={
                "stage": stage,
                "round": dispatch.round,
                "due": due.isoformat(),
                "recipients": [u.pk for u in recipients],
            },
        )
        services._notify(
            demand,
            ESCALATE_VERB % stage,
            message,
            recipients=recipients,
            institution_id=dispatch.institution_id,
        )
    return True


@dataclass
class SlaResult:
    escalated: int = 0
    expired: int = 0
    redispatched: int = 0
    not_redispatched: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "escalated": self.escalated,
            "expired": self.expired,
            "redispatched": self.redispatched,
            "not_redispatched": self.not_redispatched,
        }


def run(now: dt.datetime | None = None) -> SlaResult:
    """Escalate what is newly overdue; expire and re-dispatch what is past
    the second deadline. Safe to run again at any time."""
    now = now or timezone.now()
    result = SlaResult()
    for pk in Dispatch.objects.filter(overdue_q(now)).order_by("pk").values_list("pk", flat=True):
        if escalate_dispatch(pk, now):
            result.escalated += 1
    cutoff = expiry_cutoff(now)
    demand_ids = sorted(
        set(Dispatch.objects.filter(overdue_q(cutoff)).values_list("demand_id", flat=True))
    )
    if not demand_ids:
        return result
    result.expired = services.expire_overdue(cutoff)
    for demand in Demand.objects.filter(pk__in=demand_ids, state=DemandState.EXPIRED).order_by(
        "pk"
    ):
        try:
            services.redispatch_demand(None, demand)
        except ServiceError as exc:  # nobody left to send it to: it stays 超时
            logger.info("demand %s not re-dispatched: %s", demand.pk, exc)
            result.not_redispatched.append(demand.pk)
        else:
            result.redispatched += 1
    return result


# --- the government's supervision board ----------------------------------------------------

#: Rows per page of each of the board's two lists (超期派单, 在办派单).
BOARD_PAGE_SIZE = 25


@dataclass
class OverdueLine:
    dispatch: Dispatch
    stage: str
    due: dt.datetime
    overdue_hours: float
    overdue_workdays: int
    escalated: bool
    expires_at: dt.datetime


@dataclass
class Board:
    open_count: int
    overdue_count: int
    open_dispatches: list[Dispatch]
    overdue: list[OverdueLine]
    # The pages shown (django.core.paginator.Page), for the pager links.
    open_page: Any = None
    overdue_page: Any = None


def _due_expression() -> Case:
    """The deadline a live dispatch is waiting on (due_of, in the query)."""
    return Case(
        When(state=DispatchState.DISPATCHED, then=F("claim_due_at")),
        default=F("decide_due_at"),
    )


def supervision_board(
    actor,
    now: dt.datetime | None = None,
    *,
    overdue_page: object = 1,
    open_page: object = 1,
    page_size: int = BOARD_PAGE_SIZE,
) -> Board:
    """Open dispatches (待接单 / 已接单) the actor can see, and those past their
    deadline with how far past, most overdue first; one page of each
    (`overdue_page`, `open_page`: page numbers as given, out-of-range or
    malformed numbers give the nearest page)."""
    from django.core.paginator import Paginator

    from chanrong.core.workdays import workdays_between

    now = now or timezone.now()
    # Government and the platform see a dispatch exactly when they see its
    # demand (Dispatch.visible_to), and only a live demand has open
    # dispatches: closing, withdrawing, expiring or lending ends them. Naming
    # the live demands lets PostgreSQL start from those few in the scope
    # rather than hash all of them with the region's enterprises (嘉善 at
    # demo scale 100: the counts 150 → 70 ms). The whole country has no
    # region to test, and there the plain rule is the cheaper one. Anyone
    # else sees no board.
    if not can_supervise(actor):
        raise NotAllowed(_("只有政府部门和平台管理员可以查看督办看板"))
    visible = Dispatch.objects.visible_to(actor)
    if scope_of(actor).region_prefix:
        live = Demand.objects.visible_to(actor).filter(state__in=LIVE_DEMAND_STATES)
        visible = Dispatch.objects.filter(demand__in=live)
    open_qs = visible.filter(state__in=(DispatchState.DISPATCHED, DispatchState.CLAIMED))
    overdue_qs = (
        visible.filter(overdue_q(now)).annotate(due=_due_expression()).order_by("due", "pk")
    )
    # Both lists' counts in one statement (every overdue dispatch is open).
    counts = open_qs.aggregate(open=Count("pk"), overdue=Count("pk", filter=overdue_q(now)))
    overdue_paginator = Paginator(overdue_qs.values_list("pk", flat=True), page_size)
    overdue_paginator.count = counts["overdue"]
    overdue_pager = overdue_paginator.get_page(overdue_page)
    overdue_rows = _load_page(overdue_pager)
    # When each (demand, institution, stage) was escalated, to tell whether
    # it was for this round of the dispatch (a dict: one look per row).
    escalated: dict[tuple, list[dt.datetime]] = {}
    for demand_id, institution_id, verb, created_at in DemandEvent.objects.filter(
        demand_id__in={d.demand_id for d in overdue_rows},
        verb__startswith="dispatch.escalate_",
    ).values_list("demand_id", "institution_id", "verb", "created_at"):
        escalated.setdefault((demand_id, institution_id, verb), []).append(created_at)
    today = timezone.localtime(now).date()
    lines = []
    for dispatch in overdue_rows:
        stage = stage_of(dispatch)
        due = due_of(dispatch)
        since = dispatch.dispatched_at if stage == STAGE_CLAIM else dispatch.claimed_at
        done = any(
            since is None or c >= since
            for c in escalated.get(
                (dispatch.demand_id, dispatch.institution_id, ESCALATE_VERB % stage), ()
            )
        )
        lines.append(
            OverdueLine(
                dispatch=dispatch,
                stage=stage,
                due=due,
                overdue_hours=round((now - due).total_seconds() / 3600, 1),
                overdue_workdays=max(workdays_between(timezone.localtime(due).date(), today), 0),
                escalated=done,
                expires_at=second_deadline(due),
            )
        )
    open_ids = open_qs.order_by("claim_due_at", "pk").values_list("pk", flat=True)
    open_paginator = Paginator(open_ids, page_size)
    open_paginator.count = counts["open"]
    open_pager = open_paginator.get_page(open_page)
    return Board(
        open_count=open_pager.paginator.count,
        overdue_count=overdue_pager.paginator.count,
        open_dispatches=_load_page(open_pager),
        overdue=lines,
        open_page=open_pager,
        overdue_page=overdue_pager,
    )


def _load_page(pager) -> list[Dispatch]:
    """The dispatches of a page of primary keys, with what the board shows
    of each, in the page's order; the page's `object_list` becomes them.

    The pages are sorted and cut as bare keys, and only the page's rows are
    joined: sorting the joined rows made PostgreSQL join every open
    dispatch first (92,000 of them: 330 ms for a page of 25, of which the
    keys alone take about a fifth). A row gone between the two reads is left out."""
    keys = list(pager.object_list)
    rows = Dispatch.objects.select_related(
        "demand__enterprise__region", "institution", "branch"
    ).in_bulk(keys)
    pager.object_list = [rows[key] for key in keys if key in rows]
    return pager.object_list


def can_supervise(actor) -> bool:

    return scope_of(actor).kind in (ScopeKind.GOVERNMENT, ScopeKind.PLATFORM)
