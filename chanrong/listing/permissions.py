"""Who may do what with listing pipelines: plain predicates over (actor,
object), used by the transition table in workflows.py and by the services.

- government staff whose region's subtree holds the enterprise (and
  platform admins) open pipelines, record every stage and withdraw them;
- an enterprise opens its own 孵化 application and may withdraw it while
  it is still at 孵化; every later stage is recorded by government.
"""

from __future__ import annotations

from chanrong.core.scope import ScopeKind, scope_of

from .models import Stage


def is_regional_official(actor, enterprise) -> bool:
    scope = scope_of(actor)
    if scope.kind == ScopeKind.PLATFORM:
        return True
    return scope.kind == ScopeKind.GOVERNMENT and enterprise.region_id.startswith(
        scope.region_prefix
    )


def is_own_enterprise(actor, enterprise) -> bool:
    scope = scope_of(actor)
    return scope.kind == ScopeKind.ENTERPRISE and scope.enterprise_id == enterprise.pk


def may_open(actor, enterprise) -> bool:
    return is_regional_official(actor, enterprise) or is_own_enterprise(actor, enterprise)


def may_advance(actor, pipeline) -> bool:
    return is_regional_official(actor, pipeline.enterprise)


def may_withdraw(actor, pipeline) -> bool:
    if is_regional_official(actor, pipeline.enterprise):
        return True
    return pipeline.stage == Stage.INCUBATION and is_own_enterprise(actor, pipeline.enterprise)


def may_view_stats(actor) -> bool:
    return scope_of(actor).kind in (ScopeKind.PLATFORM, ScopeKind.GOVERNMENT)
