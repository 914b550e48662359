"""Kept sums of the split by policy group (群体统计 数据截至, issue 20).

`groups.split` adds up the viewer's whole loan book and the year's demands
on every view: at demo scale 10, 0.3-0.75 s, most of it the groups'
membership tests. The page's default view (and the 统计分析 panel) is the
same every time until the data change: loans disbursed since 1 January,
balances and group membership on the day. So `refresh` computes it once,
for everyone at once, with the very statements `split` runs, grouped also
by the borrower's region code and by the lending institution, and keeps
the integer sums per tag (`GroupSplitSum`). A viewer's figures are then a
sum over its rows (`kept_split`):

- government and platform (the whole book, every demand with all its
  dispatches; the rows without institution) narrowed to the region
  subtree it may see — `visible_to` for loans, demands and dispatches is a
  prefix of the borrower's region code for government, nothing for the
  platform;
- an institution its own rows: the loans it made, the demands dispatched
  to it with its own dispatches (`visible_to` for an institution);
- the page's region filter narrows by the same prefix, its group filter
  picks a row (the total does not depend on it).

Money is summed in 分 as integers in both, so the kept figures are the live
ones at the kept date to the 分 (tests/risk/test_groups_kept.py compares
them for every kind of viewer). A query with other dates, or a snapshot of
another year or made with other groups, is computed live (实时计算).

Refreshed by the nightly job `risk.tasks.refresh_group_sums`, the demo's last
steps, and a government user's request on the page (`request_refresh`:
audited, enqueued once while pending; a request lapses after an hour).
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import kept
from chanrong.core.errors import NotAllowed
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.demands.models import Demand, Dispatch

from ..models import GroupSplitSnapshot, GroupSplitSum, LoanAccount
from . import groups

KEY = "all"
FIELDS = (
    "loans",
    "amount",
    "weighted",
    "rated",
    "balance",
    "balance_loans",
    "demands",
    "demand_amount",
    "financings",
    "financing_amount",
    "dispatches",
    "claims",
)


def default_query(day: date, *, group: str = "", region=None) -> groups.Query:
    """The page's default view on `day`: loans since 1 January, the rest on the day."""
    return groups.Query(day.replace(month=1, day=1), day, day, group, region)


def current() -> GroupSplitSnapshot | None:
    return GroupSplitSnapshot.objects.filter(key=KEY).first()


def usable(snapshot: GroupSplitSnapshot | None, today: date | None = None) -> bool:
    """Computed, in this year (the default view is this year's), with the
    groups registered now in the same order."""
    if snapshot is None or snapshot.computed_at is None or snapshot.as_of is None:
        return False
    today = today or timezone.localdate()
    keys = [key for key, _l, _d in groups.group_choices()]
    return snapshot.as_of.year == today.year and snapshot.group_keys == keys


# --------------------------------------------------------------------------
# computing


def compute(day: date) -> tuple[list[str], dict[tuple[int | None, str, int], groups._Sums]]:
    """{(institution id or None, region code, tag): sums} of the default
    view on `day`, for every viewer at once, and the group keys in bit
    order."""
    query = default_query(day)
    chosen = groups.group_choices()
    loan_keys = [key for key, _l, _d in chosen if key in groups.LOAN_GROUPS]
    enterprise_keys = [key for key, _l, _d in chosen if key not in groups.LOAN_GROUPS]
    shift = len(loan_keys)
    loans_qs = LoanAccount.objects.filter(disbursed_on__lte=day)
    demands = groups._demands_in(Demand.objects.all(), query)
    out: dict[tuple[int | None, str, int], groups._Sums] = defaultdict(groups._Sums)
    by = ("institution_id", "enterprise__region_id")
    with groups._without_jit():
        loan_sums = groups._loan_sums(loans_qs, loan_keys, enterprise_keys, query, by=by)
        every = groups._demand_sums(
            Dispatch.objects.all(), demands, enterprise_keys, day, by=("enterprise__region_id",)
        )
        per_institution = groups._demand_sums(
            Dispatch.objects.all(),
            demands,
            enterprise_keys,
            day,
            by=("enterprise__region_id",),
            per_institution=True,
        )
    for (institution, region, tag), sums in loan_sums.items():
        out[(institution, region, tag)].add(sums)
        out[(None, region, tag)].add(sums)  # government and platform: every lender
    for (region, tag), sums in every.items():
        out[(None, region, tag << shift)].add(sums)
    for (institution, region, tag), sums in per_institution.items():
        if institution is not None:  # (a demand dispatched to no institution)
            out[(institution, region, tag << shift)].add(sums)
    return [key for key, _l, _d in chosen], out


def refresh(*, today: date | None = None) -> GroupSplitSnapshot:
    """Compute the kept sums as of `today` (default: today, Beijing) and
    replace the previous ones. The computing runs outside any transaction;
    the write is one short transaction."""
    today = today or timezone.localdate()
    started = time.monotonic()
    keys, sums = compute(today)
    rows = [
        GroupSplitSum(
            institution_id=institution,
            region_code=region,
            tag=tag,
            **{name: getattr(s, name) for name in FIELDS if name != "weighted"},
            weighted=str(int(s.weighted)),
        )
        for (institution, region, tag), s in sums.items()
    ]
    with transaction.atomic():
        snapshot, _created = GroupSplitSnapshot.objects.select_for_update().get_or_create(key=KEY)
        GroupSplitSum.objects.filter(snapshot=snapshot).delete()
        for row in rows:
            row.snapshot = snapshot
        GroupSplitSum.objects.bulk_create(rows, batch_size=2000)
        snapshot.as_of = today
        snapshot.group_keys = keys
        snapshot.computed_at = timezone.now()
        snapshot.seconds = round(time.monotonic() - started, 3)
        snapshot.save(update_fields=["as_of", "group_keys", "computed_at", "seconds"])
    return snapshot


# --------------------------------------------------------------------------
# reading


def kept_split(actor, query: groups.Query, snapshot: GroupSplitSnapshot) -> groups.Split:
    """The split of the default view on the snapshot's date, for this
    viewer, from the kept sums (`query` must be that view: `default_query`)."""
    scope = scope_of(actor)
    rows = GroupSplitSum.objects.filter(snapshot=snapshot)
    if scope.kind == ScopeKind.INSTITUTION:
        rows = rows.filter(institution_id=scope.institution_id)
    elif scope.kind in (ScopeKind.PLATFORM, ScopeKind.GOVERNMENT):
        rows = rows.filter(institution_id__isnull=True)
        if scope.region_prefix:
            rows = rows.filter(region_code__startswith=scope.region_prefix)
    else:
        rows = rows.none()
    if query.region is not None:
        rows = rows.filter(region_code__startswith=query.region.prefix)
    tags: dict[int, groups._Sums] = defaultdict(groups._Sums)
    for tag, *values in rows.values_list("tag", *FIELDS):
        sums = tags[tag]
        for name, value in zip(FIELDS, values, strict=True):
            setattr(sums, name, getattr(sums, name) + int(value))
    chosen = groups.group_choices()
    split = groups.assemble(query, chosen, tags)
    if query.group:
        split.rows = [row for row in split.rows if row.key == query.group]
    return split


@dataclass
class PageSplit:
    """The split a page shows, and where it comes from: the kept sums of
    `snapshot` (dated `as_of`) or, `live`, computed now."""

    split: groups.Split
    snapshot: GroupSplitSnapshot | None  # also when not used (its pending request)
    as_of: date
    live: bool


def page_split(actor, params: dict[str, Any]) -> PageSplit:
    """The page's split for its parameters (`group`, `region`, `from`, `to`,
    `as_of`; bad ones raise ValidationFailed as `groups.clean_query`): from the kept sums when the
    dates asked are the default view on the kept date (none given, or
    those), else computed now."""
    snapshot = current()
    fields = {
        "group": params.get("group", ""),
        "region": params.get("region", ""),
        "start": params.get("from", ""),
        "end": params.get("to", ""),
        "as_of": params.get("as_of", ""),
    }
    if usable(snapshot):
        query = groups.clean_query(**fields, default_day=snapshot.as_of)
        if query == default_query(snapshot.as_of, group=query.group, region=query.region):
            split = kept_split(actor, query, snapshot)
            return PageSplit(split, snapshot, snapshot.as_of, live=False)
    query = groups.clean_query(**fields)
    return PageSplit(groups.split(actor, query), snapshot, query.as_of, live=True)


# --------------------------------------------------------------------------
# asking for a refresh


may_request = kept.may_request


def request_refresh(actor) -> bool:
    """A government user (or platform admin) asks for the kept sums to be
    computed again now: recorded on the snapshot and in the audit log; not
    asked twice while a request is pending. True when the caller should
    enqueue the work (`risk.tasks.refresh_group_sums_now`, on commit)."""
    if not may_request(actor):
        raise NotAllowed(_("只有政府部门可以申请刷新群体统计数据"))
    return kept.request_on(GroupSplitSnapshot, actor, action="risk.group_sums.request", key=KEY)
