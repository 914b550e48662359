"""Who may see and do what in 互联互通: the platform admin manages peers,
codes and sending; government users see the delivery logs and received
figures of their region's subtree (`visible_to` on each model); nobody
else sees any of it (404)."""

from __future__ import annotations

from chanrong.core.scope import ScopeKind, scope_of


def may_view(user) -> bool:
    return scope_of(user).kind in (ScopeKind.PLATFORM, ScopeKind.GOVERNMENT)


def may_manage(user) -> bool:
    return scope_of(user).kind == ScopeKind.PLATFORM
