"""Background jobs of the demands app."""

from __future__ import annotations

from django.tasks import task

from chanrong.core.periodic import periodic
from chanrong.core.tasking import rerunnable

from . import sla


@periodic(minutes=5)
@task
def supervise_deadlines() -> dict:
    """Escalate overdue dispatches; expire and re-dispatch the long overdue."""
    return sla.run().as_dict()


@periodic(hours=1)
@task
def refresh_supervision_stats() -> dict:
    """The 督办看板's statistics kept for its default view, every hour
    (demands.stats_kept). Idempotent."""
    from . import stats_kept

    snapshot = stats_kept.refresh()
    return {"as_of": snapshot.as_of.isoformat(), "seconds": snapshot.seconds}


@rerunnable  # recomputes stored figures from the current data
@task
def refresh_supervision_stats_now() -> dict:
    """The same, when a government user asks for it on the page."""
    from . import stats_kept

    snapshot = stats_kept.refresh()
    return {"as_of": snapshot.as_of.isoformat(), "seconds": snapshot.seconds}
