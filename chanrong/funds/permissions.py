"""Who may keep a fund and record its investments.

Plain predicates over (actor, object), used by the services; never by views
directly. A fund is kept by its manager's staff (基金管理人) and by the
government of the fund's region subtree (the 财政 / 发改 / 经信 agencies
that sponsor guidance funds); platform admins may do anything.
"""

from __future__ import annotations

from chanrong.core.scope import ScopeKind, scope_of


def can_create(actor, *, manager_id: int | None, region_code: str) -> bool:
    scope = scope_of(actor)
    if scope.kind == ScopeKind.PLATFORM:
        return True
    if scope.kind == ScopeKind.INSTITUTION:
        return manager_id is not None and manager_id == scope.institution_id
    if scope.kind == ScopeKind.GOVERNMENT:
        return region_code.startswith(scope.region_prefix)
    return False


def can_keep(actor, fund) -> bool:
    """Edit the fund and record or exit its investments."""
    return can_create(actor, manager_id=fund.manager_id, region_code=fund.region_id)


def can_view_stats(actor) -> bool:
    """The equity statistics: government, platform admins and fund managers
    (institutions that manage at least one fund)."""
    scope = scope_of(actor)
    if scope.kind in (ScopeKind.PLATFORM, ScopeKind.GOVERNMENT):
        return True
    if scope.kind == ScopeKind.INSTITUTION:
        from .models import Fund

        return Fund.objects.filter(manager_id=scope.institution_id).exists()
    return False


def can_see_matches(actor, fund) -> bool:
    """A fund's ranked equity demands: those who keep the fund."""
    return can_keep(actor, fund)
