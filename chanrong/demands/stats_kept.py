"""The 督办看板's financing statistics kept for its default view (数据截至,
issue 20).

`stats.demand_stats_by` reads every dispatch of the period's demands in the
viewer's scope: at demo scale 100 a county's year is ~690,000 dispatches,
1.5 s in PostgreSQL on every view of the board. The board opens on the
same view every time (this year up to today, grouped by region, with the
compliance table by institution), so `refresh` computes it ahead, and a
view of the default period reads it back (`board_stats`).

Kept per scope, not per region code. The medians (接单用时, 放款用时) are
not sums: a province's median cannot be put together from its counties'.
So the figures are kept whole for each government scope somebody acts
for — the region prefix of every agency with an active user, and "" (the
whole country: national agencies and platform admins) — by the very
statements a viewer of that scope runs (`stats.scope_groups` over
`for_scope`, the rule `visible_to` applies), every grouping at once. A kept
view is therefore the live one at the time it was computed, exactly
(tests/demands/test_stats_kept.py compares them). A scope nobody had when
the figures were computed, a bank's view, or another period is computed
live (实时计算).

Refreshed every hour (`demands.tasks.refresh_supervision_stats`), by the
demo's last step, and on a government user's request on the page
(`request_refresh`: audited, enqueued once while pending; a request lapses
after an hour, core.kept).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.accounts.scopes import government_prefixes
from chanrong.core import kept
from chanrong.core.errors import NotAllowed
from chanrong.core.scope import Scope, ScopeKind, scope_of

from . import stats
from .models import SupervisionFigures, SupervisionSnapshot

KEY = "all"
GROUPINGS = tuple(stats.GROUPS)


def default_period(day: dt.date) -> tuple[dt.date, dt.date]:
    """The board's default period on `day`: 1 January to the day."""
    return day.replace(month=1, day=1), day


def current() -> SupervisionSnapshot | None:
    return SupervisionSnapshot.objects.filter(key=KEY).first()


def usable(snapshot: SupervisionSnapshot | None, today: dt.date | None = None) -> bool:
    """Computed, and in this year (the default period is this year's)."""
    if snapshot is None or snapshot.computed_at is None or snapshot.as_of is None:
        return False
    return snapshot.as_of.year == (today or timezone.localdate()).year


def scopes() -> list[str]:
    """The region prefixes to keep (accounts.scopes)."""
    return government_prefixes()


# --------------------------------------------------------------------------
# computing


def _row_data(row: stats.StatRow) -> dict[str, Any]:
    return {
        "key": row.key,
        "demands": row.demands,
        "demand_amount": str(row.demand_amount),
        "dispatches": row.dispatches,
        "claims": row.claims,
        "claimed_in_time": row.claimed_in_time,
        "financings": row.financings,
        "financing_amount": str(row.financing_amount),
        "claim_hours": row.claim_hours,
        "disburse_days": row.disburse_days,
    }


def _row(data: dict[str, Any]) -> stats.StatRow:
    return stats.StatRow(
        key=data["key"],
        label="",
        demands=data["demands"],
        demand_amount=Decimal(data["demand_amount"]),
        dispatches=data["dispatches"],
        claims=data["claims"],
        claimed_in_time=data["claimed_in_time"],
        financings=data["financings"],
        financing_amount=Decimal(data["financing_amount"]),
        claim_hours=list(data["claim_hours"]),
        disburse_days=list(data["disburse_days"]),
    )


def compute(prefix: str, day: dt.date) -> dict[str, Any]:
    """The default period's figures on `day` for a government viewer of
    region `prefix`, every grouping, as JSON-ready data."""
    start, end = default_period(day)
    scope = Scope(ScopeKind.GOVERNMENT, region_prefix=prefix)
    total, by_split = stats.scope_groups(scope, start=start, end=end, group_bys=GROUPINGS)
    return {
        "total": _row_data(total),
        "groups": {
            group_by: [_row_data(row) for row in groups.values()]
            for group_by, groups in by_split.items()
        },
    }


def refresh(*, today: dt.date | None = None) -> SupervisionSnapshot:
    """Compute the kept figures of every scope as of now (the period up to
    `today`, default today in Beijing) and replace the previous ones. The
    computing runs outside any transaction; the write is one short one."""
    today = today or timezone.localdate()
    started = time.monotonic()
    figures = {prefix: compute(prefix, today) for prefix in scopes()}
    with transaction.atomic():
        snapshot, _created = SupervisionSnapshot.objects.select_for_update().get_or_create(key=KEY)
        SupervisionFigures.objects.filter(snapshot=snapshot).delete()
        SupervisionFigures.objects.bulk_create(
            SupervisionFigures(snapshot=snapshot, region_prefix=prefix, figures=data)
            for prefix, data in figures.items()
        )
        snapshot.as_of = today
        snapshot.computed_at = timezone.now()
        snapshot.seconds = round(time.monotonic() - started, 3)
        snapshot.save(update_fields=["as_of", "computed_at", "seconds"])
    return snapshot


# --------------------------------------------------------------------------
# reading


@dataclass
class BoardStats:
    """The statistics a board shows, one per grouping asked, and where they
    come from: kept (`snapshot`, for the period up to `as_of`) or, `live`,
    computed now. `snapshot` is also given when not used (its pending
    request shows)."""

    results: list[stats.DemandStats]
    snapshot: SupervisionSnapshot | None
    live: bool

    @property
    def as_of(self) -> dt.date:
        return self.results[0].end


def _kept_figures(scope: Scope, snapshot: SupervisionSnapshot) -> dict[str, Any] | None:
    if scope.kind == ScopeKind.PLATFORM:
        prefix = ""
    elif scope.kind == ScopeKind.GOVERNMENT:
        prefix = scope.region_prefix
    else:
        return None
    found = SupervisionFigures.objects.filter(snapshot=snapshot, region_prefix=prefix)
    return found.values_list("figures", flat=True).first()


def board_stats(
    actor,
    *,
    start: dt.date | None,
    end: dt.date | None,
    group_bys: tuple[str, ...],
    today: dt.date | None = None,
) -> BoardStats:
    """The statistics for `group_bys` over [start, end] (None: the default
    period, checked by the caller with `stats.clean_period`): kept when the
    period is the kept default one and the actor's scope was kept, else
    computed now."""
    snapshot = current()
    if usable(snapshot, today):
        kept_start, kept_end = default_period(snapshot.as_of)
        if (start, end) in ((None, None), (kept_start, kept_end)):
            data = _kept_figures(scope_of(actor), snapshot)
            if data is not None:
                results = []
                for group_by in group_bys:
                    # Fresh rows per grouping: `labelled` labels them in place.
                    total = _row(data["total"])
                    groups = {row["key"]: _row(row) for row in data["groups"][group_by]}
                    results.append(stats.labelled(kept_start, kept_end, group_by, total, groups))
                return BoardStats(results, snapshot, live=False)
    if start is None or end is None:
        start, end, _group = stats.clean_period("", "")
    results = stats.demand_stats_by(actor, start=start, end=end, group_bys=group_bys)
    return BoardStats(results, snapshot, live=True)


# --------------------------------------------------------------------------
# asking for a refresh


may_request = kept.may_request


def request_refresh(actor) -> bool:
    """A government user (or platform admin) asks for the kept figures to be
    computed again now: recorded on the snapshot and in the audit log; not
    asked twice while a request is pending. True when the caller should
    enqueue the work (`demands.tasks.refresh_supervision_stats_now`, on
    commit)."""
    if not may_request(actor):
        raise NotAllowed(_("只有政府部门可以申请刷新督办统计数据"))
    return kept.request_on(
        SupervisionSnapshot, actor, action="demands.supervision_stats.request", key=KEY
    )
