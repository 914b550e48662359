"""Who may report what about a loan.

Plain predicates over (actor, object), used by the transition table in
workflows.py and by the services; never by views directly.
"""

from __future__ import annotations

from chanrong.accounts.models import Role
from chanrong.core.scope import ScopeKind, scope_of


def is_lender(actor, loan) -> bool:
    """Staff or a manager of the lending institution: only the bank that made a
    loan reports on it (another bank's loan is not even visible to it)."""
    scope = scope_of(actor)
    return scope.kind == ScopeKind.INSTITUTION and scope.institution_id == loan.institution_id


def can_report_loans(actor) -> bool:
    """An institution's staff or manager may report loans of its institution."""
    return scope_of(actor).kind == ScopeKind.INSTITUTION


def can_write_off(actor, loan) -> bool:
    """核销 is a manager's decision at the lending institution."""
    return is_lender(actor, loan) and actor.role == Role.INSTITUTION_MANAGER


def can_approve_model(actor, version) -> bool:
    """A scorecard version goes live only on a government admin's approval."""
    return getattr(actor, "role", None) == Role.GOV_ADMIN


def can_refuse_model(actor, version) -> bool:
    """The AUC-floor check refuses on its own (no actor); a government admin
    may refuse a proposal too."""
    return actor is None or can_approve_model(actor, version)


def can_handle_alert(actor, alert) -> bool:
    """An agency of the enterprise's region, or an institution with a loan on
    its books to the enterprise: whoever the alert was raised for."""
    from .models import Alert

    return Alert.objects.visible_to(actor).filter(pk=alert.pk).exists()


# --- 抽贷断贷会商 ---------------------------------------------------------------------------------


def is_consultation_requester(actor, consultation) -> bool:
    """The side that asked: the requesting institution's staff, or — when the
    enterprise asked — the enterprise's users. Only it may withdraw."""
    scope = scope_of(actor)
    if consultation.requesting_institution_id:
        return (
            scope.kind == ScopeKind.INSTITUTION
            and scope.institution_id == consultation.requesting_institution_id
        )
    return scope.kind == ScopeKind.ENTERPRISE and scope.enterprise_id == consultation.enterprise_id


def is_supervising_agency(actor, consultation) -> bool:
    """A government user whose region subtree holds the enterprise: the
    agency that accepts, convenes, decides and follows up."""
    scope = scope_of(actor)
    if scope.kind != ScopeKind.GOVERNMENT:
        return False
    return consultation.enterprise.region_id.startswith(scope.region_prefix)


def is_consultation_participant(actor, consultation) -> bool:
    """Staff of an institution convened to the consultation."""
    scope = scope_of(actor)
    return (
        scope.kind == ScopeKind.INSTITUTION
        and consultation.participants.filter(institution_id=scope.institution_id).exists()
    )
