"""What organisation, and which part of the country, a user acts for.

Each model family's `visible_to(user)` starts from this one description, so
the visibility rule is written once per family and never in a view.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ScopeKind(StrEnum):
    NONE = "none"
    PLATFORM = "platform"
    ENTERPRISE = "enterprise"
    INSTITUTION = "institution"
    GOVERNMENT = "government"


@dataclass(frozen=True)
class Scope:
    kind: ScopeKind
    enterprise_id: int | None = None
    institution_id: int | None = None
    agency_id: int | None = None
    # Government: every region whose code starts with this ("" = the whole country).
    region_prefix: str = ""


def scope_of(user) -> Scope:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope(ScopeKind.NONE)
    if user.is_platform_admin:
        return Scope(ScopeKind.PLATFORM)
    if user.is_enterprise_user and user.enterprise_id:
        return Scope(ScopeKind.ENTERPRISE, enterprise_id=user.enterprise_id)
    if user.is_institution_user and user.institution_id:
        return Scope(ScopeKind.INSTITUTION, institution_id=user.institution_id)
    if user.is_government_user and user.agency_id:
        return Scope(
            ScopeKind.GOVERNMENT,
            agency_id=user.agency_id,
            region_prefix=user.agency.region_prefix,
        )
    return Scope(ScopeKind.NONE)
