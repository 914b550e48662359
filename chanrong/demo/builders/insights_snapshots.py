"""The indicator plans' computed figures kept as of the build (insights'
snapshots, issue 20), so the 统计分析 page and a plan's 完成情况 open on kept
figures instead of scanning the demo's loan book on every view. Last step:
it reads the loans, lists and events the steps before wrote.

The figures are computed as of today (Asia/Shanghai), as the nightly job
does; the planner statistics are refreshed first (PostgreSQL), since the
book passes over freshly bulk-written tables otherwise get nested-loop plans.
"""

from __future__ import annotations

from chanrong.insights.services import snapshots

from .base import DemoContext, refresh_statistics

NAME = "insights_snapshots"
MODELS: tuple[str, ...] = ("insights.figuresnapshot", "insights.figuresnapshotvalue")


def build(ctx: DemoContext) -> None:
    refresh_statistics()
    kept = snapshots.refresh_all()
    ctx.counts["figure_snapshots"] = len(kept)
    ctx.counts["figure_snapshot_values"] = sum(kept.values())
