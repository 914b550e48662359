"""Background jobs of the insights app: keeping the computed indicator
figures (services.snapshots) fresh — every plan region's once a night
(through `chanrong tick`), and one region's when a government user asks."""

from __future__ import annotations

from django.tasks import task

from chanrong.core.periodic import periodic
from chanrong.core.tasking import rerunnable


@periodic(days=1)
@task
def refresh_figure_snapshots() -> dict:
    """Every plan region's computed figures as of today (at midnight Beijing
    time, so the pages show yesterday's close). Idempotent: a second run
    recomputes the same figures."""
    from .services import snapshots

    return {"refreshed": snapshots.refresh_all()}


@rerunnable  # recomputes stored figures from the current data
@task
def refresh_figure_snapshot(prefix: str) -> dict:
    """One region's computed figures as of today (a user's request)."""
    from .services import snapshots

    snapshot = snapshots.refresh(prefix)
    return {"prefix": prefix, "as_of": snapshot.as_of.isoformat(), "seconds": snapshot.seconds}
