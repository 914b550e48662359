"""What every demand service shares: the settings that shape the
workflow (exclusive claims, claim and decide deadlines), who hears about a
demand or a dispatch, and the single path from a state change to its
timeline line, inbox message and webhook event.

`_move` is `apply_transition` (actor check, audit, notification in one
transaction) with its notification written by `_notify`, the one place a
demand event becomes a timeline line and a message (core.notify.send, which
later also sends e-mail, SMS, webhooks). `_emit` hands events for
institutions' own systems to the `institution_events` domain signal; the api
app turns them into webhook deliveries in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import audit, bulkinsert, notify
from chanrong.core.lookups import PlannedQuery
from chanrong.core.money import format_amount
from chanrong.core.workflow import StateMachine, apply_transition

from .. import signals as demand_signals
from .. import workflows
from ..models import Demand, DemandEvent

# --- settings --------------------------------------------------------------------


def exclusive_by_default() -> bool:
    return bool(getattr(settings, "CHANRONG_DEMAND_EXCLUSIVE", False))


def claim_workdays() -> int:
    return int(getattr(settings, "CHANRONG_CLAIM_WORKDAYS", 2))


def decide_workdays() -> int:
    return int(getattr(settings, "CHANRONG_DECIDE_WORKDAYS", 10))


# --- notification: the single entry point ------------------------------------------


def share_enterprise(actor, enterprise) -> None:
    """Give an enterprise user the enterprise row the service has just read,
    so that the audit's organisation label (`describe_actor`) does not read
    it again. Anyone else is left alone."""
    if getattr(actor, "enterprise_id", None) != enterprise.pk:
        return
    field = actor._meta.get_field("enterprise")  # actor may be request.user's lazy proxy
    if not field.is_cached(actor):
        field.set_cached_value(actor, enterprise)


class Recipient(NamedTuple):
    """Someone to tell, as `core.notify.send` and the e-mail templates read
    a user: not a User instance. A publish tells about forty people, and
    building each User (its ~25 fields, its post_init receiver) cost more
    than writing their message (bench/request_path.py, issue 20)."""

    pk: int
    username: str
    display_name: str
    email: str
    phone: str
    is_active: bool
    institution_id: int | None
    branch_id: int | None
    role: str


def _active_users(field: str, key):
    from chanrong.accounts.models import User

    return (
        User.objects.filter(**{field: key, "is_active": True})
        .order_by("pk")
        .values_list(*Recipient._fields)
    )


#: Who hears about a demand: its enterprise's or its institutions' active
#: users, by pk (compiled once per thread and per number of institutions).
_USERS = PlannedQuery(_active_users)


def enterprise_users(demand: Demand) -> list[Recipient]:
    return [
        Recipient._make(row)
        for row in _USERS.rows("enterprise", "enterprise_id", demand.enterprise_id)
    ]


def institution_users(institution_id: int, branch_id: int | None = None) -> list[Recipient]:
    """Who hears about a dispatch: the branch's staff, the institution's
    managers and head-office staff; everyone at the institution if that is nobody."""
    return institution_users_for([(institution_id, branch_id)])[(institution_id, branch_id)]


def institution_users_for(
    pairs: Iterable[tuple[int, int | None]],
) -> dict[tuple[int, int | None], list[Recipient]]:
    """`institution_users` for several (institution, branch) pairs in one query."""
    from chanrong.accounts.models import Role

    pairs = list(dict.fromkeys(pairs))
    everyone: dict[int, list[Recipient]] = {}
    if pairs:
        institutions = sorted({institution_id for institution_id, _branch in pairs})
        for row in _USERS.rows("institutions", "institution_id__in", institutions):
            user = Recipient._make(row)
            everyone.setdefault(user.institution_id, []).append(user)
    out: dict[tuple[int, int | None], list] = {}
    for institution_id, branch_id in pairs:
        users = everyone.get(institution_id, [])
        if branch_id is not None:
            chosen = [
                user
                for user in users
                if user.branch_id == branch_id
                or user.branch_id is None
                or user.role == Role.INSTITUTION_MANAGER
            ]
            if chosen:
                users = chosen
        out[(institution_id, branch_id)] = users
    return out


def demand_link(demand: Demand) -> str:
    """reverse("demands:detail", args=[demand.pk]), from the pattern reversed
    once per script prefix and URLconf: every timeline message of a publish
    carries the link, and Django's `reverse` costs more than the rest of
    building the message."""
    head, tail = _detail_link(get_script_prefix(), get_urlconf())
    return f"{head}{int(demand.pk)}{tail}"


@lru_cache(maxsize=16)
def _detail_link(_prefix: str, urlconf) -> tuple[str, str]:
    marker = 2_147_480_001  # a key no demand has; it appears once in the path
    head, _marker, tail = reverse("demands:detail", args=[marker], urlconf=urlconf).partition(
        str(marker)
    )
    return head, tail


def demand_label(demand: Demand) -> str:
    """How an inbox message names its demand: "需求 #123 扩产资金 500.00 万元"."""
    return _("需求 #%(pk)s %(purpose)s %(amount)s") % {
        "pk": demand.pk,
        "purpose": demand.purpose,
        "amount": format_amount(demand.amount),
    }


def inbox_message(demand: Demand, message: str) -> str:
    """The timeline line as an inbox message, which must say which demand it is about."""
    return _("%(demand)s：%(message)s") % {"demand": demand_label(demand), "message": message}


def _notify(
    demand: Demand,
    verb: str,
    message: str,
    *,
    actor=None,
    recipients: Iterable = (),
    institution_id: int | None = None,
    private: bool = False,
    link: str | None = None,
) -> None:
    """Record one timeline event on `demand` and tell `recipients`.

    `institution_id` marks an event that concerns one institution (its
    claim, its offer): other institutions never see it on the timeline.
    `private` marks a message addressed to that institution alone ("派给贵机构"),
    which the enterprise's and government's timelines leave out.
    """
    actor_id, actor_name, _organisation = audit.describe_actor(actor)
    event = bulkinsert.new(
        DemandEvent,
        demand=demand,
        created_at=timezone.now(),
        actor_id=actor_id,
        actor_name=actor_name,
        verb=verb[:64],
        message=message[:500],
        institution_id=institution_id,
        private=private and institution_id is not None,
    )
    bulkinsert.insert(DemandEvent, [event])
    notify.send(
        recipients,
        verb,
        inbox_message(demand, message),
        link if link is not None else demand_link(demand),
        actor=actor,
    )


def _notify_each_institution(
    demand: Demand, verb: str, message: str, *, actor, recipients: dict[int, list]
) -> None:
    """`_notify` of one private message to each institution in `recipients`
    ({institution pk: users}), in one INSERT for the timeline and one for the inboxes."""
    if not recipients:
        return
    actor_id, actor_name, _organisation = audit.describe_actor(actor)
    now = timezone.now()
    bulkinsert.insert_values(
        DemandEvent,
        _EVENT_COLUMNS,
        [
            (demand.pk, now, actor_id, actor_name, verb[:64], message[:500], institution_id, True)
            for institution_id in recipients
        ],
    )
    everyone = [user for users in recipients.values() for user in users]
    notify.send(everyone, verb, inbox_message(demand, message), demand_link(demand), actor=actor)


#: What `_notify_each_institution` writes of each timeline row (values, not
#: instances: about twenty a dispatch round, none read back).
_EVENT_COLUMNS = (
    "demand_id",
    "created_at",
    "actor_id",
    "actor_name",
    "verb",
    "message",
    "institution_id",
    "private",
)


@dataclass
class _Event:
    message: str
    recipients: Iterable = ()
    institution_id: int | None = None
    private: bool = False


def _move(
    machine: StateMachine,
    obj,
    name: str,
    actor,
    *,
    changes=None,
    event: _Event | None = None,
    held: bool = False,
    outbox: list | None = None,
    dispatched: Iterable[int] | None = None,
    also_save: tuple[str, ...] = (),
):
    """apply_transition, with its notification written by `_notify`
    (`held`: the caller holds `obj`'s row lock, see apply_transition).

    A demand's `demand.status_changed` webhook event goes to every
    institution it was dispatched to: `dispatched` names them when the caller
    knows (else they are read), and with `outbox` the event is appended there
    for the caller to send with its others (`_send_events`) instead of now."""

    def notifier(locked, transition, who):
        if event is None:
            return
        demand = locked if isinstance(locked, Demand) else locked.demand
        _notify(
            demand,
            f"{machine.name}.{transition.name}",
            event.message,
            actor=who,
            recipients=event.recipients,
            institution_id=event.institution_id,
            private=event.private,
        )

    before = getattr(obj, machine.field)
    locked = apply_transition(
        machine, obj, name, actor,
        changes=changes, notify=notifier, held=held, also_save=also_save,
    )  # fmt: skip
    if machine is workflows.DEMAND and locked.state != before:
        events = _status_changed_events(locked, before, dispatched)
        if outbox is None:
            _send_events(events)
        else:
            outbox.extend(events)
    return locked


# --- webhooks ------------------------------------------------------------------------------


def _emit(institution_ids: Iterable[int], event: str, payload: dict[str, Any]) -> None:
    _send_events([(pk, event, payload) for pk in sorted(set(institution_ids))])


def _send_events(events: list) -> None:
    """Hand (institution pk, event, payload) triples to the api app (webhook
    deliveries, in this transaction); nothing to do without events."""
    if events:
        demand_signals.institution_events.send_in_transaction(events=events)


def _status_changed_events(
    demand: Demand, before: str, dispatched: Iterable[int] | None = None
) -> list:
    """demand.status_changed to every institution the demand was dispatched to."""
    if not demand.round:
        return []  # never dispatched: nobody to tell
    if dispatched is None:
        dispatched = demand.dispatches.values_list("institution_id", flat=True)
    payload = {"demand_id": demand.pk, "from": before, "to": demand.state, "round": demand.round}
    return [(pk, "demand.status_changed", payload) for pk in sorted(set(dispatched))]
