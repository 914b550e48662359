"""How matching reacts to changes in the apps below it: each domain signal
(sent once per committed transaction, with the ids concerned; see
chanrong.core.domain) enqueues one re-match task. The tasks run in a worker,
never in the request. Connected in `MatchingConfig.ready()`.

An import that records 5,000 tax grades sends `enterprises_changed` once, so
one task re-matches the 5,000 enterprises' open demands.
"""

from __future__ import annotations

import logging

from chanrong.core.periodic import already_queued
from chanrong.core.priority import prioritised
from chanrong.core.tasking import _enqueue_logged
from chanrong.demands import signals as demand_signals
from chanrong.finance import signals as finance_signals
from chanrong.registry import signals as registry_signals

from . import tasks

logger = logging.getLogger(__name__)

#: Re-matching refreshes stored rankings that pages do not wait for (they
#: rank on request): it goes after deliveries and periodic jobs.
REMATCH_PRIORITY = -20


def _low(task):
    return prioritised(task, REMATCH_PRIORITY)


def on_demands_changed(sender, ids: tuple[int, ...], **kwargs) -> None:
    _enqueue_logged(_low(tasks.rematch_demands), (list(ids),), {})


def on_enterprises_changed(sender, ids: tuple[int, ...], **kwargs) -> None:
    _enqueue_logged(_low(tasks.rematch_enterprises), (list(ids),), {})


def on_list_versions_published(sender, ids: tuple[int, ...], **kwargs) -> None:
    """Re-match the lists' enterprises, and rank the workbenches' outreach
    lists again (matching.kept): who is on a white list has changed."""
    for version in ids:
        _enqueue_logged(_low(tasks.rematch_list_version), (version,), {})
    _refresh_rankings()


def _refresh_rankings() -> None:
    """The workbenches' lists ranked again, not queued twice while a
    request is still waiting (database backend)."""
    try:
        if already_queued(tasks.refresh_rankings):
            return
    except Exception:  # the check is an optimisation only
        logger.debug("could not check for a waiting ranking", exc_info=True)
    _enqueue_logged(_low(tasks.refresh_rankings), (), {})


def on_products_changed(sender, ids: tuple[int, ...], **kwargs) -> None:
    """A product affects every demand: one full re-match, not queued twice
    while one is still waiting (database backend), and the workbenches'
    lists ranked again (matching.kept: until then they are ranked on each
    view)."""
    try:
        queued = already_queued(tasks.rematch_all)
    except Exception:  # the check is an optimisation only
        logger.debug("could not check for a waiting re-match", exc_info=True)
        queued = False
    if not queued:
        _enqueue_logged(_low(tasks.rematch_all), (), {})
    _refresh_rankings()


def connect() -> None:
    uid = "chanrong.matching.receivers."
    demand_signals.demands_changed.connect(on_demands_changed, dispatch_uid=uid + "demands")
    registry_signals.enterprises_changed.connect(
        on_enterprises_changed, dispatch_uid=uid + "enterprises"
    )
    registry_signals.list_versions_published.connect(
        on_list_versions_published, dispatch_uid=uid + "versions"
    )
    finance_signals.products_changed.connect(on_products_changed, dispatch_uid=uid + "products")
    # This process's cached policy weights (policy.weights_in_force) go at
    # once with a change made here; other processes see it by its version.
    from django.db.models.signals import post_delete, post_save

    from .models import PolicyWeights
    from .policy import forget_weights

    post_save.connect(forget_weights, sender=PolicyWeights, dispatch_uid=uid + "weights_saved")
    post_delete.connect(forget_weights, sender=PolicyWeights, dispatch_uid=uid + "weights_gone")
