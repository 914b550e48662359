"""Which institutions a published demand is dispatched to, best first.

Dispatch ranks by the matching engine, which sits above this app (it reads
demands). Rather than import it, demands asks whoever registered as the
dispatch ranker: the matching app does so in its `AppConfig.ready()`. A
ranker maps a demand to {institution pk: [product pks, best first]},
institutions best first; see `chanrong.matching.services.dispatch_targets`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from .models import Demand

Ranker = Callable[..., dict[int, list[int]]]

_ranker: Ranker | None = None


def set_dispatch_ranker(ranker: Ranker) -> None:
    global _ranker
    _ranker = ranker


def dispatch_targets(demand: Demand, *, today: date | None = None) -> dict[int, list[int]]:
    if _ranker is None:
        raise ImproperlyConfigured(
            "no dispatch ranker registered: is chanrong.matching in INSTALLED_APPS?"
        )
    return _ranker(demand, today=today)
