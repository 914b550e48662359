"""Who may do what on the public side: plain predicates over (actor, object),
used by the transition tables in workflows.py and by the services.

- Articles and FAQ entries are kept by government staff for their region's
  subtree (an agency's region; a national agency everywhere) and by
  platform admins.
- A consultation is answered, published and closed only by its addressee:
  the staff of the addressed agency or institution, platform admins for
  questions to the platform. Government staff reassign a question still
  waiting for an answer between agencies of their region's subtree;
  platform admins reassign any.
"""

from __future__ import annotations

from chanrong.core.scope import ScopeKind, scope_of

from .models import AddresseeKind


def _in_region(actor, region_id: str | None) -> bool:
    scope = scope_of(actor)
    if scope.kind == ScopeKind.PLATFORM:
        return True
    if scope.kind != ScopeKind.GOVERNMENT:
        return False
    if not scope.region_prefix:
        return True
    return bool(region_id) and region_id.startswith(scope.region_prefix)


def may_edit(actor, obj) -> bool:
    """Edit, publish or withdraw an article or FAQ entry."""
    return _in_region(actor, obj.region_id)


def may_write(actor) -> bool:
    return scope_of(actor).kind in (ScopeKind.PLATFORM, ScopeKind.GOVERNMENT)


def is_addressee(actor, consultation) -> bool:
    scope = scope_of(actor)
    kind = consultation.addressee_kind
    if kind == AddresseeKind.PLATFORM:
        return scope.kind == ScopeKind.PLATFORM
    if kind == AddresseeKind.AGENCY:
        return scope.kind == ScopeKind.GOVERNMENT and scope.agency_id == consultation.agency_id
    return (
        scope.kind == ScopeKind.INSTITUTION and scope.institution_id == consultation.institution_id
    )


def may_reassign(actor, consultation) -> bool:
    scope = scope_of(actor)
    if scope.kind == ScopeKind.PLATFORM:
        return True
    if consultation.addressee_kind != AddresseeKind.AGENCY:
        return False
    return _in_region(actor, consultation.agency.region_id if consultation.agency else None) or (
        scope.agency_id == consultation.agency_id
    )


def may_answer_queue(actor) -> bool:
    """Has a consultation queue at all (the menu entry)."""
    return scope_of(actor).kind in (
        ScopeKind.PLATFORM,
        ScopeKind.GOVERNMENT,
        ScopeKind.INSTITUTION,
    )
