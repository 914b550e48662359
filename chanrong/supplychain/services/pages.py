"""What the web pages ask of the supply-chain app besides the actions: who
may act on what (so a page shows only the forms its user may use — the
services still decide), the lists each role works from, and an object's
history from the audit log.

Every list starts from the family's `visible_to(user)`; the narrowing here
(awaiting my confirmation, still financeable) is about the object's state
and the user's part in it, never about visibility. The one addition is
`vouchers_offered`: a bank sees through `Voucher.visible_to` only the nodes
discounted with it, yet must find the held nodes it may discount — those of
holders that authorised it, the same consent `Receivable.visible_to` uses to
offer confirmed receivables to a bank.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q, QuerySet

from chanrong.core.models import AuditEntry
from chanrong.core.scope import ScopeKind, scope_of

from .. import permissions as p
from ..models import (
    Chain,
    ChainMember,
    Financing,
    Receivable,
    ReceivableState,
    Voucher,
    VoucherState,
)
from .common import is_listed_core, today_or


def can_keep_chain(user, chain: Chain) -> bool:
    """Whether the user keeps the chain (adds members and measures)."""
    return p.can_keep_chain(user, chain)


def can_create_chain(user) -> bool:
    """Agencies keep the chains of their region; an enterprise its own chain
    as 链主; a platform admin creates one for an agency."""
    return scope_of(user).kind in (ScopeKind.GOVERNMENT, ScopeKind.ENTERPRISE, ScopeKind.PLATFORM)


def chain_agencies() -> list[tuple[str, str]]:
    """(id, "name（region）") of every agency a platform admin may create a chain for."""
    from chanrong.accounts.models import GovernmentAgency

    return [
        (str(pk), f"{name}（{region or '全国'}）")
        for pk, name, region in GovernmentAgency.objects.order_by("region_id", "name").values_list(
            "pk", "name", "region__name"
        )
    ]


def is_bank_user(user) -> bool:
    return p.bank_of(user) is not None


def receivable_roles(user, receivable: Receivable) -> dict[str, bool]:
    """The user's part in a receivable: creditor, debtor (confirms, issues
    vouchers) or a bank (finances)."""
    debtor = p.is_debtor(user, receivable)
    enterprise_id = p.enterprise_of(user)
    return {
        "creditor": p.is_creditor(user, receivable),
        "debtor": debtor,
        "bank": is_bank_user(user),
        "may_issue": bool(
            debtor and enterprise_id and is_listed_core(enterprise_id, today_or(None))
        ),
    }


def voucher_roles(user, voucher: Voucher) -> dict[str, bool]:
    return {
        "holder": p.is_holder(user, voucher),
        "issuer": p.is_issuer(user, voucher),
        "bank": is_bank_user(user),
    }


def financing_roles(user, financing: Financing) -> dict[str, bool]:
    return {"bank": p.is_financing_bank(user, financing)}


def awaiting_my_confirmation(user) -> QuerySet[Receivable]:
    """Receivables registered against the user's enterprise (by its USCC) or
    its agency (政采 purchasing body), waiting for 确权."""
    scope = scope_of(user)
    mine = Receivable.objects.visible_to(user).filter(state=ReceivableState.REGISTERED)
    if scope.kind == ScopeKind.ENTERPRISE:
        return mine.filter(
            Q(debtor_id=scope.enterprise_id) | Q(debtor_uscc=user.enterprise.uscc)
        ).exclude(creditor_id=scope.enterprise_id)
    if scope.kind == ScopeKind.GOVERNMENT:
        return mine.filter(purchaser_agency_id=scope.agency_id)
    return mine.none()


def my_payables(user) -> QuerySet[Receivable]:
    """Receivables where the user's enterprise is the debtor (any state)."""
    scope = scope_of(user)
    if scope.kind != ScopeKind.ENTERPRISE:
        return Receivable.objects.none()
    return Receivable.objects.visible_to(user).filter(
        Q(debtor_id=scope.enterprise_id) | Q(debtor_uscc=user.enterprise.uscc)
    )


def my_receivables(user) -> QuerySet[Receivable]:
    """The receivables the user's enterprise registered as creditor."""
    scope = scope_of(user)
    if scope.kind != ScopeKind.ENTERPRISE:
        return Receivable.objects.none()
    return Receivable.objects.visible_to(user).filter(creditor_id=scope.enterprise_id)


def financeable(user) -> QuerySet[Receivable]:
    """For a bank: confirmed receivables offered to it (the supplier
    authorised it) with an unfinanced confirmed balance left."""
    if not is_bank_user(user):
        return Receivable.objects.none()
    return (
        Receivable.objects.visible_to(user)
        .confirmed()
        .filter(confirmed_amount__gt=F("financed") + F("vouchered"))
    )


def vouchers_offered(user) -> QuerySet[Voucher]:
    """For a bank: held voucher nodes whose holder authorised it (module docstring)."""
    bank_id = p.bank_of(user)
    if bank_id is None:
        return Voucher.objects.none()
    from chanrong.registry.models import DataAuthorisation

    holders = DataAuthorisation.objects.filter(
        institution_id=bank_id, revoked_at__isnull=True
    ).values("enterprise_id")
    return Voucher.objects.filter(state=VoucherState.HELD, holder_id__in=holders)


def history(user, receivable: Receivable) -> list[dict[str, Any]]:
    """The audit entries of a receivable and of the financings and voucher
    roots on it that the user sees, oldest first (the caller has already
    checked that the receivable is visible): a bank reads its own financing's
    entries, not another bank's."""
    targets = Q(object_type=receivable._meta.label_lower, object_id=str(receivable.pk))
    financing_ids = [
        str(pk)
        for pk in Financing.objects.visible_to(user)
        .filter(receivable=receivable)
        .values_list("pk", flat=True)
    ]
    if financing_ids:
        targets |= Q(object_type=Financing._meta.label_lower, object_id__in=financing_ids)
    voucher_ids = [
        str(pk)
        for pk in Voucher.objects.visible_to(user)
        .filter(receivable=receivable, parent__isnull=True)
        .values_list("pk", flat=True)
    ]
    if voucher_ids:
        targets |= Q(object_type=Voucher._meta.label_lower, object_id__in=voucher_ids)
    out = []
    for entry in AuditEntry.objects.filter(targets).order_by("created_at", "id")[:200]:
        out.append(
            {
                "at": entry.created_at,
                "action": entry.action,
                "who": (entry.organisation or entry.actor_name or "").strip(),
                "changes": entry.changes or {},
            }
        )
    return out


def purchasing_agencies() -> list[tuple[str, str]]:
    """(id, name) of the agencies a 政采 contract may name as purchasing body."""
    from chanrong.accounts.models import GovernmentAgency

    return [
        (str(pk), name)
        for pk, name in GovernmentAgency.objects.order_by("name").values_list("pk", "name")
    ]


# --- the chain filter of the lists ------------------------------------------------------


def chain_choices(user) -> list[tuple[str, str]]:
    """(id, name) of the chains the user sees, for the lists' chain filter."""
    return [
        (str(pk), f"{name}（{region}）")
        for pk, name, region in Chain.objects.visible_to(user)
        .order_by("region_id", "name")
        .values_list("pk", "name", "region__name")
    ]


def on_chain(queryset: QuerySet, user, raw: Any, enterprise_field: str) -> QuerySet:
    """Narrow a list to one chain the user sees: the rows whose enterprise
    (`enterprise_field`: a receivable's or financing's creditor, a voucher's
    holder) is on the chain, as a member or as its 链主 — the rule the
    statistics count by (services.stats). A chain the user does not see, or
    a malformed id, gives no rows; no value, the list unchanged."""
    if raw in (None, ""):
        return queryset
    try:
        chain_id = int(str(raw))
    except ValueError:
        return queryset.none()
    chain = Chain.objects.visible_to(user).filter(pk=chain_id).first()
    if chain is None:
        return queryset.none()
    members = ChainMember.objects.filter(chain=chain).values("enterprise_id")
    on = Q(**{f"{enterprise_field}__in": members})
    if chain.lead_id is not None:
        on |= Q(**{enterprise_field: chain.lead_id})
    return queryset.filter(on)
