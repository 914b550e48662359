"""The pieces the resolver table is built from: `NA`, `Missing`, `pick`,
`by_kind` and lazy access to the apps' models (`M.demands.Demand`), so that
importing the table at collection time touches no model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from .world import AuthzWorld


@dataclass(frozen=True)
class NA:
    """This (kind, case) has no object, by design; the reason is shown in the report."""

    reason: str


class Missing(LookupError):
    """The world lacks an object it should hold (a defect of the world, not of the app)."""


Ctx = dict[str, Any]
Resolver = Callable[[AuthzWorld, str, str, Ctx], Any]

ALL_SEE_IT = NA("every signed-in user sees every object of this family")
PLATFORM_SEES_ALL = NA("platform admins see everything")


def pick(qs: QuerySet, what: str) -> int:
    pk = qs.order_by("pk").values_list("pk", flat=True).first()
    if pk is None:
        raise Missing(f"no {what} in the world")
    return pk


def by_kind(what: str, **tables: Callable[[AuthzWorld], QuerySet | NA]) -> Resolver:
    """A resolver from one queryset builder per `<kind>_<case>` key; a kind
    without its key has no such object (`NA`)."""

    def resolve(w: AuthzWorld, kind: str, case: str, ctx: Ctx) -> Any:
        if kind == "platform":
            if case == "foreign":
                return PLATFORM_SEES_ALL
            # Its own: the first object any tenant-A role owns.
            for key in ("enterprise_own", "institution_own", "government_own", "any_own"):
                result = tables[key](w) if key in tables else None
                if result is not None and not isinstance(result, NA) and result.exists():
                    return pick(result, what)
            return NA(f"no {what} for platform admins")
        build = tables.get(f"{kind}_{case}") or tables.get(f"any_{case}")
        if build is None:
            return NA(f"no {case} {what} for {kind} users")
        result = build(w)
        return result if isinstance(result, NA) else pick(result, f"{case} {what} for {kind}")

    return resolve


def in_region(path: str, region: str) -> Q:
    return Q(**{f"{path}__code__startswith": region})


def _models():
    """Imported lazily: the module is imported at collection time."""
    from chanrong.api import models as api
    from chanrong.core import models as core
    from chanrong.demands import models as demands
    from chanrong.events import models as events
    from chanrong.finance import models as finance
    from chanrong.insights import models as insights
    from chanrong.pilots import models as pilots
    from chanrong.policy import models as policy
    from chanrong.registry import models as registry
    from chanrong.supplychain import models as supplychain

    try:
        from chanrong.risk import models as risk
    except ImportError:  # pragma: no cover - a tree without the risk app
        risk = None
    from chanrong.green import models as green

    return {
        "risk": risk,
        "green": green,
        "api": api,
        "core": core,
        "demands": demands,
        "events": events,
        "finance": finance,
        "insights": insights,
        "pilots": pilots,
        "policy": policy,
        "registry": registry,
        "supplychain": supplychain,
    }


class _M:
    def __getattr__(self, name: str):
        return _models()[name]


M = _M()
