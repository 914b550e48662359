"""The enterprise's side of a demand: validate, create and edit a draft,
withdraw it (cancelling its live dispatches), and let institutions see the
enterprise's profile (registry keeps the authorisation record).

Each service that touches a demand locks the demand's row first and only
then its dispatches, always in that order, so concurrent requests queue
instead of deadlocking.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import audit, bulkinsert
from chanrong.core.errors import Conflict, FieldError, NotAllowed, ValidationFailed
from chanrong.core.lookups import KeyLookup
from chanrong.finance import eligibility as el
from chanrong.finance.models import CollateralKind, FinancialInstitution
from chanrong.registry import services as registry_services
from chanrong.registry.models import DataAuthorisation, Enterprise, Project

from .. import signals as demand_signals
from .. import workflows
from ..models import LIVE_DISPATCH_STATES, Demand, DemandKind, DemandState, Urgency
from .access import can_create_demand
from .common import (
    _Event,
    _move,
    _notify,
    enterprise_users,
    institution_users,
    share_enterprise,
)
from .parsing import (
    MAX_ID,
    MAX_PREFERRED,
    MAX_TERM_MONTHS,
    _amount,
    _choice,
    _code_list,
    _int,
    _rate,
    _text,
)

EDITABLE_FIELDS = (
    "kind",
    "amount_wan",
    "term_months",
    "purpose",
    "description",
    "rate_max",
    "collateral_offered",
    "urgency",
    "preferred_institution_ids",
    "share_profile",
    "project_id",
)


def clean_demand_data(data: dict[str, Any], *, enterprise_id: int | None = None) -> dict[str, Any]:
    """Validate a complete demand input; raise ValidationFailed per bad field.
    A linked project must be one of `enterprise_id`'s own projects."""
    errors: list[FieldError] = []
    out: dict[str, Any] = {}
    kind = _choice(data.get("kind")) or ""
    if not kind:
        errors.append(FieldError("kind", _("必填")))
    elif kind not in DemandKind.values:
        errors.append(FieldError("kind", _("未知的融资类型：%(kind)s") % {"kind": kind}))
    out["kind"] = kind
    out["amount"] = _amount(data.get("amount_wan"), "amount_wan", errors, required=True)
    out["term_months"] = _int(
        data.get("term_months"), "term_months", errors, 1, MAX_TERM_MONTHS,
        _("期限应为 1–%(n)s 个月") % {"n": MAX_TERM_MONTHS},
    )  # fmt: skip
    purpose = _text(data.get("purpose"))
    if not purpose:
        errors.append(FieldError("purpose", _("必填")))
    elif not 2 <= len(purpose) <= 200:
        errors.append(FieldError("purpose", _("资金用途应为 2–200 个字符")))
    out["purpose"] = purpose
    description = str(data.get("description") or "").strip()
    if len(description) > 5000:
        errors.append(FieldError("description", _("补充说明最多 5000 个字符")))
    out["description"] = description
    out["rate_max"] = _rate(data.get("rate_max"), "rate_max", errors)
    collateral = _code_list(data.get("collateral_offered"))
    bad = [c for c in collateral if c not in CollateralKind.values]
    if bad:
        errors.append(
            FieldError("collateral_offered", _("未知的抵质押物类型：%(c)s") % {"c": "、".join(bad)})
        )
    out["collateral_offered"] = collateral
    urgency = _choice(data.get("urgency")) or Urgency.NORMAL
    if urgency not in Urgency.values:
        errors.append(FieldError("urgency", _("未知的紧急程度：%(u)s") % {"u": urgency}))
    out["urgency"] = urgency
    preferred_raw = _code_list(data.get("preferred_institution_ids"))
    preferred: list[int] = []
    for item in preferred_raw:
        try:
            number = int(item)
            if not 0 < number <= MAX_ID:
                raise ValueError
            preferred.append(number)
        except (TypeError, ValueError):
            errors.append(FieldError("preferred_institution_ids", _("应为金融机构编号")))
            break
    if len(preferred) > MAX_PREFERRED:
        errors.append(
            FieldError(
                "preferred_institution_ids", _("意向机构最多 %(n)s 家") % {"n": MAX_PREFERRED}
            )
        )
    elif preferred:
        found = set(
            FinancialInstitution.objects.filter(pk__in=preferred).values_list("pk", flat=True)
        )
        missing = [str(p) for p in preferred if p not in found]
        if missing:
            errors.append(
                FieldError(
                    "preferred_institution_ids",
                    _("金融机构不存在：%(ids)s") % {"ids": "、".join(missing)},
                )
            )
    out["preferred_institution_ids"] = preferred
    out["project_id"] = _project(data.get("project_id"), enterprise_id, errors)
    out["share_profile"] = bool(data.get("share_profile"))
    if errors:
        raise ValidationFailed(errors)
    return out


def _project(value: Any, enterprise_id: int | None, errors: list[FieldError]) -> int | None:
    if value in (None, ""):
        return None
    try:
        pk = int(value)
        if not 0 < pk <= MAX_ID:
            raise ValueError
    except (TypeError, ValueError):
        errors.append(FieldError("project_id", _("应为项目编号")))
        return None
    if not Project.objects.filter(pk=pk, owner_id=enterprise_id).exists():
        errors.append(FieldError("project_id", _("项目不存在，或不是本企业的项目")))
        return None
    return pk


def demand_input(demand: Demand, preferred: list[int] | None = None) -> dict[str, Any]:
    """The demand as input for `clean_demand_data`. `preferred`: the
    preferred institutions' pks when the caller knows them (else read)."""
    if preferred is None:
        preferred = demand.preferred_institutions.values_list("pk", flat=True)
    return {
        "kind": demand.kind,
        "amount_wan": demand.amount / Decimal(10000),
        "term_months": demand.term_months,
        "purpose": demand.purpose,
        "description": demand.description,
        "rate_max": demand.rate_max,
        "collateral_offered": list(demand.collateral_offered or []),
        "urgency": demand.urgency,
        "preferred_institution_ids": sorted(set(preferred)),
        "share_profile": demand.share_profile,
        "project_id": demand.project_id,
    }


def _snapshot(demand: Demand, preferred: list[int] | None = None) -> dict[str, Any]:
    """What the audit log compares. `preferred`: the preferred institutions'
    pks when the caller has just set them (else they are read)."""
    values = demand_input(demand, preferred)
    values["amount"] = demand.amount
    values.pop("amount_wan")
    values["state"] = demand.state
    return values


# --- create / edit -----------------------------------------------------------------------

#: The creating user's enterprise, with what the audit text and the API
#: answer name; the same SQL for everyone (one shape).
_ENTERPRISE = KeyLookup(
    lambda _context, pk: Enterprise.objects.select_related(
        "region__parent__parent", "industry"
    ).filter(pk=pk),
    int,
    size=1,
)


def create_demand(actor, data: dict[str, Any]) -> Demand:
    if not can_create_demand(actor):
        raise NotAllowed(_("只有企业用户可以发布融资需求"))
    values = clean_demand_data(data, enterprise_id=actor.enterprise_id)
    preferred = values.pop("preferred_institution_ids")
    # The enterprise with its region chain (the audit text and the API answer
    # name them): one query instead of four, compiled once per thread.
    enterprise = _ENTERPRISE.get("enterprise", None, actor.enterprise_id)
    if enterprise is None:
        raise Enterprise.DoesNotExist(f"no enterprise {actor.enterprise_id}")
    share_enterprise(actor, enterprise)
    with transaction.atomic():
        demand = Demand(enterprise=enterprise, created_by=actor, **values)
        bulkinsert.create(demand)  # an INSERT planned once, not compiled each time
        if preferred:
            demand.preferred_institutions.set(preferred)
        demand.keep_preferred_ids(preferred)
        audit.record(
            "demand.create",
            actor=actor,
            obj=demand,
            changes=audit.diff({}, _snapshot(demand, preferred)),
        )
        # No `demands_changed`: a new draft has no matches to refresh
        # (matching stores them for open demands only); publishing sends it.
        _notify(demand, "demand.create", _("企业创建了融资需求（草稿）"), actor=actor)
    return demand


def update_demand(actor, demand: Demand, data: dict[str, Any]) -> Demand:
    """Edit a draft. Partial input is merged with the current values and
    the whole is validated."""
    if not workflows.is_owner(actor, demand):
        raise NotAllowed(_("无权修改该融资需求"))
    with transaction.atomic():
        locked = Demand.objects.select_for_update().get(pk=demand.pk)
        if locked.state != DemandState.DRAFT:
            raise Conflict(
                _("需求当前为「%(state)s」，只有草稿可以修改")
                % {"state": locked.get_state_display()},
                code="invalid_state",
            )
        unknown = sorted(set(data) - set(EDITABLE_FIELDS))
        if unknown:
            raise ValidationFailed({key: _("不允许的字段") for key in unknown})
        values = clean_demand_data(
            {**demand_input(locked), **data}, enterprise_id=locked.enterprise_id
        )
        preferred = values.pop("preferred_institution_ids")
        before = _snapshot(locked)
        for key, value in values.items():
            setattr(locked, key, value)
        locked.save()
        locked.preferred_institutions.set(preferred)
        locked.keep_preferred_ids(preferred)
        demand_signals.demands_changed.send_after_commit([locked.pk])
        changes = audit.diff(before, _snapshot(locked))
        if changes:
            audit.record("demand.update", actor=actor, obj=locked, changes=changes)
    return locked


def demand_facts(demand: Demand) -> el.DemandFacts:
    return el.DemandFacts(
        kind=demand.kind,
        amount=demand.amount,
        term_months=demand.term_months,
        rate_max=demand.rate_max,
        collateral_offered=tuple(demand.collateral_offered or ()),
    )


# --- enterprise: withdraw, authorise, feedback ------------------------------------------------


def withdraw_demand(actor, demand: Demand, reason: str = "") -> Demand:
    reason = _text(reason)
    if len(reason) > 500:
        raise ValidationFailed({"reason": _("最多 500 个字符")})
    with transaction.atomic():
        locked = Demand.objects.select_for_update().get(pk=demand.pk)
        _move(
            workflows.DEMAND, locked, "withdraw", actor,
            changes={"withdraw_reason": reason, "closed_at": timezone.now()},
            event=_Event(
                _("企业撤回了融资需求") + (_("：%(r)s") % {"r": reason} if reason else ""),
                enterprise_users(locked),
            ),
        )  # fmt: skip
        for other in (
            locked.dispatches.select_for_update()
            .filter(state__in=LIVE_DISPATCH_STATES)
            .order_by("pk")
        ):
            _move(
                workflows.DISPATCH, other, "cancel", actor,
                event=_Event(
                    _("企业已撤回该融资需求，派单取消"),
                    institution_users(other.institution_id, other.branch_id),
                    institution_id=other.institution_id,
                    private=True,
                ),
            )  # fmt: skip
    demand.refresh_from_db()
    return demand


def authorise_institution(
    actor, demand: Demand, institution: FinancialInstitution
) -> DataAuthorisation:
    """Let an institution see the enterprise's profile (registry's rule and record)."""
    if not workflows.is_owner(actor, demand):
        raise NotAllowed(_("只有企业本身可以授权"))
    with transaction.atomic():
        grant = registry_services.authorise_institution(actor, demand.enterprise, institution)
        _notify(
            demand, "demand.authorise",
            _("企业已授权 %(name)s 查看企业信息") % {"name": institution},
            actor=actor, recipients=institution_users(institution.pk),
            institution_id=institution.pk,
        )  # fmt: skip
    return grant


def revoke_institution(actor, demand: Demand, institution: FinancialInstitution) -> None:
    if not workflows.is_owner(actor, demand):
        raise NotAllowed(_("只有企业本身可以撤销授权"))
    grant = DataAuthorisation.objects.filter(
        enterprise_id=demand.enterprise_id, institution=institution, revoked_at__isnull=True
    ).first()
    if grant is None:
        return
    with transaction.atomic():
        registry_services.revoke_authorisation(actor, grant)
        _notify(
            demand, "demand.revoke",
            _("企业已撤销 %(name)s 查看企业信息的授权") % {"name": institution},
            actor=actor, recipients=institution_users(institution.pk),
            institution_id=institution.pk,
        )  # fmt: skip


def authorised_institution_ids(demand: Demand) -> set[int]:
    return set(
        DataAuthorisation.objects.filter(
            enterprise_id=demand.enterprise_id, revoked_at__isnull=True
        ).values_list("institution_id", flat=True)
    )
