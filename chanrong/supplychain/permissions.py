"""Who may do what with chains, receivables, financing and vouchers.

Plain predicates over (actor, object), used by the transition tables in
workflows.py and by the services; never by views directly.
"""

from __future__ import annotations

from chanrong.core.scope import ScopeKind, scope_of


def enterprise_of(actor) -> int | None:
    scope = scope_of(actor)
    return scope.enterprise_id if scope.kind == ScopeKind.ENTERPRISE else None


def is_platform(actor) -> bool:
    return scope_of(actor).kind == ScopeKind.PLATFORM


def is_system(actor) -> bool:
    """A periodic job (no actor) or a platform admin."""
    return actor is None or is_platform(actor)


# --- chains ----------------------------------------------------------------------------


def can_keep_chain(actor, chain) -> bool:
    """The keeping agency's officials whose region covers the chain's (or
    the 链主's own users, for a chain it keeps), and platform admins."""
    scope = scope_of(actor)
    if scope.kind == ScopeKind.PLATFORM:
        return True
    if chain.kept_by == "agency":
        return scope.kind == ScopeKind.GOVERNMENT and scope.agency_id == chain.agency_id
    return scope.kind == ScopeKind.ENTERPRISE and scope.enterprise_id == chain.lead_id


# --- receivables -----------------------------------------------------------------------


def is_creditor(actor, receivable) -> bool:
    return enterprise_of(actor) == receivable.creditor_id


def is_debtor(actor, receivable) -> bool:
    """The debtor's own users: an enterprise user whose enterprise carries
    the debtor's USCC, or (政采) an official of the purchasing agency."""
    scope = scope_of(actor)
    if receivable.purchaser_agency_id is not None:
        return (
            scope.kind == ScopeKind.GOVERNMENT and scope.agency_id == receivable.purchaser_agency_id
        )
    if scope.kind != ScopeKind.ENTERPRISE:
        return False
    if receivable.debtor_id is not None:
        return scope.enterprise_id == receivable.debtor_id
    return bool(receivable.debtor_uscc) and actor.enterprise.uscc == receivable.debtor_uscc


# --- banks -----------------------------------------------------------------------------


def bank_of(actor) -> int | None:
    """The institution an actor acts for, when it is a bank (银行); only banks
    finance receivables and discount vouchers here."""
    scope = scope_of(actor)
    if scope.kind != ScopeKind.INSTITUTION:
        return None
    from chanrong.finance.models import InstitutionKind

    return scope.institution_id if actor.institution.kind == InstitutionKind.BANK else None


def is_bank(actor, obj=None) -> bool:
    return bank_of(actor) is not None


def is_financing_bank(actor, financing) -> bool:
    return bank_of(actor) == financing.bank_id


# --- vouchers --------------------------------------------------------------------------


def is_holder(actor, voucher) -> bool:
    return enterprise_of(actor) == voucher.holder_id


def is_issuer(actor, voucher) -> bool:
    return enterprise_of(actor) == voucher.issuer_id


# --- discount applications -------------------------------------------------------------


def is_chosen_bank(actor, application) -> bool:
    """A user of the bank the holder applied to."""
    return bank_of(actor) == application.bank_id


def is_applicant(actor, application) -> bool:
    return enterprise_of(actor) == application.holder_id


# --- attachments -----------------------------------------------------------------------


def may_attach(actor, receivable) -> bool:
    """Only the creditor attaches its receivable's documents."""
    return is_creditor(actor, receivable)
