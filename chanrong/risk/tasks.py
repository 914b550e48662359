"""Background jobs of the risk app: the scorecard's monthly retraining and
nightly scoring, the nightly early warnings, 风险监测's kept figures (hourly)
and the kept sums of the split by policy group (registered with `chanrong
tick` through `@periodic`)."""

from __future__ import annotations

from django.tasks import task
from django.utils import timezone

from chanrong.core.periodic import periodic
from chanrong.core.tasking import rerunnable


@periodic(days=1)
@task
def retrain_scorecard_monthly() -> dict:
    """On the first day of each month, train on the loan book and propose a
    version for a government admin to approve (it never goes live by
    itself). Idempotent: once a version exists for this month, nothing."""
    from .models import ModelVersion
    from .scorecard.trainer import TrainingError
    from .services import scoring

    today = timezone.localdate()
    if today.day != 1 or ModelVersion.objects.filter(as_of=today).exists():
        return {"proposed": None}
    try:
        version = scoring.train_and_propose(today)
    except TrainingError as exc:
        return {"proposed": None, "reason": exc.message}
    return {"proposed": version.number, "status": version.status}


@periodic(days=1)
@task
def score_enterprises_nightly() -> dict:
    """Score every enterprise with the live version (none live: nothing)."""
    from .services import scoring

    if scoring.live_version() is None:
        return {"scored": 0}
    return scoring.score_all()


@periodic(days=1)
@task
def evaluate_warning_rules_nightly() -> dict:
    """Every enabled early-warning rule over every enterprise: what changed
    without a signal (operating data, qualifications nearing expiry, scores)."""
    from .services import warnings

    return {"opened": warnings.evaluate()}


@periodic(days=1)
@task
def refresh_group_sums() -> dict:
    """The split by policy group kept as of today (群体统计 and the 统计分析
    panel read it; services.group_sums). At midnight Beijing time, so the
    pages show the close of the day before. Idempotent."""
    from .services import group_sums

    snapshot = group_sums.refresh()
    return {"as_of": snapshot.as_of.isoformat(), "seconds": snapshot.seconds}


@periodic(hours=1)
@task
def refresh_book_figures() -> dict:
    """风险监测's figures kept per viewer scope, every hour
    (services.book_kept). Idempotent."""
    from .services import book_kept

    snapshot = book_kept.refresh()
    return {"as_of": snapshot.as_of.isoformat(), "seconds": snapshot.seconds}


@rerunnable  # recomputes stored figures from the current data
@task
def refresh_book_figures_now() -> dict:
    """The same, when a government user asks for it on the page."""
    from .services import book_kept

    snapshot = book_kept.refresh()
    return {"as_of": snapshot.as_of.isoformat(), "seconds": snapshot.seconds}


@rerunnable  # recomputes stored sums from the current data
@task
def refresh_group_sums_now() -> dict:
    """The same, when a government user asks for it on the page."""
    from .services import group_sums

    snapshot = group_sums.refresh()
    return {"as_of": snapshot.as_of.isoformat(), "seconds": snapshot.seconds}
