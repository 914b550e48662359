"""Who may see and write indicators: government users act for their
region's subtree (a plan or a report for a region outside it is a 404 for
them, like anything they cannot see); platform admins act everywhere.
Enterprises and institutions neither see nor write indicators.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from chanrong.core.errors import NotFound
from chanrong.core.models import Region
from chanrong.core.scope import ScopeKind, scope_of

from ..models import IndicatorPlan


def can_manage_region(actor, region: Region) -> bool:
    """Government users (staff or admin) manage plans and reports of their
    subtree; platform admins everywhere."""
    scope = scope_of(actor)
    if scope.kind == ScopeKind.PLATFORM:
        return True
    return scope.kind == ScopeKind.GOVERNMENT and region.code.startswith(scope.region_prefix)


def can_view_indicators(actor) -> bool:
    return scope_of(actor).kind in (ScopeKind.PLATFORM, ScopeKind.GOVERNMENT)


def visible_region_prefix(actor) -> str | None:
    """The subtree of figures an actor may see; None = no indicator access."""
    scope = scope_of(actor)
    if scope.kind == ScopeKind.PLATFORM:
        return ""
    if scope.kind == ScopeKind.GOVERNMENT:
        return scope.region_prefix
    return None


def get_visible_plan(actor, plan_id: Any) -> IndicatorPlan:
    try:
        return IndicatorPlan.objects.visible_to(actor).select_related("region").get(pk=int(plan_id))
    except (IndicatorPlan.DoesNotExist, TypeError, ValueError):
        raise NotFound(_("未找到该指标计划")) from None
