"""Dispatch (派单): publishing a demand sends it at once to every
institution whose products it can qualify for, ranked by whoever registered
as the dispatch ranker (`ranking.dispatch_targets`, the matching app), plus
the enterprise's preferred institutions; each goes to the branch closest to
the enterprise, with a claim deadline in working days. A demand that found
nobody, or whose dispatches all ended, is sent round again by
`redispatch_demand`. The demand row is locked before its dispatches.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from functools import lru_cache

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import audit, bulkinsert
from chanrong.core.errors import Conflict, NotAllowed
from chanrong.core.lookups import KeyLookup, PlannedQuery
from chanrong.core.workdays import deadline_after
from chanrong.finance.models import Branch, FinancialInstitution
from chanrong.registry import services as registry_services

from .. import ranking, workflows
from .. import signals as demand_signals
from ..models import Demand, Dispatch, DispatchState
from .common import (
    _Event,
    _move,
    _notify,
    _notify_each_institution,
    _send_events,
    claim_workdays,
    enterprise_users,
    exclusive_by_default,
    institution_users_for,
    share_enterprise,
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


def _closest_branch_id(
    branches: list[tuple[int, str, str | None]], prefixes: list[str]
) -> int | None:
    """`branches`: (pk, region code, parent's region code or None), by pk."""
    for prefix in prefixes:
        here = [b for b in branches if b[1].startswith(prefix)]
        if here:
            here.sort(key=lambda b: (b[2] is not None and b[2].startswith(prefix), b[0]))
            return here[0][0]
    return None


def choose_branch(institution_id: int, region) -> Branch | None:
    """The institution's branch closest to the enterprise: in its county,
    else its city, else its province; the top office there (a 营业部 before
    the town branches under it). None: the head office handles it."""
    return choose_branches([institution_id], region)[institution_id]


def choose_branches(institution_ids: Iterable[int], region) -> dict[int, Branch | None]:
    """`choose_branch` for several institutions in two queries."""
    chosen = choose_branch_ids(institution_ids, region)
    branches = Branch.objects.select_related("parent").in_bulk(
        [pk for pk in chosen.values() if pk is not None]
    )
    return {pk: branches.get(branch_id) for pk, branch_id in chosen.items()}


def choose_branch_ids(institution_ids: Iterable[int], region) -> dict[int, int | None]:
    """`choose_branches` as branch pks, from one narrow query: dispatching
    needs only the key, and an institution has dozens of branches in the
    enterprise's province that would otherwise each become a model instance."""
    ids = list(dict.fromkeys(institution_ids))
    prefixes = _region_prefixes(region)
    if not prefixes or not ids:
        return dict.fromkeys(ids)
    by_institution: dict[int, list[tuple[int, str, str | None]]] = {pk: [] for pk in ids}
    # The province's prefix is part of the plan (a LIKE pattern, not a key).
    province = prefixes[-1]
    for pk, institution_id, region_id, parent_region_id in _BRANCHES.rows(
        province, province, sorted(ids)
    ):
        by_institution[institution_id].append((pk, region_id, parent_region_id))
    return {pk: _closest_branch_id(by_institution[pk], prefixes) for pk in ids}


#: The branches `choose_branch_ids` chooses among: (pk, institution, region
#: code, parent's region code) of the institutions' branches in a province.
_BRANCHES = PlannedQuery(
    lambda province, ids: (
        Branch.objects.filter(institution_id__in=ids, region__code__startswith=province)
        .order_by("pk")
        .values_list("pk", "institution_id", "region_id", "parent__region_id")
    ),
    size=64,
)

#: An institution's short name and name, for a dispatch's audit line.
_NAMES = PlannedQuery(
    lambda _context, ids: (
        FinancialInstitution.objects.filter(pk__in=ids)
        .order_by()
        .values_list("pk", "short_name", "name")
    )
)


def _targets(demand: Demand) -> dict[int, tuple[list[int], bool]]:
    """{institution pk: (matched product pks, preferred?)}."""
    matched = qualifying_institutions(demand)
    preferred = demand.preferred_institution_ids()
    demand.keep_preferred_ids(preferred)  # the set of a published demand does not change
    preferred = set(preferred)
    targets = {pk: (products, pk in preferred) for pk, products in matched.items()}
    for pk in sorted(preferred - set(matched)):
        targets[pk] = ([], True)
    return targets


def _deadlines(now: datetime) -> datetime:
    return deadline_after(timezone.localtime(now), claim_workdays())


def _send_dispatches(
    actor, demand: Demand, now: datetime, outbox: list
) -> tuple[list[Dispatch], set[int]]:
    """Create or revive the dispatches of a new round (demand row locked by
    caller). New dispatches, their audit entries, timeline events and inbox
    messages are written in one INSERT each; their webhook events are
    appended to `outbox` for the caller to send with its own (one read of the
    endpoints). Returns the dispatches sent and the institutions the demand
    has now been dispatched to, in any round."""
    targets = _targets(demand)
    # Dispatches are written by rounds only: in a demand's first round (a
    # publish) there is none yet to read, revive or lock.
    existing = (
        {}
        if demand.round == 1
        else {d.institution_id: d for d in demand.dispatches.select_for_update().order_by("pk")}
    )
    claim_due = _deadlines(now)
    fresh = [pk for pk in sorted(targets) if pk not in existing]
    # Keys and names only: a dispatch needs the institution's pk, its audit
    # entry the name `str(dispatch)` would give; not ~20 full rows.
    names = {pk: short_name or name for pk, short_name, name in _NAMES.rows("names", None, fresh)}
    fresh = [pk for pk in fresh if pk in names]
    branches = choose_branch_ids(fresh, demand.enterprise.region)
    created = bulkinsert.insert(
        Dispatch,
        [
            bulkinsert.new(
                Dispatch,
                demand=demand,
                institution_id=pk,
                branch_id=branches[pk],
                exclusive=demand.exclusive,
                round=demand.round,
                matched_products=targets[pk][0],
                preferred=targets[pk][1],
                dispatched_at=now,
                claim_due_at=claim_due,
            )
            for pk in fresh
        ],
    )
    who = audit.describe_actor(actor)
    audit.record_many(
        audit.entry(
            "dispatch.create",
            actor_info=who,
            obj=dispatch,
            object_repr=f"{demand.pk} → {names[dispatch.institution_id]}",  # str(dispatch)
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
    outbox.extend(
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
    )
    if demand.share_profile and workflows.is_owner(actor, demand):
        institutions = FinancialInstitution.objects.in_bulk([d.institution_id for d in sent])
        registry_services.authorise_institutions(
            actor, demand.enterprise, [institutions[d.institution_id] for d in sent]
        )
    return sent, set(existing) | set(by_institution)


def _locking(related: tuple[str, ...], pk: int):
    queryset = Demand.objects.select_for_update(of=("self",)).filter(pk=pk)
    # Not select_related() bare: that would follow every foreign key.
    return queryset.select_related(*related) if related else queryset


#: The demand publishing locks (only its row: `of`), with the enterprise and
#: its region unless the caller has them (the shape: what is selected with
#: it); the same SQL for every publish, compiled once per thread.
_LOCKED_FOR_PUBLISH = KeyLookup(_locking, int, size=2)


def _lock_for_publish(demand: Demand) -> Demand:
    """The demand's row, locked, with its enterprise and region: the
    caller's when it loaded them (the API's and the page's lookups do; only
    the demand's row is locked, so they need not be read again under it)."""
    enterprise = Demand._meta.get_field("enterprise")
    region = enterprise.related_model._meta.get_field("region")
    if enterprise.is_cached(demand) and region.is_cached(demand.enterprise):
        locked = _LOCKED_FOR_PUBLISH.get((), (), demand.pk)
        if locked is not None:
            enterprise.set_cached_value(locked, demand.enterprise)
    else:
        locked = _LOCKED_FOR_PUBLISH.get(("r",), ("enterprise__region",), demand.pk)
    if locked is None:
        raise Demand.DoesNotExist(f"no demand {demand.pk}")
    return locked


def publish_demand(actor, demand: Demand) -> Demand:
    """三个第一: publish, and dispatch at once to every institution whose
    products the demand can qualify for, plus the enterprise's preferred ones."""
    with transaction.atomic():
        # With the enterprise (its users are told) and its region (which
        # picks the branches).
        locked = _lock_for_publish(demand)
        share_enterprise(actor, locked.enterprise)
        now = timezone.now()
        owners = enterprise_users(locked)
        locked = _move(
            workflows.DEMAND, locked, "publish", actor,
            changes={"published_at": now, "exclusive": exclusive_by_default()},
            event=_Event(_("企业发布了融资需求"), owners), held=True,
        )  # fmt: skip
        _dispatch_round(actor, locked, "dispatch", now, owners=owners)
        demand_signals.demands_changed.send_after_commit([locked.pk])
    # `locked` is the row as this transaction left it (read under its lock,
    # every later write made through it): hand its values to the caller's
    # copy instead of reading the row a third time. The enterprise (and its
    # region) the caller loaded stay.
    for name in _COPIED_FIELDS:
        setattr(demand, name, getattr(locked, name))
    demand.keep_preferred_ids(locked.preferred_institution_ids())  # read while dispatching
    return demand


#: What publishing hands back: every column but the key and the enterprise.
_COPIED_FIELDS = [
    f.attname for f in Demand._meta.concrete_fields if f.attname not in ("id", "enterprise_id")
]


def _dispatch_round(
    actor, demand: Demand, name: str, now: datetime, *, owners: list | None = None
) -> bool:
    # The new round is written with the transition below when there is one
    # (one UPDATE of the locked row), else on its own.
    demand.round += 1
    outbox: list = []  # webhook events, sent together: one read of the endpoints
    sent, dispatched = _send_dispatches(actor, demand, now, outbox)
    if owners is None:
        owners = enterprise_users(demand)
    if not sent:
        Demand.objects.filter(pk=demand.pk).update(round=demand.round)
        _notify(
            demand,
            "demand.no_target",
            _("暂无符合条件的金融机构，需求保持已发布状态，待重新派单"),
            actor=actor,
            recipients=owners,
        )
        _send_events(outbox)
        return False
    # Public to every dispatched institution, so it does not name the others.
    _move(
        workflows.DEMAND, demand, name, actor,
        event=_Event(_("已派单给 %(n)s 家金融机构") % {"n": len(sent)}, owners), held=True,
        outbox=outbox, dispatched=dispatched, also_save=("round",),
    )  # fmt: skip
    _send_events(outbox)
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
