"""Business rules for financing demands: input, publication and dispatch,
claims, offers, acceptance, outcomes, withdrawal, deadlines and feedback.

Every state change goes through `apply_transition` with the tables in
`workflows` (actor check, audit, notification in one transaction). Each
service that touches a demand locks the demand's row first and only then its
dispatches, always in that order, so concurrent requests queue instead of
deadlocking; the unique constraints on Dispatch and Offer are the backstop.

`_notify` is the one place a demand event becomes a timeline line and a
message (core.notify.send, which later also sends e-mail, SMS, webhooks).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import audit, notify
from chanrong.core.errors import Conflict, FieldError, NotAllowed, NotFound, ValidationFailed
from chanrong.core.money import AmountError, parse_amount
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.core.workdays import deadline_after
from chanrong.core.workflow import StateMachine, apply_transition
from chanrong.finance import eligibility as el
from chanrong.finance.models import (
    Branch,
    CollateralKind,
    FinancialInstitution,
    Product,
)
from chanrong.registry import services as registry_services
from chanrong.registry.models import DataAuthorisation, Enterprise, Project

from .. import ranking, workflows
from .. import signals as demand_signals
from ..models import (
    CLOSED_STATES,
    LIVE_DISPATCH_STATES,
    Demand,
    DemandEvent,
    DemandKind,
    DemandState,
    Dispatch,
    DispatchState,
    Feedback,
    Offer,
    Urgency,
)

MAX_AMOUNT = Decimal("1000000000000")  # 1 万亿元
MAX_TERM_MONTHS = 600
MAX_RATE = Decimal(36)
MAX_PREFERRED = 10
MAX_ID = 2**63 - 1
EDITABLE_FIELDS = (
    "kind",
    "amount_wan",
    "term_months",
    "purpose",
    "description",
    "rate_max",
    "collateral_offered",
    "urgency",
    "preferred_institution_ids",
    "share_profile",
    "project_id",
)


# --- settings --------------------------------------------------------------------


def exclusive_by_default() -> bool:
    return bool(getattr(settings, "CHANRONG_DEMAND_EXCLUSIVE", False))


def claim_workdays() -> int:
    return int(getattr(settings, "CHANRONG_CLAIM_WORKDAYS", 2))


def decide_workdays() -> int:
    return int(getattr(settings, "CHANRONG_DECIDE_WORKDAYS", 10))


# --- notification: the single entry point ------------------------------------------


def enterprise_users(demand: Demand) -> list:
    return list(demand.enterprise.users.filter(is_active=True).order_by("pk"))


def institution_users(institution_id: int, branch_id: int | None = None) -> list:
    """Who hears about a dispatch: the branch's staff, the institution's
    managers and head-office staff; everyone at the institution if that is nobody."""
    return institution_users_for([(institution_id, branch_id)])[(institution_id, branch_id)]


def institution_users_for(
    pairs: Iterable[tuple[int, int | None]],
) -> dict[tuple[int, int | None], list]:
    """`institution_users` for several (institution, branch) pairs in one query."""
    from chanrong.accounts.models import Role, User

    pairs = list(dict.fromkeys(pairs))
    everyone: dict[int, list] = {}
    if pairs:
        for user in User.objects.filter(
            institution_id__in={institution_id for institution_id, _branch in pairs},
            is_active=True,
        ).order_by("pk"):
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
    return reverse("demands:detail", args=[demand.pk])


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
    DemandEvent.objects.create(
        demand=demand,
        created_at=timezone.now(),
        actor_id=actor_id,
        actor_name=actor_name,
        verb=verb[:64],
        message=message[:500],
        institution_id=institution_id,
        private=private and institution_id is not None,
    )
    notify.send(recipients, verb, message, link if link is not None else demand_link(demand))


def _notify_each_institution(
    demand: Demand, verb: str, message: str, *, actor, recipients: dict[int, list]
) -> None:
    """`_notify` of one private message to each institution in `recipients`
    ({institution pk: users}), in one INSERT for the timeline and one for the inboxes."""
    if not recipients:
        return
    actor_id, actor_name, _organisation = audit.describe_actor(actor)
    now = timezone.now()
    DemandEvent.objects.bulk_create(
        [
            DemandEvent(
                demand=demand,
                created_at=now,
                actor_id=actor_id,
                actor_name=actor_name,
                verb=verb[:64],
                message=message[:500],
                institution_id=institution_id,
                private=True,
            )
            for institution_id in recipients
        ]
    )
    everyone = [user for users in recipients.values() for user in users]
    notify.send(everyone, verb, message, demand_link(demand))


@dataclass
class _Event:
    message: str
    recipients: Iterable = ()
    institution_id: int | None = None
    private: bool = False


def _move(
    machine: StateMachine, obj, name: str, actor, *, changes=None, event: _Event | None = None
):
    """apply_transition, with its notification written by `_notify`."""

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
    locked = apply_transition(machine, obj, name, actor, changes=changes, notify=notifier)
    if machine is workflows.DEMAND and locked.state != before:
        _emit_status_changed(locked, before)
    return locked


# --- webhooks ------------------------------------------------------------------------------


def _emit(institution_ids: Iterable[int], event: str, payload: dict[str, Any]) -> None:
    demand_signals.institution_events.send_in_transaction(
        events=[(pk, event, payload) for pk in sorted(set(institution_ids))]
    )


def _emit_status_changed(demand: Demand, before: str) -> None:
    """demand.status_changed to every institution the demand was dispatched to."""
    if not demand.round:
        return  # never dispatched: nobody to tell
    _emit(
        demand.dispatches.values_list("institution_id", flat=True),
        "demand.status_changed",
        {"demand_id": demand.pk, "from": before, "to": demand.state, "round": demand.round},
    )


# --- input -----------------------------------------------------------------------------


def _choice(value: Any) -> str:
    """A choice code from any input: anything that is not text becomes text,
    and is then refused as an unknown code."""
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else str(value)


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if value not in (None, "") else ""


def _amount(value: Any, field: str, errors: list[FieldError], *, required: bool) -> Decimal | None:
    """万元 by default; "800万", "1.2亿", "３５０万元" are understood (core.money)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors.append(FieldError(field, _("必填")))
        return None
    try:
        amount = parse_amount(value, default_unit="万元")
    except AmountError as exc:
        errors.append(FieldError(field, str(exc)))
        return None
    if amount is None or amount <= 0:
        errors.append(FieldError(field, _("金额应大于 0")))
        return None
    if amount > MAX_AMOUNT:
        errors.append(FieldError(field, _("金额过大（上限 1 万亿元）")))
        return None
    return amount


def _int(value: Any, field: str, errors: list[FieldError], low: int, high: int, message: str):
    if value is None or (isinstance(value, str) and not value.strip()):
        errors.append(FieldError(field, _("必填")))
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        number = Decimal(str(value).strip())
        if not number.is_finite() or number != number.to_integral_value():
            raise ValueError
        number = int(number)
    except (InvalidOperation, ValueError):
        errors.append(FieldError(field, _("应为整数")))
        return None
    if not low <= number <= high:
        errors.append(FieldError(field, message))
        return None
    return number


def _rate(value: Any, field: str, errors: list[FieldError]) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        rate = Decimal(str(value).strip().rstrip("%"))
        if not rate.is_finite():
            raise ValueError
    except (InvalidOperation, ValueError):
        errors.append(FieldError(field, _("应为数字（年利率，百分比）")))
        return None
    if not 0 <= rate <= MAX_RATE:
        errors.append(FieldError(field, _("年利率应在 0%–36% 之间")))
        return None
    return rate.quantize(Decimal("0.0001"))


def _code_list(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        items = value.replace("，", ",").split(",")
    elif isinstance(value, list | tuple | set | frozenset):
        items = list(value)
    else:
        items = [value]  # a lone number or flag: reported as an unknown code
    return list(dict.fromkeys(str(item).strip() for item in items if str(item).strip()))


def clean_demand_data(data: dict[str, Any], *, enterprise_id: int | None = None) -> dict[str, Any]:
    """Validate a complete demand input; raise ValidationFailed per bad field.
    A linked project must be one of `enterprise_id`'s own projects."""
    errors: list[FieldError] = []
    out: dict[str, Any] = {}
    kind = _choice(data.get("kind")) or ""
    if not kind:
        errors.append(FieldError("kind", _("必填")))
    elif kind not in DemandKind.values:
        errors.append(FieldError("kind", _("未知的融资类型：%(kind)s") % {"kind": kind}))
    out["kind"] = kind
    out["amount"] = _amount(data.get("amount_wan"), "amount_wan", errors, required=True)
    out["term_months"] = _int(
        data.get("term_months"), "term_months", errors, 1, MAX_TERM_MONTHS,
        _("期限应为 1–%(n)s 个月") % {"n": MAX_TERM_MONTHS},
    )  # fmt: skip
    purpose = _text(data.get("purpose"))
    if not purpose:
        errors.append(FieldError("purpose", _("必填")))
    elif not 2 <= len(purpose) <= 200:
        errors.append(FieldError("purpose", _("资金用途应为 2–200 个字符")))
    out["purpose"] = purpose
    description = str(data.get("description") or "").strip()
    if len(description) > 5000:
        errors.append(FieldError("description", _("补充说明最多 5000 个字符")))
    out["description"] = description
    out["rate_max"] = _rate(data.get("rate_max"), "rate_max", errors)
    collateral = _code_list(data.get("collateral_offered"))
    bad = [c for c in collateral if c not in CollateralKind.values]
    if bad:
        errors.append(
            FieldError("collateral_offered", _("未知的抵质押物类型：%(c)s") % {"c": "、".join(bad)})
        )
    out["collateral_offered"] = collateral
    urgency = _choice(data.get("urgency")) or Urgency.NORMAL
    if urgency not in Urgency.values:
        errors.append(FieldError("urgency", _("未知的紧急程度：%(u)s") % {"u": urgency}))
    out["urgency"] = urgency
    preferred_raw = _code_list(data.get("preferred_institution_ids"))
    preferred: list[int] = []
    for item in preferred_raw:
        try:
            number = int(item)
            if not 0 < number <= MAX_ID:
                raise ValueError
            preferred.append(number)
        except (TypeError, ValueError):
            errors.append(FieldError("preferred_institution_ids", _("应为金融机构编号")))
            break
    if len(preferred) > MAX_PREFERRED:
        errors.append(
            FieldError(
                "preferred_institution_ids", _("意向机构最多 %(n)s 家") % {"n": MAX_PREFERRED}
            )
        )
    elif preferred:
        found = set(
            FinancialInstitution.objects.filter(pk__in=preferred).values_list("pk", flat=True)
        )
        missing = [str(p) for p in preferred if p not in found]
        if missing:
            errors.append(
                FieldError(
                    "preferred_institution_ids",
                    _("金融机构不存在：%(ids)s") % {"ids": "、".join(missing)},
                )
            )
    out["preferred_institution_ids"] = preferred
    out["project_id"] = _project(data.get("project_id"), enterprise_id, errors)
    out["share_profile"] = bool(data.get("share_profile"))
    if errors:
        raise ValidationFailed(errors)
    return out


def _project(value: Any, enterprise_id: int | None, errors: list[FieldError]) -> int | None:
    if value in (None, ""):
        return None
    try:
        pk = int(value)
        if not 0 < pk <= MAX_ID:
            raise ValueError
    except (TypeError, ValueError):
        errors.append(FieldError("project_id", _("应为项目编号")))
        return None
    if not Project.objects.filter(pk=pk, owner_id=enterprise_id).exists():
        errors.append(FieldError("project_id", _("项目不存在，或不是本企业的项目")))
        return None
    return pk


def demand_input(demand: Demand) -> dict[str, Any]:
    return {
        "kind": demand.kind,
        "amount_wan": demand.amount / Decimal(10000),
        "term_months": demand.term_months,
        "purpose": demand.purpose,
        "description": demand.description,
        "rate_max": demand.rate_max,
        "collateral_offered": list(demand.collateral_offered or []),
        "urgency": demand.urgency,
        "preferred_institution_ids": sorted(
            demand.preferred_institutions.values_list("pk", flat=True)
        ),
        "share_profile": demand.share_profile,
        "project_id": demand.project_id,
    }


def _snapshot(demand: Demand) -> dict[str, Any]:
    values = demand_input(demand)
    values["amount"] = demand.amount
    values.pop("amount_wan")
    values["state"] = demand.state
    return values


# --- visibility helpers -----------------------------------------------------------------


def _valid_pk(pk: int) -> bool:
    return isinstance(pk, int) and 0 < pk <= MAX_ID


def get_visible_demand(actor, pk: int) -> Demand:
    demand = (
        Demand.objects.visible_to(actor)
        .select_related("enterprise__region__parent__parent", "enterprise__industry")
        .filter(pk=pk)
        .first()
        if _valid_pk(pk)
        else None
    )
    if demand is None:
        raise NotFound(_("融资需求不存在"))
    return demand


def get_visible_dispatch(actor, pk: int) -> Dispatch:
    dispatch = (
        Dispatch.objects.visible_to(actor)
        .select_related("demand__enterprise", "institution", "branch")
        .filter(pk=pk)
        .first()
        if _valid_pk(pk)
        else None
    )
    if dispatch is None:
        raise NotFound(_("派单不存在"))
    return dispatch


def get_visible_offer(actor, pk: int) -> Offer:
    offer = (
        Offer.objects.visible_to(actor)
        .select_related("dispatch", "demand", "institution")
        .filter(pk=pk)
        .first()
        if _valid_pk(pk)
        else None
    )
    if offer is None:
        raise NotFound(_("融资方案不存在"))
    return offer


def can_create_demand(actor) -> bool:
    return scope_of(actor).kind == ScopeKind.ENTERPRISE


# --- create / edit -----------------------------------------------------------------------


def create_demand(actor, data: dict[str, Any]) -> Demand:
    if not can_create_demand(actor):
        raise NotAllowed(_("只有企业用户可以发布融资需求"))
    values = clean_demand_data(data, enterprise_id=actor.enterprise_id)
    preferred = values.pop("preferred_institution_ids")
    # The enterprise with its region chain (the audit text and the API answer
    # name them): one query instead of four.
    enterprise = Enterprise.objects.select_related("region__parent__parent", "industry").get(
        pk=actor.enterprise_id
    )
    with transaction.atomic():
        demand = Demand(enterprise=enterprise, created_by=actor, **values)
        demand.save()
        if preferred:
            demand.preferred_institutions.set(preferred)
        audit.record(
            "demand.create", actor=actor, obj=demand, changes=audit.diff({}, _snapshot(demand))
        )
        demand_signals.demands_changed.send_after_commit([demand.pk])
        _notify(demand, "demand.create", _("企业创建了融资需求（草稿）"), actor=actor)
    return demand


def update_demand(actor, demand: Demand, data: dict[str, Any]) -> Demand:
    """Edit a draft. Partial input is merged with the current values and
    the whole is validated."""
    if not workflows.is_owner(actor, demand):
        raise NotAllowed(_("无权修改该融资需求"))
    with transaction.atomic():
        locked = Demand.objects.select_for_update().get(pk=demand.pk)
        if locked.state != DemandState.DRAFT:
            raise Conflict(
                _("需求当前为「%(state)s」，只有草稿可以修改")
                % {"state": locked.get_state_display()},
                code="invalid_state",
            )
        unknown = sorted(set(data) - set(EDITABLE_FIELDS))
        if unknown:
            raise ValidationFailed({key: _("不允许的字段") for key in unknown})
        values = clean_demand_data(
            {**demand_input(locked), **data}, enterprise_id=locked.enterprise_id
        )
        preferred = values.pop("preferred_institution_ids")
        before = _snapshot(locked)
        for key, value in values.items():
            setattr(locked, key, value)
        locked.save()
        locked.preferred_institutions.set(preferred)
        demand_signals.demands_changed.send_after_commit([locked.pk])
        changes = audit.diff(before, _snapshot(locked))
        if changes:
            audit.record("demand.update", actor=actor, obj=locked, changes=changes)
    return locked


def demand_facts(demand: Demand) -> el.DemandFacts:
    return el.DemandFacts(
        kind=demand.kind,
        amount=demand.amount,
        term_months=demand.term_months,
        rate_max=demand.rate_max,
        collateral_offered=tuple(demand.collateral_offered or ()),
    )


# --- dispatch ---------------------------------------------------------------------------


def qualifying_institutions(demand: Demand, *, today: date | None = None) -> dict[int, list[int]]:
    """{institution pk: [product pks, best first]}, institutions best first:
    the published products this demand can qualify for, ranked by the
    matching engine (issue #5). Unknown enterprise facts do not exclude (the
    institution asks for them); only a condition known to fail does."""
    return ranking.dispatch_targets(demand, today=today)


def _region_prefixes(region) -> list[str]:
    """The prefixes of the region and of each region above it, nearest first."""
    if region is None:
        return []
    return list(_prefixes_of_code(region.code))


@lru_cache(maxsize=4096)
def _prefixes_of_code(code: str) -> tuple[str, ...]:
    # Reference data (GB/T 2260): the tree does not change while a process
    # runs, so each county's chain is read once per process, not per dispatch.
    from chanrong.core.models import Region

    prefixes = []
    node = Region.objects.filter(code=code).first()
    while node is not None:
        prefixes.append(node.prefix)
        node = node.parent if node.parent_id and node.parent_id != node.code else None
    return tuple(prefixes)


def _closest_branch(branches: list[Branch], prefixes: list[str]) -> Branch | None:
    for prefix in prefixes:
        here = [b for b in branches if b.region_id.startswith(prefix)]
        if here:
            here.sort(
                key=lambda b: (
                    b.parent is not None and b.parent.region_id.startswith(prefix),
                    b.pk,
                )
            )
            return here[0]
    return None


def choose_branch(institution_id: int, region) -> Branch | None:
    """The institution's branch closest to the enterprise: in its county,
    else its city, else its province; the top office there (a 营业部 before
    the town branches under it). None: the head office handles it."""
    return choose_branches([institution_id], region)[institution_id]


def choose_branches(institution_ids: Iterable[int], region) -> dict[int, Branch | None]:
    """`choose_branch` for several institutions in one query."""
    ids = list(dict.fromkeys(institution_ids))
    prefixes = _region_prefixes(region)
    if not prefixes or not ids:
        return dict.fromkeys(ids)
    by_institution: dict[int, list[Branch]] = {pk: [] for pk in ids}
    for branch in (
        Branch.objects.filter(institution_id__in=ids, region__code__startswith=prefixes[-1])
        .select_related("parent")
        .order_by("pk")
    ):
        by_institution[branch.institution_id].append(branch)
    return {pk: _closest_branch(by_institution[pk], prefixes) for pk in ids}


def _targets(demand: Demand) -> dict[int, tuple[list[int], bool]]:
    """{institution pk: (matched product pks, preferred?)}."""
    matched = qualifying_institutions(demand)
    preferred = set(demand.preferred_institutions.values_list("pk", flat=True))
    targets = {pk: (products, pk in preferred) for pk, products in matched.items()}
    for pk in sorted(preferred - set(matched)):
        targets[pk] = ([], True)
    return targets


def _deadlines(now: datetime) -> datetime:
    return deadline_after(timezone.localtime(now), claim_workdays())


def _send_dispatches(actor, demand: Demand, now: datetime) -> list[Dispatch]:
    """Create or revive the dispatches of a new round (demand row locked by
    caller). New dispatches, their audit entries, timeline events, inbox
    messages and webhook deliveries are written in one INSERT each."""
    targets = _targets(demand)
    existing = {d.institution_id: d for d in demand.dispatches.select_for_update().order_by("pk")}
    claim_due = _deadlines(now)
    fresh = [pk for pk in sorted(targets) if pk not in existing]
    institutions = FinancialInstitution.objects.in_bulk(fresh)
    branches = choose_branches(fresh, demand.enterprise.region)
    created = Dispatch.objects.bulk_create(
        [
            Dispatch(
                demand=demand,
                institution=institutions[pk],
                branch=branches[pk],
                exclusive=demand.exclusive,
                round=demand.round,
                matched_products=targets[pk][0],
                preferred=targets[pk][1],
                dispatched_at=now,
                claim_due_at=claim_due,
            )
            for pk in fresh
            if pk in institutions
        ]
    )
    who = audit.describe_actor(actor)
    audit.record_many(
        audit.entry(
            "dispatch.create",
            actor_info=who,
            obj=dispatch,
            changes={
                "institution": dispatch.institution_id,
                "branch": dispatch.branch_id,
                "round": demand.round,
            },
        )
        for dispatch in created
    )
    by_institution = {dispatch.institution_id: dispatch for dispatch in created}
    sent: list[Dispatch] = []
    for institution_id in sorted(targets):
        dispatch = by_institution.get(institution_id) or existing.get(institution_id)
        if dispatch is None:
            continue  # no such institution
        if institution_id in existing:
            if dispatch.state not in (DispatchState.EXPIRED, DispatchState.CANCELLED):
                continue  # declined, or still working on it
            dispatch = _move(
                workflows.DISPATCH, dispatch, "redispatch", actor,
                changes={
                    "round": demand.round, "exclusive": demand.exclusive,
                    "matched_products": targets[institution_id][0], "dispatched_at": now,
                    "claim_due_at": claim_due, "claimed_at": None, "claimed_by_id": None,
                    "decide_due_at": None,
                },
            )  # fmt: skip
        sent.append(dispatch)
    users = institution_users_for((d.institution_id, d.branch_id) for d in sent)
    _notify_each_institution(
        demand,
        "dispatch.new",
        _("新的融资需求已派给贵机构，请于 %(due)s 前接单")
        % {"due": timezone.localtime(claim_due).strftime("%Y-%m-%d %H:%M")},
        actor=actor,
        recipients={d.institution_id: users[(d.institution_id, d.branch_id)] for d in sent},
    )
    demand_signals.institution_events.send_in_transaction(
        events=[
            (
                dispatch.institution_id,
                "dispatch.created",
                {
                    "dispatch_id": dispatch.pk,
                    "demand_id": demand.pk,
                    "round": demand.round,
                    "claim_due_at": claim_due,
                    "amount": demand.amount,
                    "kind": demand.kind,
                },
            )
            for dispatch in sent
        ]
    )
    if demand.share_profile and workflows.is_owner(actor, demand):
        registry_services.authorise_institutions(
            actor, demand.enterprise, [dispatch.institution for dispatch in sent]
        )
    return sent


_REFRESHED_FIELDS = [
    f.attname for f in Demand._meta.concrete_fields if f.attname not in ("id", "enterprise_id")
]


def publish_demand(actor, demand: Demand) -> Demand:
    """三个第一: publish, and dispatch at once to every institution whose
    products the demand can qualify for, plus the enterprise's preferred ones."""
    with transaction.atomic():
        locked = Demand.objects.select_for_update().get(pk=demand.pk)
        now = timezone.now()
        owners = enterprise_users(locked)
        locked = _move(
            workflows.DEMAND, locked, "publish", actor,
            changes={"published_at": now, "exclusive": exclusive_by_default()},
            event=_Event(_("企业发布了融资需求"), owners),
        )  # fmt: skip
        _dispatch_round(actor, locked, "dispatch", now, owners=owners)
        demand_signals.demands_changed.send_after_commit([locked.pk])
    # Everything may have changed but the enterprise: keep it (and its region) loaded.
    demand.refresh_from_db(fields=_REFRESHED_FIELDS)
    return demand


def _dispatch_round(
    actor, demand: Demand, name: str, now: datetime, *, owners: list | None = None
) -> bool:
    demand.round += 1
    Demand.objects.filter(pk=demand.pk).update(round=demand.round)
    sent = _send_dispatches(actor, demand, now)
    if owners is None:
        owners = enterprise_users(demand)
    if not sent:
        _notify(
            demand,
            "demand.no_target",
            _("暂无符合条件的金融机构，需求保持已发布状态，待重新派单"),
            actor=actor,
            recipients=owners,
        )
        return False
    # Public to every dispatched institution, so it does not name the others.
    _move(
        workflows.DEMAND, demand, name, actor,
        event=_Event(_("已派单给 %(n)s 家金融机构") % {"n": len(sent)}, owners),
    )  # fmt: skip
    return True


def redispatch_demand(actor, demand: Demand) -> Demand:
    """超时 → 重新派单 (or a published demand that found nobody the first
    time): revive the dispatches that expired or were cancelled and add any
    institution that now qualifies. Institutions that declined are not asked again."""
    with transaction.atomic():
        locked = Demand.objects.select_for_update().get(pk=demand.pk)
        transition = workflows.DEMAND.transitions["redispatch"]
        if locked.state not in transition.source:
            raise Conflict(
                _("当前状态为「%(state)s」，不能重新派单") % {"state": locked.get_state_display()},
                code="invalid_transition",
            )
        if not transition.allowed(actor, locked):
            raise NotAllowed(_("无权重新派单"))
        if not _dispatch_round(actor, locked, "redispatch", timezone.now()):
            raise Conflict(_("没有可以派单的金融机构"), code="no_target")
    demand.refresh_from_db()
    return demand


# --- institutions: claim, decline, offer, outcome ------------------------------------------


def _lock(dispatch: Dispatch) -> tuple[Demand, Dispatch]:
    demand = Demand.objects.select_for_update().get(pk=dispatch.demand_id)
    locked = Dispatch.objects.select_for_update().select_related("institution").get(pk=dispatch.pk)
    return demand, locked


def _require_owner(actor, dispatch: Dispatch, what: str) -> None:
    if not workflows.owns_dispatch(actor, dispatch):
        raise NotAllowed(_("无权%(what)s：该派单不属于贵机构") % {"what": what})


def claim_dispatch(actor, dispatch: Dispatch) -> Dispatch:
    """接单. On an exclusive demand the first claim wins and the other
    dispatches are cancelled; otherwise several institutions may claim."""
    _require_owner(actor, dispatch, _("接单"))
    try:
        with transaction.atomic():
            demand, locked = _lock(dispatch)
            if demand.state not in (
                DemandState.DISPATCHED,
                DemandState.CLAIMED,
                DemandState.NEGOTIATING,
            ):
                raise Conflict(
                    _("需求当前为「%(state)s」，不能接单") % {"state": demand.get_state_display()},
                    code="invalid_transition",
                )
            if demand.exclusive and demand.state != DemandState.DISPATCHED:
                raise Conflict(_("该需求为独家接单，已由其他机构接单"), code="already_claimed")
            now = timezone.now()
            name = str(locked.institution)
            locked = _move(
                workflows.DISPATCH, locked, "claim", actor,
                changes={
                    "claimed_at": now, "claimed_by_id": actor.pk,
                    "decide_due_at": deadline_after(timezone.localtime(now), decide_workdays()),
                },
                event=_Event(
                    _("%(name)s 已接单") % {"name": name},
                    enterprise_users(demand),
                    institution_id=locked.institution_id,
                ),
            )  # fmt: skip
            if demand.state == DemandState.DISPATCHED:
                _move(workflows.DEMAND, demand, "claim", actor)
            if demand.exclusive:
                for other in (
                    demand.dispatches.select_for_update()
                    .exclude(pk=locked.pk)
                    .filter(state__in=LIVE_DISPATCH_STATES)
                    .order_by("pk")
                ):
                    _move(
                        workflows.DISPATCH, other, "cancel", actor,
                        event=_Event(
                            _("该需求已由其他机构独家接单，派单取消"),
                            institution_users(other.institution_id, other.branch_id),
                            institution_id=other.institution_id,
                            private=True,
                        ),
                    )  # fmt: skip
    except IntegrityError:
        raise Conflict(_("该需求为独家接单，已由其他机构接单"), code="already_claimed") from None
    return locked


def decline_dispatch(actor, dispatch: Dispatch, reason: str) -> Dispatch:
    _require_owner(actor, dispatch, _("谢绝"))
    reason = _text(reason)
    if not reason:
        raise ValidationFailed({"reason": _("请填写谢绝原因")})
    if len(reason) > 500:
        raise ValidationFailed({"reason": _("最多 500 个字符")})
    with transaction.atomic():
        demand, locked = _lock(dispatch)
        locked = _move(
            workflows.DISPATCH, locked, "decline", actor,
            changes={"decline_reason": reason, "decided_at": timezone.now()},
            event=_Event(
                _("%(name)s 谢绝了该需求：%(reason)s") % {"name": locked.institution, "reason": reason},
                enterprise_users(demand),
                institution_id=locked.institution_id,
            ),
        )  # fmt: skip
        _settle(demand, actor, _("已派单机构均已谢绝或超时"))
    return locked


def clean_offer_data(data: dict[str, Any], *, institution_id: int) -> dict[str, Any]:
    errors: list[FieldError] = []
    out: dict[str, Any] = {}
    out["amount"] = _amount(data.get("amount_wan"), "amount_wan", errors, required=True)
    rate = _rate(data.get("rate"), "rate", errors)
    out["rate"] = rate
    out["term_months"] = _int(
        data.get("term_months"), "term_months", errors, 1, MAX_TERM_MONTHS,
        _("期限应为 1–%(n)s 个月") % {"n": MAX_TERM_MONTHS},
    )  # fmt: skip
    terms = str(data.get("terms") or "").strip()
    if len(terms) > 5000:
        errors.append(FieldError("terms", _("方案说明最多 5000 个字符")))
    out["terms"] = terms
    product_id = data.get("product_id")
    out["product"] = None
    if product_id not in (None, ""):
        try:
            number = int(product_id)
            if not _valid_pk(number):
                raise ValueError
        except (TypeError, ValueError):
            errors.append(FieldError("product_id", _("应为产品编号")))
        else:
            product = Product.objects.filter(pk=number, institution_id=institution_id).first()
            if product is None:
                errors.append(FieldError("product_id", _("产品须为贵机构的产品")))
            out["product"] = product
    if errors:
        raise ValidationFailed(errors)
    return out


def make_offer(actor, dispatch: Dispatch, data: dict[str, Any]) -> Offer:
    """Submit (or, until the enterprise decides, revise) this institution's offer."""
    _require_owner(actor, dispatch, _("提交融资方案"))
    values = clean_offer_data(data, institution_id=dispatch.institution_id)
    with transaction.atomic():
        demand, locked = _lock(dispatch)
        now = timezone.now()
        offer = Offer.objects.filter(dispatch=locked).first()
        revising = locked.state == DispatchState.OFFERED
        if offer is None:
            offer = Offer(
                dispatch=locked, demand=demand, institution_id=locked.institution_id,
                created_by=actor, created_at=now, **values,
            )  # fmt: skip
        else:
            for key, value in values.items():
                setattr(offer, key, value)
        message = _("%(name)s %(what)s：%(amount)s，%(term)s 个月%(rate)s") % {
            "name": locked.institution,
            "what": _("修改了融资方案") if revising else _("提交了融资方案"),
            "amount": el.wan(values["amount"]),
            "term": values["term_months"],
            "rate": _("，年利率 %(r)s") % {"r": el.percent(values["rate"])}
            if values["rate"] is not None
            else "",
        }
        locked = _move(
            workflows.DISPATCH, locked, "revise" if revising else "offer", actor,
            changes={"decided_at": now},
            event=_Event(message, enterprise_users(demand), institution_id=locked.institution_id),
        )  # fmt: skip
        offer.save()
        audit.record(
            "offer.revise" if revising else "offer.create",
            actor=actor,
            obj=offer,
            changes={
                "amount": str(offer.amount),
                "rate": None if offer.rate is None else str(offer.rate),
                "term_months": offer.term_months,
            },
        )
        if demand.state == DemandState.CLAIMED:
            _move(workflows.DEMAND, demand, "offer", actor)
    return offer


def accept_offer(actor, offer: Offer) -> Offer:
    """The enterprise takes one offer; the others are set aside. Exactly one
    acceptance per demand, however many arrive at once."""
    if not workflows.is_owner(actor, offer.demand):
        raise NotAllowed(_("只有发布需求的企业可以采纳融资方案"))
    try:
        with transaction.atomic():
            demand = Demand.objects.select_for_update().get(pk=offer.demand_id)
            if demand.accepted_offer_id is not None:
                raise Conflict(_("该需求已采纳了一个融资方案"), code="already_accepted")
            if demand.state != DemandState.NEGOTIATING:
                raise Conflict(
                    _("需求当前为「%(state)s」，不能采纳融资方案")
                    % {"state": demand.get_state_display()},
                    code="invalid_transition",
                )
            locked_offer = Offer.objects.select_for_update().get(pk=offer.pk)
            dispatch = Dispatch.objects.select_for_update().get(pk=locked_offer.dispatch_id)
            now = timezone.now()
            _move(
                workflows.DISPATCH, dispatch, "accept", actor,
                event=_Event(
                    _("企业采纳了贵机构的融资方案"),
                    institution_users(dispatch.institution_id, dispatch.branch_id),
                    institution_id=dispatch.institution_id,
                    private=True,
                ),
            )  # fmt: skip
            locked_offer.accepted_at = now
            locked_offer.save(update_fields=["accepted_at", "updated_at"])
            _emit(
                [dispatch.institution_id],
                "offer.accepted",
                {"offer_id": locked_offer.pk, "dispatch_id": dispatch.pk, "demand_id": demand.pk},
            )
            _move(
                workflows.DEMAND, demand, "accept", actor,
                changes={
                    "accepted_offer_id": locked_offer.pk,
                    "outcome_institution_id": dispatch.institution_id,
                },
                event=_Event(
                    _("企业采纳了 %(name)s 的融资方案") % {"name": locked_offer.institution},
                    enterprise_users(demand),
                    institution_id=dispatch.institution_id,
                ),
            )  # fmt: skip
            others = demand.dispatches.select_for_update().exclude(pk=dispatch.pk).order_by("pk")
            for other in others:
                if other.state == DispatchState.OFFERED:
                    name, message = (
                        "set_aside",
                        _("企业已采纳其他机构的融资方案，贵机构方案未被采纳"),
                    )
                elif other.state in LIVE_DISPATCH_STATES:
                    name, message = "cancel", _("企业已采纳其他机构的融资方案，派单结束")
                else:
                    continue
                _move(
                    workflows.DISPATCH, other, name, actor,
                    event=_Event(
                        message,
                        institution_users(other.institution_id, other.branch_id),
                        institution_id=other.institution_id,
                        private=True,
                    ),
                )  # fmt: skip
    except IntegrityError:
        raise Conflict(_("该需求已采纳了一个融资方案"), code="already_accepted") from None
    return locked_offer


OUTCOMES = ("granted", "disbursed", "rejected")


def clean_result_data(outcome: str, data: dict[str, Any], demand: Demand) -> dict[str, Any]:
    errors: list[FieldError] = []
    out: dict[str, Any] = {}
    if outcome not in OUTCOMES:
        raise ValidationFailed(
            {"outcome": _("应为 granted（已授信）、disbursed（已放款）或 rejected（未获批）")}
        )
    if outcome == "rejected":
        reason = _text(data.get("reason"))
        if not reason:
            errors.append(FieldError("reason", _("请填写未获批原因")))
        elif len(reason) > 500:
            errors.append(FieldError("reason", _("最多 500 个字符")))
        out["reason"] = reason
    else:
        out["amount"] = _amount(
            data.get("amount_wan"), "amount_wan", errors, required=outcome == "disbursed"
        )
    if outcome == "disbursed":
        out["rate"] = _rate(data.get("rate"), "rate", errors)
        if out["rate"] is None and not any(e.field == "rate" for e in errors):
            errors.append(FieldError("rate", _("必填")))
        out["term_months"] = _int(
            data.get("term_months"), "term_months", errors, 1, MAX_TERM_MONTHS,
            _("期限应为 1–%(n)s 个月") % {"n": MAX_TERM_MONTHS},
        )  # fmt: skip
        on = data.get("disbursed_on")
        if on in (None, ""):
            errors.append(FieldError("disbursed_on", _("必填")))
        else:
            try:
                day = on if isinstance(on, date) else date.fromisoformat(str(on).strip())
            except ValueError:
                errors.append(FieldError("disbursed_on", _("应为日期，如 2026-05-20")))
            else:
                published = (
                    timezone.localtime(demand.published_at).date() if demand.published_at else None
                )
                if day > timezone.localdate():
                    errors.append(FieldError("disbursed_on", _("放款日期不能晚于今天")))
                elif published and day < published:
                    errors.append(FieldError("disbursed_on", _("放款日期不能早于需求发布日期")))
                out["disbursed_on"] = day
    if errors:
        raise ValidationFailed(errors)
    return out


def record_result(actor, dispatch: Dispatch, outcome: str, data: dict[str, Any]) -> Demand:
    """第一时间反馈结果: the institution whose offer was accepted reports
    授信 (granted), 放款 (disbursed: amount, rate, term, date) or 未获批 (reason).
    Reporting 放款 straight after acceptance records 授信 first."""
    _require_owner(actor, dispatch, _("反馈结果"))
    with transaction.atomic():
        demand, locked = _lock(dispatch)
        values = clean_result_data(outcome, data, demand)
        offer = Offer.objects.filter(dispatch=locked).first()
        if outcome == "rejected":
            _move(
                workflows.DISPATCH, locked, "reject", actor, changes={"decided_at": timezone.now()}
            )
            _move(
                workflows.DEMAND, demand, "reject", actor,
                changes={"rejection_reason": values["reason"], "closed_at": timezone.now()},
                event=_Event(
                    _("%(name)s 反馈：未获批。原因：%(reason)s")
                    % {"name": locked.institution, "reason": values["reason"]},
                    enterprise_users(demand),
                    institution_id=locked.institution_id,
                ),
            )  # fmt: skip
            return demand
        if locked.state == DispatchState.ACCEPTED:
            # Reported straight as 放款: the credit granted is the accepted offer's amount.
            granted = (values.get("amount") if outcome == "granted" else None) or (
                offer.amount if offer else values.get("amount")
            )
            _move(workflows.DISPATCH, locked, "grant", actor)
            _move(
                workflows.DEMAND, demand, "grant", actor,
                changes={"granted_amount": granted},
                event=_Event(
                    _("%(name)s 反馈：已授信 %(amount)s")
                    % {"name": locked.institution, "amount": el.wan(granted) if granted else "—"},
                    enterprise_users(demand),
                    institution_id=locked.institution_id,
                ),
            )  # fmt: skip
            if outcome == "granted":
                return demand
        elif outcome == "granted":
            raise Conflict(
                _("派单当前为「%(state)s」，不能反馈授信") % {"state": locked.get_state_display()},
                code="invalid_transition",
            )
        _move(workflows.DISPATCH, locked, "disburse", actor)
        _move(
            workflows.DEMAND, demand, "disburse", actor,
            changes={
                "disbursed_amount": values["amount"], "disbursed_rate": values["rate"],
                "disbursed_term_months": values["term_months"],
                "disbursed_on": values["disbursed_on"], "closed_at": timezone.now(),
            },
            event=_Event(
                _("%(name)s 反馈：已放款 %(amount)s，年利率 %(rate)s，期限 %(term)s 个月，放款日期 %(on)s")
                % {
                    "name": locked.institution, "amount": el.wan(values["amount"]),
                    "rate": el.percent(values["rate"]), "term": values["term_months"],
                    "on": values["disbursed_on"].isoformat(),
                },
                enterprise_users(demand),
                institution_id=locked.institution_id,
            ),
        )  # fmt: skip
        _record_financing(demand, locked, actor)
    return demand


def _record_financing(demand: Demand, dispatch: Dispatch, actor) -> None:
    """已放款 feeds the indicator system's fact table (insights.FinancingRecord)
    in the same transaction; `source_ref` keeps it counted once."""
    enterprise = demand.enterprise
    demand_signals.financing_disbursed.send_in_transaction(
        region=enterprise.region,
        institution=dispatch.institution,
        amount=demand.disbursed_amount,
        on=demand.disbursed_on,
        industry=enterprise.industry,
        enterprise=enterprise,
        source_ref=f"demand:{demand.pk}",
        actor=actor,
    )


# --- enterprise: withdraw, authorise, feedback ------------------------------------------------


def withdraw_demand(actor, demand: Demand, reason: str = "") -> Demand:
    reason = _text(reason)
    if len(reason) > 500:
        raise ValidationFailed({"reason": _("最多 500 个字符")})
    with transaction.atomic():
        locked = Demand.objects.select_for_update().get(pk=demand.pk)
        _move(
            workflows.DEMAND, locked, "withdraw", actor,
            changes={"withdraw_reason": reason, "closed_at": timezone.now()},
            event=_Event(
                _("企业撤回了融资需求") + (_("：%(r)s") % {"r": reason} if reason else ""),
                enterprise_users(locked),
            ),
        )  # fmt: skip
        for other in (
            locked.dispatches.select_for_update()
            .filter(state__in=LIVE_DISPATCH_STATES)
            .order_by("pk")
        ):
            _move(
                workflows.DISPATCH, other, "cancel", actor,
                event=_Event(
                    _("企业已撤回该融资需求，派单取消"),
                    institution_users(other.institution_id, other.branch_id),
                    institution_id=other.institution_id,
                    private=True,
                ),
            )  # fmt: skip
    demand.refresh_from_db()
    return demand


def authorise_institution(
    actor, demand: Demand, institution: FinancialInstitution
) -> DataAuthorisation:
    """Let an institution see the enterprise's profile (registry's rule and record)."""
    if not workflows.is_owner(actor, demand):
        raise NotAllowed(_("只有企业本身可以授权"))
    with transaction.atomic():
        grant = registry_services.authorise_institution(actor, demand.enterprise, institution)
        _notify(
            demand, "demand.authorise",
            _("企业已授权 %(name)s 查看企业信息") % {"name": institution},
            actor=actor, recipients=institution_users(institution.pk),
            institution_id=institution.pk,
        )  # fmt: skip
    return grant


def revoke_institution(actor, demand: Demand, institution: FinancialInstitution) -> None:
    if not workflows.is_owner(actor, demand):
        raise NotAllowed(_("只有企业本身可以撤销授权"))
    grant = DataAuthorisation.objects.filter(
        enterprise_id=demand.enterprise_id, institution=institution, revoked_at__isnull=True
    ).first()
    if grant is None:
        return
    with transaction.atomic():
        registry_services.revoke_authorisation(actor, grant)
        _notify(
            demand, "demand.revoke",
            _("企业已撤销 %(name)s 查看企业信息的授权") % {"name": institution},
            actor=actor, recipients=institution_users(institution.pk),
            institution_id=institution.pk,
        )  # fmt: skip


def authorised_institution_ids(demand: Demand) -> set[int]:
    return set(
        DataAuthorisation.objects.filter(
            enterprise_id=demand.enterprise_id, revoked_at__isnull=True
        ).values_list("institution_id", flat=True)
    )


def feedback_institutions(demand: Demand) -> list[FinancialInstitution]:
    """Institutions the enterprise may still rate on this demand."""
    if demand.state not in CLOSED_STATES:
        return []
    rated = set(demand.feedback.values_list("institution_id", flat=True))
    dispatched = (
        FinancialInstitution.objects.filter(dispatches__demand=demand)
        .exclude(pk__in=rated)
        .distinct()
        .order_by("name", "pk")
    )
    return list(dispatched)


def leave_feedback(
    actor, demand: Demand, institution_id: Any, score: Any, comment: str = ""
) -> Feedback:
    """Once per demand and institution, after the demand has closed."""
    if not workflows.is_owner(actor, demand):
        raise NotAllowed(_("只有发布需求的企业可以评价"))
    errors: list[FieldError] = []
    value = _int(score, "score", errors, 1, 5, _("评分应为 1–5 的整数"))
    comment = str(comment or "").strip()
    if len(comment) > 500:
        errors.append(FieldError("comment", _("最多 500 个字符")))
    try:
        institution_pk = int(institution_id)
        if not _valid_pk(institution_pk):
            raise ValueError
    except (TypeError, ValueError):
        errors.append(FieldError("institution_id", _("应为金融机构编号")))
        institution_pk = None
    if errors:
        raise ValidationFailed(errors)
    if demand.state not in CLOSED_STATES:
        raise Conflict(_("需求结束（已放款、未获批或撤回）后才能评价"), code="not_closed")
    if not Dispatch.objects.filter(demand=demand, institution_id=institution_pk).exists():
        raise ValidationFailed({"institution_id": _("该机构未受理本需求")})
    try:
        with transaction.atomic():
            feedback = Feedback.objects.create(
                demand=demand, institution_id=institution_pk, enterprise_id=demand.enterprise_id,
                score=value, comment=comment, created_by=actor, created_at=timezone.now(),
            )  # fmt: skip
            audit.record(
                "feedback.create", actor=actor, obj=feedback,
                changes={"institution": institution_pk, "score": value, "comment": comment},
            )  # fmt: skip
            _notify(
                demand, "feedback.create",
                _("企业对 %(name)s 的服务评分：%(score)s 分") % {"name": feedback.institution, "score": value},
                actor=actor, recipients=institution_users(institution_pk),
                institution_id=institution_pk,
            )  # fmt: skip
    except IntegrityError:
        raise Conflict(_("已评价过该机构在本需求中的服务"), code="already_rated") from None
    return feedback


@dataclass(frozen=True)
class Rating:
    average: Decimal | None
    count: int


def ratings(institution_ids: Iterable[int]) -> dict[int, Rating]:
    """Average score and number of ratings per institution (for pages and statistics)."""
    ids = list(institution_ids)
    rows = (
        Feedback.objects.filter(institution_id__in=ids)
        .values("institution_id")
        .annotate(avg=Avg("score"), n=Count("pk"))
    )
    found = {
        row["institution_id"]: Rating(Decimal(str(row["avg"])).quantize(Decimal("0.1")), row["n"])
        for row in rows
    }
    return {pk: found.get(pk, Rating(None, 0)) for pk in ids}


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
