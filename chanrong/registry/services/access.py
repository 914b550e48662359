"""Who may register, edit and see an enterprise.

The enterprise itself, government in whose region subtree it lies, and
platform admins may edit it; only government users and platform admins
register new ones. Profiles, qualifications, projects and operating data
defer to the same rule, so it lives below all of them.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from chanrong.core.errors import NotFound
from chanrong.core.scope import ScopeKind, scope_of

from ..models import Enterprise


def can_create_enterprise(actor) -> bool:
    scope = scope_of(actor)
    return scope.kind == ScopeKind.PLATFORM or (
        scope.kind == ScopeKind.GOVERNMENT and actor.is_government_user
    )


def can_edit_enterprise(actor, enterprise: Enterprise) -> bool:
    scope = scope_of(actor)
    if scope.kind == ScopeKind.PLATFORM:
        return True
    if scope.kind == ScopeKind.ENTERPRISE:
        return scope.enterprise_id == enterprise.pk
    if scope.kind == ScopeKind.GOVERNMENT:
        return enterprise.region_id.startswith(scope.region_prefix)
    return False


def get_visible_enterprise(actor, pk: int) -> Enterprise:
    enterprise = Enterprise.objects.visible_to(actor).filter(pk=pk).first()
    if enterprise is None:
        raise NotFound(_("企业不存在"))
    return enterprise
