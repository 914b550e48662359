"""Background jobs of the matching engine: incremental re-matching and retraining.

Other apps never import this module at load time: they call
`chanrong.matching.receivers`, which enqueue these tasks once the change commits.
"""

from __future__ import annotations

import logging

from django.tasks import task

from chanrong.core.periodic import periodic
from chanrong.core.tasking import rerunnable

logger = logging.getLogger(__name__)

#: Fewer settled outcomes than this and retraining keeps the current model.
MIN_OUTCOMES = 200


@rerunnable  # recomputes stored results from the current data
@task
def rematch_demands(demand_ids: list[int]) -> int:
    """Re-match these demands (a demand created, edited or published)."""
    from . import services

    return services.rematch(demand_ids)


@rerunnable  # recomputes stored results from the current data
@task
def rematch_enterprises(enterprise_ids: list[int]) -> int:
    """Re-match the open demands of these enterprises (their facts changed:
    tax grade, qualification, a list version published)."""
    return _rematch_enterprises(enterprise_ids)


def _rematch_enterprises(enterprise_ids) -> int:
    from chanrong.demands.models import Demand

    from . import adapter, services

    pks = list(
        Demand.objects.filter(
            enterprise_id__in=enterprise_ids, state__in=adapter.OPEN_STATES
        ).values_list("pk", flat=True)
    )
    return services.rematch(pks) if pks else 0


@rerunnable  # recomputes stored results from the current data
@task
def rematch_list_version(version_id: int) -> int:
    """Re-match the enterprises of a list version (and of the version it replaced)."""
    from chanrong.registry.models import ListEntry, ListVersion

    version = ListVersion.objects.filter(pk=version_id).values_list("list_id", flat=True).first()
    if version is None:
        return 0
    ids = set(
        ListEntry.objects.filter(version__list_id=version, enterprise__isnull=False)
        .values_list("enterprise_id", flat=True)
        .distinct()
    )
    return _rematch_enterprises(sorted(ids)) if ids else 0


@rerunnable  # recomputes stored results from the current data
@task
def rematch_all() -> int:
    """Re-match every open demand (a product changed: it may enter or leave any list)."""
    from . import services

    return services.rematch()


@periodic(hours=1)
@task
def refresh_rankings() -> int:
    """The 派单工作台's lists ranked ahead for every institution with an
    active user (matching.kept), every hour and after a product change.
    Idempotent."""
    from . import kept

    return kept.refresh()


@periodic(days=1)
@task
def retrain_model() -> dict:
    """Retrain the approval model on every settled outcome and save it where
    scoring loads it. Keeps the current model when outcomes are too few or
    all alike."""
    import numpy as np

    from . import learning, model

    data = learning.training_set()
    n = len(data)
    if n < MIN_OUTCOMES or len(np.unique(data.y)) < 2:
        return {"trained": False, "outcomes": n}
    fitted = model.train(data.X, data.y)
    model.save(fitted, model.default_path())
    return {"trained": True, "outcomes": n, "approved": int(data.y.sum())}
