"""Industry chains (产业链): who keeps them, their members, their 一链一策 measures.

A chain is kept either by a government agency (for the chains of its
region: 链长制) or by its 链主 for its own chain (its suppliers and dealers).
The keeper adds and removes members and appends measures; every change is
audited. Membership is plain data that product eligibility and statistics
read (`memberships`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from chanrong.accounts.models import GovernmentAgency
from chanrong.core import audit, notify
from chanrong.core.errors import Conflict, FieldError, NotAllowed, ValidationFailed
from chanrong.core.models import Industry, Region
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.registry.models import Enterprise

from ..models import Chain, ChainKeeper, ChainMeasure, ChainMember, MemberRole
from ..permissions import can_keep_chain
from .common import enterprise_users, read_choice, read_day, read_enterprise, read_text, today_or


def _read_region(raw: Any, errors: list[FieldError], *, default: str | None) -> Region | None:
    code = str(raw or default or "").strip()
    if not code:
        errors.append(FieldError("region", _("必填")))
        return None
    region = Region.objects.filter(code=code).first()
    if region is None:
        errors.append(FieldError("region", _("无效的行政区划代码：%(c)s") % {"c": code[:12]}))
    return region


def _read_industry(raw: Any, errors: list[FieldError]) -> Industry | None:
    code = str(raw or "").strip().upper()
    if not code:
        return None
    industry = Industry.objects.filter(code=code).first()
    if industry is None:
        errors.append(FieldError("industry", _("无效的国民经济行业代码：%(c)s") % {"c": code[:8]}))
    return industry


def create_chain(actor, data: dict[str, Any]) -> Chain:
    """A new chain. An agency official creates one its agency keeps, in its
    region's subtree; an enterprise user one its enterprise keeps as 链主
    (in the enterprise's region unless another is given); a platform admin
    creates one for an agency ("agency", kept by it, in its subtree, by
    default in its region; the 链主 "lead" optional) or for a 链主 alone
    ("lead", kept by the enterprise). "industry" (GB/T 4754 code) is
    optional for all. A chain's name is unique in its region (409)."""
    scope = scope_of(actor)
    errors: list[FieldError] = []
    name = read_text(data.get("name"), "name", errors, limit=100, required=True)
    description = read_text(
        data.get("description"), "description", errors, limit=5000, required=False
    )
    industry = _read_industry(data.get("industry"), errors)
    lead: Enterprise | None = None
    agency: GovernmentAgency | None = None
    if scope.kind == ScopeKind.GOVERNMENT:
        agency = actor.agency
        kept_by = ChainKeeper.AGENCY
        if data.get("lead") not in (None, ""):
            lead = read_enterprise(data.get("lead"), "lead", errors)
        region = _read_region(data.get("region"), errors, default=agency.region_id)
        if region is not None and not region.code.startswith(scope.region_prefix):
            errors.append(FieldError("region", _("只能在本部门辖区内建立产业链")))
    elif scope.kind == ScopeKind.ENTERPRISE:
        lead = Enterprise.objects.get(pk=scope.enterprise_id)
        kept_by = ChainKeeper.CORE
        region = _read_region(data.get("region"), errors, default=lead.region_id)
    elif scope.kind == ScopeKind.PLATFORM:
        if data.get("agency") not in (None, ""):
            raw = data.get("agency")
            agency = raw if isinstance(raw, GovernmentAgency) else None
            if agency is None and str(raw).strip().isdigit():
                agency = GovernmentAgency.objects.filter(pk=int(str(raw).strip())).first()
            kept_by = ChainKeeper.AGENCY
            if data.get("lead") not in (None, ""):
                lead = read_enterprise(data.get("lead"), "lead", errors)
            if agency is None:
                errors.append(FieldError("agency", _("无效的政府部门")))
                region = None
            else:
                region = _read_region(data.get("region"), errors, default=agency.region_id)
                if region is not None and not region.code.startswith(agency.region_prefix):
                    errors.append(FieldError("region", _("产业链应在维护部门的辖区内")))
        else:
            lead = read_enterprise(data.get("lead"), "lead", errors)
            kept_by = ChainKeeper.CORE
            region = _read_region(
                data.get("region"), errors, default=getattr(lead, "region_id", None)
            )
    else:
        raise NotAllowed(_("只有政府部门或链主企业可以建立产业链"))
    if errors:
        raise ValidationFailed(errors)
    duplicate = Conflict(
        _("%(r)s 已有名为「%(n)s」的产业链") % {"r": region.name, "n": name}, code="chain_exists"
    )
    if Chain.objects.filter(region=region, name=name).exists():
        raise duplicate
    try:
        with transaction.atomic():
            chain = Chain.objects.create(
                name=name,
                region=region,
                lead=lead,
                kept_by=kept_by,
                agency=agency,
                industry=industry,
                description=description,
                created_by=actor,
            )
            audit.record(
                "supplychain.chain.create",
                actor=actor,
                obj=chain,
                changes={
                    "name": name,
                    "region": region.code,
                    "lead": lead.name if lead else None,
                    "kept_by": kept_by,
                    "agency": agency.name if agency else None,
                    "industry": industry.code if industry else None,
                },
            )
    except IntegrityError as exc:
        if "chain_unique_name_in_region" in str(exc) or "supplychain_chain.region_id" in str(exc):
            raise duplicate from exc
        raise
    return chain


def add_member(actor, chain: Chain, data: dict[str, Any]) -> ChainMember:
    """Put an enterprise on the chain as a supplier or dealer of tier 1–3.
    Only the chain's keeper (403); the 链主 itself is not a member (422); an
    enterprise is on a chain once (409)."""
    if not can_keep_chain(actor, chain):
        raise NotAllowed(_("只有产业链的维护方可以调整成员"))
    errors: list[FieldError] = []
    enterprise = read_enterprise(data.get("enterprise"), "enterprise", errors)
    role = read_choice(data.get("role"), "role", errors, MemberRole)
    tier = _read_tier(data.get("tier"), errors)
    if enterprise is not None and enterprise.pk == chain.lead_id:
        errors.append(FieldError("enterprise", _("链主企业不作为本链成员登记")))
    if errors:
        raise ValidationFailed(errors)
    already = Conflict(
        _("%(e)s 已在产业链「%(c)s」中") % {"e": enterprise.name, "c": chain.name},
        code="member_exists",
    )
    if ChainMember.objects.filter(chain=chain, enterprise=enterprise).exists():
        raise already
    try:
        with transaction.atomic():
            member = ChainMember.objects.create(
                chain=chain, enterprise=enterprise, role=role, tier=tier, added_by=actor
            )
            audit.record(
                "supplychain.chain.add_member",
                actor=actor,
                obj=chain,
                changes={"enterprise": enterprise.name, "role": role, "tier": tier},
            )
            notify.send(
                enterprise_users(enterprise.pk),
                "supplychain.chain.member",
                _("贵企业已列入产业链「%(c)s」，%(tier)s级%(role)s")
                % {"c": chain.name, "tier": tier, "role": MemberRole(role).label},
            )
    except IntegrityError as exc:
        if "chain_member_once" in str(exc) or "supplychain_chainmember.chain_id" in str(exc):
            raise already from exc
        raise
    return member


def _read_tier(raw: Any, errors: list[FieldError]) -> int | None:
    try:
        tier = int(str(raw).strip())
    except (TypeError, ValueError):
        errors.append(FieldError("tier", _("层级应为 1、2 或 3")))
        return None
    if tier not in (1, 2, 3) or isinstance(raw, bool):
        errors.append(FieldError("tier", _("层级应为 1、2 或 3")))
        return None
    return tier


def remove_member(actor, member: ChainMember) -> None:
    """Take an enterprise off the chain (the keeper only; audited)."""
    chain = member.chain
    if not can_keep_chain(actor, chain):
        raise NotAllowed(_("只有产业链的维护方可以调整成员"))
    with transaction.atomic():
        audit.record(
            "supplychain.chain.remove_member",
            actor=actor,
            obj=chain,
            changes={
                "enterprise": member.enterprise.name,
                "role": member.role,
                "tier": member.tier,
            },
        )
        member.delete()


def add_measure(
    actor, chain: Chain, data: dict[str, Any], *, today: date | None = None
) -> ChainMeasure:
    """Append a 一链一策 measure (dated text). Measures are never rewritten:
    a change of policy is a new dated entry, so what applied when stays
    readable."""
    if not can_keep_chain(actor, chain):
        raise NotAllowed(_("只有产业链的维护方可以发布一链一策措施"))
    errors: list[FieldError] = []
    issued_on = read_day(data.get("issued_on"), "issued_on", errors, default=today_or(today))
    text = read_text(data.get("text"), "text", errors, limit=5000, required=True)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        measure = ChainMeasure.objects.create(
            chain=chain, issued_on=issued_on, text=text, created_by=actor
        )
        audit.record(
            "supplychain.chain.add_measure",
            actor=actor,
            obj=chain,
            changes={"issued_on": issued_on, "text": text[:200]},
        )
    return measure


def memberships(enterprise_id: int) -> QuerySet[ChainMember]:
    """The chains an enterprise is on, with role and tier (for product
    eligibility and statistics; not scoped to a viewer)."""
    return ChainMember.objects.filter(enterprise_id=enterprise_id).select_related("chain")
