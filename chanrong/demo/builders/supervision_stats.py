"""The 督办看板's statistics kept for its default view (demands.stats_kept,
issue 20), so the board opens on kept figures instead of reading every
dispatch of the year in the viewer's scope. Last: it reads the demands and
dispatches the steps before wrote, and the agencies the demo users act for.
As of today (Asia/Shanghai), as the hourly job does."""

from __future__ import annotations

from chanrong.demands import stats_kept
from chanrong.demands.models import SupervisionFigures

from .base import DemoContext

NAME = "supervision_stats"
MODELS: tuple[str, ...] = ("demands.supervisionsnapshot", "demands.supervisionfigures")


def build(ctx: DemoContext) -> None:
    snapshot = stats_kept.refresh()
    ctx.counts["supervision_scopes"] = SupervisionFigures.objects.filter(snapshot=snapshot).count()
