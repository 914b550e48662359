"""The split by policy group kept as of the build (risk's kept sums,
issue 20), so the 群体统计 page and the 统计分析 panel open on kept sums
instead of adding up the demo's whole loan book on every view. After
insights_snapshots (which refreshes the planner statistics first): it reads
the loans, demands, dispatches, lists and qualifications the steps before
wrote. As of today (Asia/Shanghai), as the nightly job does."""

from __future__ import annotations

from chanrong.risk.models import GroupSplitSum
from chanrong.risk.services import group_sums

from .base import DemoContext

NAME = "risk_group_sums"
MODELS: tuple[str, ...] = ("risk.groupsplitsnapshot", "risk.groupsplitsum")


def build(ctx: DemoContext) -> None:
    snapshot = group_sums.refresh()
    ctx.counts["group_split_sums"] = GroupSplitSum.objects.filter(snapshot=snapshot).count()
