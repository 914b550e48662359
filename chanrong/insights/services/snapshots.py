"""Kept figures (数据截至): the computed sources' answers that the indicator
plans of a region subtree read, computed once and read by the pages.

A computed indicator (制造业贷款余额, 不良贷款率 …) is rebuilt from the whole
loan book of the plan's region; at county scale that is seconds per source
and date, and the 统计分析 page asked it for every plan shown on every view.
Instead `refresh` runs each plan's completion for every plan year up to
today with a recording reader, and keeps every source answer it asked for
(`FigureSnapshotValue`: source, window, the Decimal's exact text). The pages
then run the same completion with `today` = the snapshot's date and a reader
that answers from those rows: the same code over the same numbers, so the
figures are those the live computation gives at that date (a test compares
them). Reported (填报) figures are still read live; they are one statement.

A window the snapshot does not hold (a plan made after the refresh, a year
just begun) is computed live, as before; with no snapshot at all for the
plan's region the page computes live and says so.

Refreshed nightly (`insights.tasks.refresh_figure_snapshots`), at the end of
`chanrong demo`, and when a government user asks for it on the page
(`request_refresh`: audited, then enqueued to the worker by the view,
once while one is pending).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import kept
from chanrong.core.errors import NotAllowed, NotFound
from chanrong.core.models import Region

from ..models import FigureSnapshot, FigureSnapshotValue, IndicatorPlan, IndicatorTarget
from .access import can_view_indicators, visible_region_prefix
from .figures import LIVE, CompletionRow, completion

Window = tuple[str, date | None, date]  # (source key, start, end)


class RecordingSources:
    """Asks the sources live, once per (source, prefix, window), and keeps
    every answer for `refresh` to write."""

    def __init__(self) -> None:
        self.answers: dict[tuple[str, str, date | None, date], object] = {}

    def value(self, key: str, prefix: str, start: date | None, end: date):
        memo = (key, prefix, start, end)
        if memo not in self.answers:
            self.answers[memo] = LIVE.value(key, prefix, start, end)
        return self.answers[memo]


class SnapshotSources:
    """Answers from a snapshot's rows (read in one statement, on the first
    question); a window it does not hold, or another prefix, is computed
    live (counted in `missed`)."""

    def __init__(self, snapshot: FigureSnapshot) -> None:
        self.snapshot = snapshot
        self._values: dict[Window, Decimal | None] | None = None
        self.missed = 0

    def _load(self) -> dict[Window, Decimal | None]:
        if self._values is None:
            self._values = {
                (key, start, end): (Decimal(text) if text else None)
                for key, start, end, text in FigureSnapshotValue.objects.filter(
                    snapshot=self.snapshot
                ).values_list("source", "start", "end", "value")
            }
        return self._values

    def value(self, key: str, prefix: str, start: date | None, end: date):
        values = self._load()
        if prefix == self.snapshot.region_prefix and (key, start, end) in values:
            return values[(key, start, end)]
        self.missed += 1
        return LIVE.value(key, prefix, start, end)


def _text(value) -> str:
    return "" if value is None else str(Decimal(value))


# --------------------------------------------------------------------------
# reading


@dataclass
class PlanFigures:
    """A plan's completion for a year as a page shows it: from the kept
    figures of `snapshot` (dated `as_of`) or, with none, computed now."""

    rows: list[CompletionRow]
    snapshot: FigureSnapshot | None  # the region's, also when not used (a pending request)
    as_of: date
    live: bool  # computed now, not read from the snapshot


def snapshots_for(prefixes) -> dict[str, FigureSnapshot]:
    """{region prefix: its snapshot} (computed or only requested), one statement."""
    return {s.region_prefix: s for s in FigureSnapshot.objects.filter(region_prefix__in=prefixes)}


def plan_figures(
    plan: IndicatorPlan, year: int, *, snapshot: FigureSnapshot | None | bool = True
) -> PlanFigures:
    """The plan's completion for `year` from its region's kept figures when
    there are some (`snapshot=True`: look it up; pass one, or None, when the
    caller already has them), else computed now."""
    if snapshot is True:
        snapshot = snapshots_for([plan.region.prefix]).get(plan.region.prefix)
    # (a year the snapshot's date has not reached — a new year before the
    # nightly run — is computed now)
    if snapshot is not None and snapshot.computed_at is not None and year <= snapshot.as_of.year:
        rows = completion(plan, year, today=snapshot.as_of, sources=SnapshotSources(snapshot))
        return PlanFigures(rows, snapshot, snapshot.as_of, live=False)
    today = timezone.localdate()
    return PlanFigures(completion(plan, year, today=today), snapshot or None, today, live=True)


# --------------------------------------------------------------------------
# computing


def plan_prefixes() -> list[str]:
    """Every region prefix some plan is made for."""
    return sorted(set(IndicatorPlan.objects.values_list("region__prefix", flat=True)))


def refresh(prefix: str, *, today: date | None = None) -> FigureSnapshot:
    """Compute, for every plan of the region with this prefix and every plan
    year up to `today`, the source answers its completion asks, and keep them
    as the prefix's snapshot (replacing the previous one). The computing runs
    outside any transaction; the write is one short transaction."""
    today = today or timezone.localdate()
    started = time.monotonic()
    recorder = RecordingSources()
    plans = list(
        IndicatorPlan.objects.filter(region__prefix=prefix)
        .select_related("region")
        .filter(pk__in=IndicatorTarget.objects.values("plan"))
    )
    for plan in plans:
        for year in plan.years:
            if year <= today.year:
                completion(plan, year, today=today, sources=recorder)
    rows = [
        (key, start, end, _text(value))
        for (key, asked_prefix, start, end), value in recorder.answers.items()
        if asked_prefix == prefix
    ]
    with transaction.atomic():
        snapshot, _created = FigureSnapshot.objects.select_for_update().get_or_create(
            region_prefix=prefix
        )
        FigureSnapshotValue.objects.filter(snapshot=snapshot).delete()
        FigureSnapshotValue.objects.bulk_create(
            FigureSnapshotValue(snapshot=snapshot, source=key, start=start, end=end, value=text)
            for key, start, end, text in rows
        )
        snapshot.as_of = today
        snapshot.computed_at = timezone.now()
        snapshot.seconds = round(time.monotonic() - started, 3)
        snapshot.save(update_fields=["as_of", "computed_at", "seconds"])
    return snapshot


def refresh_all(*, today: date | None = None) -> dict[str, int]:
    """Every plan region's snapshot, and none left for a region without plans.
    {prefix: figures kept}."""
    prefixes = plan_prefixes()
    FigureSnapshot.objects.exclude(region_prefix__in=prefixes).delete()
    return {p: refresh(p, today=today).values.count() for p in prefixes}


def request_refresh(actor, regions: list[Region]) -> list[str]:
    """A government user (or platform admin) asks for the kept figures of
    these plan regions to be computed again now: recorded on each snapshot
    and in the audit log. A region whose refresh is already waiting is not
    asked twice. Returns the prefixes to compute, which the caller enqueues
    to the worker (`insights.tasks.refresh_figure_snapshot`, on commit)."""
    if not can_view_indicators(actor):
        raise NotAllowed(_("只有政府部门可以申请刷新指标数据"))
    base = visible_region_prefix(actor) or ""
    if any(not r.code.startswith(base) for r in regions):
        raise NotFound(_("未找到该地区"))
    prefixes = sorted({r.prefix for r in regions})
    requested = []
    now = timezone.now()
    with transaction.atomic():
        for prefix in prefixes:
            snapshot, _created = FigureSnapshot.objects.select_for_update().get_or_create(
                region_prefix=prefix
            )
            if kept.mark_requested(
                snapshot,
                actor,
                action="insights.snapshot.request",
                object_repr=prefix,
                changes={
                    "region_prefix": prefix,
                    "as_of": snapshot.as_of.isoformat() if snapshot.as_of else None,
                },
                now=now,
            ):
                requested.append(prefix)
    return requested
