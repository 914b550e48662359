"""Registering and changing enterprises: the core fields, the USCC and the size.

One cleaner turns raw input into model values (USCC checked by
chanrong.core.codes, county-level region, industry division, headcount,
revenue and assets in 万元), the size is always computed by `compute_size`
(the 2011 classification), and each create, update or delete is audited in
its own transaction. Changes are announced with the registry's
`enterprises_changed` signal after commit.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.codes import CodeError, validate_uscc
from chanrong.core.errors import FieldError, NotAllowed, ValidationFailed
from chanrong.core.models import Industry, IndustryLevel, Region, RegionLevel
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.core.text import name_problem

from .. import signals as registry_signals
from ..models import Enterprise, FactStatus
from .access import can_create_enterprise, can_edit_enterprise
from .fields import MAX_AMOUNT_WAN, WAN
from .profile import _profile_snapshot, clean_profile_data
from .provenance import Figures, figure_flags, provenance_on_record, refuse_self_move
from .sizing import compute_size

FIGURE_FIELDS = ("employees", "revenue", "assets")

EDITABLE_FIELDS = (
    "uscc",
    "name",
    "region_code",
    "industry_code",
    "employees",
    "revenue_wan",
    "assets_wan",
)


def _decimal(value: Any, field: str, errors: list[FieldError]) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors.append(FieldError(field, _("应为数字（单位：万元）")))
        return None
    if not number.is_finite():
        errors.append(FieldError(field, _("应为有限数字")))
        return None
    if number < 0:
        errors.append(FieldError(field, _("不能为负数")))
        return None
    if number > MAX_AMOUNT_WAN:
        errors.append(FieldError(field, _("数值过大（上限 1 万亿元）")))
        return None
    return number.quantize(Decimal("0.000001"))


def clean_enterprise_data(data: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Validate raw input (API, form, import row) into model field values.

    Raises ValidationFailed with one message per bad field.
    """
    errors: list[FieldError] = []
    out: dict[str, Any] = {}
    required = () if partial else ("uscc", "name", "region_code", "industry_code")
    for key in required:
        if data.get(key) in (None, ""):
            errors.append(FieldError(key, _("必填")))
    if data.get("uscc") not in (None, ""):
        try:
            out["uscc"] = validate_uscc(str(data["uscc"]))
        except CodeError as exc:
            errors.append(FieldError("uscc", str(exc)))
    if data.get("name") not in (None, ""):
        name = " ".join(str(data["name"]).split())
        if problem := name_problem(name):  # bidi, zero-width, control (core.text)
            errors.append(FieldError("name", problem))
        elif len(name) < 2 or len(name) > 100:
            errors.append(FieldError("name", _("企业名称应为 2–100 个字符")))
        else:
            out["name"] = name
    if data.get("region_code") not in (None, ""):
        code = str(data["region_code"]).strip()
        region = Region.objects.filter(pk=code).first()
        if region is None:
            errors.append(FieldError("region_code", _("行政区划代码 %s 不存在") % code))
        elif region.level != RegionLevel.COUNTY:
            errors.append(FieldError("region_code", _("应为县级行政区划代码（6 位）")))
        else:
            out["region"] = region
    if data.get("industry_code") not in (None, ""):
        code = str(data["industry_code"]).strip().upper()
        industry = Industry.objects.filter(pk=code).first()
        if industry is None:
            errors.append(FieldError("industry_code", _("行业代码 %s 不存在") % code))
        elif industry.level == IndustryLevel.SECTION:
            errors.append(FieldError("industry_code", _("应为行业大类代码，如 C39")))
        else:
            out["industry"] = industry
    if "employees" in data:
        value = data["employees"]
        if value in (None, ""):
            out["employees"] = None
        else:
            try:
                number = int(value)
                if number < 0 or number > 10_000_000:
                    raise ValueError
                out["employees"] = number
            except (TypeError, ValueError):
                errors.append(FieldError("employees", _("从业人员应为 0 至 10,000,000 之间的整数")))
    for key, field in (("revenue_wan", "revenue"), ("assets_wan", "assets")):
        if key in data:
            wan = _decimal(data[key], key, errors)
            out[field] = None if wan is None else (wan * WAN).quantize(Decimal("0.01"))
    if errors:
        raise ValidationFailed(errors)
    return out


def _snapshot(enterprise: Enterprise) -> dict[str, Any]:
    return {
        "uscc": enterprise.uscc,
        "name": enterprise.name,
        "region_code": enterprise.region_id,
        "industry_code": enterprise.industry_id,
        "employees": enterprise.employees,
        "revenue": enterprise.revenue,
        "assets": enterprise.assets,
        "size": enterprise.size,
        "figures_status": enterprise.figures_status,
        "figures_source": enterprise.figures_source,
        "figures_flags": enterprise.figures_flags or None,
        **_profile_snapshot(enterprise),
    }


def _set_figures_provenance(actor, enterprise: Enterprise, previous: Figures | None) -> None:
    """After `actor` changed the figures of `enterprise` (in memory): who
    stated them, whether they are verified, and the plausibility flags.

    An enterprise's own figures are declared; implausible ones are stored,
    flagged 待复核, and do not move the size (it stays as it was until the
    agency verifies them), so a typo of 99,999,999 万元 cannot make an
    enterprise "large" overnight. Government's and platform admins' figures
    are verified and the size follows them."""
    record = provenance_on_record(actor)
    enterprise.figures_status = record["status"]
    enterprise.figures_source = record["source"]
    enterprise.figures_verified_by_id = record["verified_by_id"]
    enterprise.figures_verified_at = record["verified_at"]
    if record["status"] == FactStatus.DECLARED:
        flags = figure_flags(Figures.of(enterprise), previous)
        enterprise.figures_flags = "\n".join(flags)
        enterprise.figures_flagged = bool(flags)
        if not flags:
            enterprise.size = compute_size(enterprise)
    else:
        enterprise.figures_flags = ""
        enterprise.figures_flagged = False
        enterprise.size = compute_size(enterprise)


def _clean_with_profile(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """Core fields and profile fields in one pass, so that one answer lists
    every bad field."""
    errors: list[FieldError] = []
    values: dict[str, Any] = {}
    for cleaner in (
        lambda: clean_enterprise_data(data, partial=partial),
        lambda: clean_profile_data(data),
    ):
        try:
            values.update(cleaner())
        except ValidationFailed as exc:
            errors.extend(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    return values


def create_enterprise(actor, data: dict[str, Any]) -> Enterprise:
    if not can_create_enterprise(actor):
        raise NotAllowed(_("只有政府用户或平台管理员可以登记企业"))
    values = _clean_with_profile(data, partial=False)
    scope = scope_of(actor)
    if scope.kind == ScopeKind.GOVERNMENT and not values["region"].code.startswith(
        scope.region_prefix
    ):
        raise ValidationFailed({"region_code": _("只能登记本辖区内的企业")})
    with transaction.atomic():
        if Enterprise.objects.filter(uscc=values["uscc"]).exists():
            raise ValidationFailed({"uscc": _("该统一社会信用代码已登记")})
        enterprise = Enterprise(**values)
        enterprise.size = compute_size(enterprise)
        _set_figures_provenance(actor, enterprise, None)
        enterprise.save()
        audit.record(
            "enterprise.create",
            actor=actor,
            obj=enterprise,
            changes=audit.diff({}, _snapshot(enterprise)),
        )
    return enterprise


def update_enterprise(actor, enterprise: Enterprise, data: dict[str, Any]) -> Enterprise:
    if not can_edit_enterprise(actor, enterprise):
        raise NotAllowed(_("无权修改该企业"))
    values = _clean_with_profile(data, partial=True)
    scope = scope_of(actor)
    uscc_changes = "uscc" in values and values["uscc"] != enterprise.uscc
    if uscc_changes and scope.kind == ScopeKind.ENTERPRISE:
        raise ValidationFailed({"uscc": _("统一社会信用代码不能由企业自行修改")})
    # The region is moved only by government whose subtree holds the OLD
    # region (or a platform admin), never by the enterprise itself (403).
    refuse_self_move(actor, enterprise, values.get("region"))
    with transaction.atomic():
        locked = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
        refuse_self_move(actor, locked, values.get("region"))
        taken = Enterprise.objects.filter(uscc=values.get("uscc")).exclude(pk=locked.pk)
        if uscc_changes and taken.exists():
            raise ValidationFailed({"uscc": _("该统一社会信用代码已登记")})
        before = _snapshot(locked)
        previous = Figures.of(locked)
        for key, value in values.items():
            setattr(locked, key, value)
        if Figures.of(locked) != previous:
            _set_figures_provenance(actor, locked, previous)
        elif locked.figures_status == FactStatus.VERIFIED or not locked.figures_flagged:
            locked.size = compute_size(locked)
        locked.save()
        changes = audit.diff(before, _snapshot(locked))
        if changes:
            audit.record("enterprise.update", actor=actor, obj=locked, changes=changes)
            registry_signals.enterprises_changed.send_after_commit([locked.pk])
    return locked


def delete_enterprise(actor, enterprise: Enterprise) -> None:
    scope = scope_of(actor)
    if scope.kind not in (ScopeKind.PLATFORM, ScopeKind.GOVERNMENT) or not can_edit_enterprise(
        actor, enterprise
    ):
        raise NotAllowed(_("无权删除该企业"))
    if enterprise.users.exists():
        raise ValidationFailed({"id": _("该企业仍有用户账号，不能删除")})
    with transaction.atomic():
        snapshot = _snapshot(enterprise)
        audit.record("enterprise.delete", actor=actor, obj=enterprise, changes=snapshot)
        enterprise.delete()


def upsert_enterprise(actor, data: dict[str, Any]) -> tuple[Enterprise, bool]:
    """Create the enterprise with data["uscc"], or update it if registered
    (importing twice never duplicates). Returns (enterprise, created).

    An existing enterprise the actor cannot see is reported as taken rather
    than revealed or changed."""
    try:
        uscc = validate_uscc(str(data.get("uscc") or ""))
    except CodeError as exc:
        raise ValidationFailed({"uscc": str(exc)}) from None
    existing = Enterprise.objects.filter(uscc=uscc).first()
    if existing is None:
        return create_enterprise(actor, {**data, "uscc": uscc}), True
    if not Enterprise.objects.visible_to(actor).filter(pk=existing.pk).exists():
        raise ValidationFailed({"uscc": _("该统一社会信用代码已由其他辖区登记")})
    changes = {k: v for k, v in data.items() if k != "uscc"}
    return update_enterprise(actor, existing, changes), False
