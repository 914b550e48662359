"""Who may do what with programmes, loans and applications.

Plain predicates over (actor, object), used by the transition tables in
workflows.py and by the services; never by views directly.
"""

from __future__ import annotations

from chanrong.accounts.models import AgencyFunction, Role
from chanrong.core.scope import ScopeKind, scope_of

#: Agencies that run subsidy programmes: 财政 pays, 工信 is the usual 主管部门.
PROGRAMME_FUNCTIONS = (AgencyFunction.FINANCE, AgencyFunction.INDUSTRY)


def _covers(actor, region_code: str) -> bool:
    scope = scope_of(actor)
    return scope.kind == ScopeKind.GOVERNMENT and region_code.startswith(scope.region_prefix)


def can_manage_programmes(actor) -> bool:
    """A 财政 or 工信 agency's administrator (or the platform admin)."""
    scope = scope_of(actor)
    if scope.kind == ScopeKind.PLATFORM:
        return True
    return (
        scope.kind == ScopeKind.GOVERNMENT
        and actor.role == Role.GOV_ADMIN
        and actor.agency.function in PROGRAMME_FUNCTIONS
    )


def can_manage_programme(actor, programme) -> bool:
    if scope_of(actor).kind == ScopeKind.PLATFORM:
        return True
    return can_manage_programmes(actor) and _covers(actor, programme.region_id)


def can_verify(actor, application) -> bool:
    """初审: a 工信 or 财政 official (staff or admin) whose region covers the
    programme's."""
    scope = scope_of(actor)
    return (
        scope.kind == ScopeKind.GOVERNMENT
        and actor.agency.function in PROGRAMME_FUNCTIONS
        and _covers(actor, application.programme.region_id)
    )


def can_approve(actor, application) -> bool:
    """财政复核 and payment: a 财政 official covering the programme's region,
    and not the person who did the 初审 (four eyes)."""
    scope = scope_of(actor)
    return (
        scope.kind == ScopeKind.GOVERNMENT
        and actor.agency.function == AgencyFunction.FINANCE
        and _covers(actor, application.programme.region_id)
        and actor.pk != application.verified_by_id
    )


def can_pay(actor, application) -> bool:
    scope = scope_of(actor)
    return (
        scope.kind == ScopeKind.GOVERNMENT
        and actor.agency.function == AgencyFunction.FINANCE
        and _covers(actor, application.programme.region_id)
    )


def can_reject(actor, application) -> bool:
    return can_verify(actor, application)


def is_applicant(actor, application) -> bool:
    scope = scope_of(actor)
    if application.enterprise_id is not None:
        return (
            scope.kind == ScopeKind.ENTERPRISE and scope.enterprise_id == application.enterprise_id
        )
    return (
        scope.kind == ScopeKind.INSTITUTION and scope.institution_id == application.institution_id
    )


def is_lender(actor, application) -> bool:
    """The bank whose loan the application is on (it confirms the facts)."""
    scope = scope_of(actor)
    return (
        scope.kind == ScopeKind.INSTITUTION
        and application.loan_id is not None
        and scope.institution_id == application.loan.institution_id
    )


def can_confirm_loan(actor, loan) -> bool:
    scope = scope_of(actor)
    return scope.kind == ScopeKind.INSTITUTION and scope.institution_id == loan.institution_id


def can_use_demand_loan(actor, demand) -> bool:
    """Who may turn a disbursed platform demand into a policy loan: the
    borrowing enterprise, the lending institution, the agencies of the
    borrower's region and the platform admin (`actor` None is the platform
    itself: 政策找人, the demo)."""
    if actor is None:
        return True
    scope = scope_of(actor)
    if scope.kind == ScopeKind.PLATFORM:
        return True
    if scope.kind == ScopeKind.ENTERPRISE:
        return scope.enterprise_id == demand.enterprise_id
    if scope.kind == ScopeKind.INSTITUTION:
        return scope.institution_id == demand.outcome_institution_id
    if scope.kind == ScopeKind.GOVERNMENT:
        return demand.enterprise.region_id.startswith(scope.region_prefix)
    return False
