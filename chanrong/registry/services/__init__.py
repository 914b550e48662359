"""Business rules of the 名录库: enterprises and their profiles, tax credit
grades, qualifications, projects, versioned lists and operating data.

Views, API handlers, imports and the demo all come through here, so the
size is always computed the same way, every input is checked by one
cleaner, and every change is audited in its own transaction. Every function
that changes something takes the acting user first.
"""

from __future__ import annotations

import io
import json
import os
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from chanrong.accounts.models import GovernmentAgency, Role, User
from chanrong.core import audit, notify
from chanrong.core.codes import CodeError, classify_size, normalise_uscc, validate_uscc
from chanrong.core.errors import Conflict, FieldError, NotAllowed, NotFound, ValidationFailed
from chanrong.core.models import Industry, IndustryLevel, Region, RegionLevel
from chanrong.core.money import AmountError, parse_amount, to_halfwidth
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.core.workflow import apply_transition

from .. import signals as registry_signals
from ..models import (
    OPEN_STATUSES,
    ChongqingClass,
    DataAuthorisation,
    Enterprise,
    EnterpriseList,
    EntryChange,
    ImmutableVersion,
    ListEntry,
    ListingBoard,
    ListSector,
    ListType,
    ListVersion,
    OperatingRecord,
    PeriodType,
    Project,
    ProjectClass,
    ProjectKind,
    ProjectStage,
    Qualification,
    QualificationKind,
    QualificationSource,
    ReviewStatus,
    StrategicEmergingCategory,
    TaxCreditGrade,
    TaxGrade,
    VersionStatus,
)
from ..workflows import LIST_VERSION, OPERATING_REVIEW, can_review_operating_data, is_drafter

WAN = Decimal(10000)
MAX_AMOUNT_WAN = Decimal("100000000")  # 1 万亿元: beyond any real enterprise
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
        if len(name) < 2 or len(name) > 100:
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


def compute_size(enterprise: Enterprise) -> str:
    size = classify_size(
        enterprise.industry_id,
        enterprise.employees,
        enterprise.revenue_wan,
        enterprise.assets_wan,
    )
    return size or ""


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
        **_profile_snapshot(enterprise),
    }


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
    region = values.get("region")
    if (
        region
        and scope.kind == ScopeKind.GOVERNMENT
        and not region.code.startswith(scope.region_prefix)
    ):
        raise ValidationFailed({"region_code": _("不能把企业迁出本辖区")})
    with transaction.atomic():
        locked = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
        taken = Enterprise.objects.filter(uscc=values.get("uscc")).exclude(pk=locked.pk)
        if uscc_changes and taken.exists():
            raise ValidationFailed({"uscc": _("该统一社会信用代码已登记")})
        before = _snapshot(locked)
        for key, value in values.items():
            setattr(locked, key, value)
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


def get_visible_enterprise(actor, pk: int) -> Enterprise:
    enterprise = Enterprise.objects.visible_to(actor).filter(pk=pk).first()
    if enterprise is None:
        raise NotFound(_("企业不存在"))
    return enterprise


def authorise_institution(actor, enterprise: Enterprise, institution) -> DataAuthorisation:
    """The enterprise lets `institution` see its profile."""
    if scope_of(actor).enterprise_id != enterprise.pk:
        raise NotAllowed(_("只有企业本身可以授权"))
    with transaction.atomic():
        existing = DataAuthorisation.objects.filter(
            enterprise=enterprise, institution=institution, revoked_at__isnull=True
        ).first()
        if existing:
            return existing
        grant = DataAuthorisation.objects.create(enterprise=enterprise, institution=institution)
        audit.record(
            "enterprise.authorise",
            actor=actor,
            obj=enterprise,
            changes={"institution": [None, institution.pk]},
        )
    return grant


def authorise_institutions(actor, enterprise: Enterprise, institutions) -> list[DataAuthorisation]:
    """`authorise_institution` for several institutions at once (one query
    for the existing grants, one INSERT, one audit write)."""
    if scope_of(actor).enterprise_id != enterprise.pk:
        raise NotAllowed(_("只有企业本身可以授权"))
    wanted = list({institution.pk: institution for institution in institutions}.values())
    if not wanted:
        return []
    with transaction.atomic():
        existing = {
            grant.institution_id: grant
            for grant in DataAuthorisation.objects.filter(
                enterprise=enterprise,
                institution_id__in=[institution.pk for institution in wanted],
                revoked_at__isnull=True,
            )
        }
        fresh = [institution for institution in wanted if institution.pk not in existing]
        created = DataAuthorisation.objects.bulk_create(
            [DataAuthorisation(enterprise=enterprise, institution=inst) for inst in fresh]
        )
        who = audit.describe_actor(actor)
        audit.record_many(
            audit.entry(
                "enterprise.authorise",
                actor_info=who,
                obj=enterprise,
                changes={"institution": [None, institution.pk]},
            )
            for institution in fresh
        )
    grants = {grant.institution_id: grant for grant in created} | existing
    return [grants[institution.pk] for institution in wanted]


def revoke_authorisation(actor, grant: DataAuthorisation) -> None:
    if scope_of(actor).enterprise_id != grant.enterprise_id:
        raise NotAllowed(_("只有企业本身可以撤销授权"))
    if grant.revoked_at is not None:
        return
    with transaction.atomic():
        grant.revoked_at = timezone.now()
        grant.save(update_fields=["revoked_at"])
        audit.record(
            "enterprise.revoke_authorisation",
            actor=actor,
            obj=grant.enterprise,
            changes={"institution": [grant.institution_id, None]},
        )


# =====================================================================================
# Input helpers shared by the cleaners below (and usable by importers): each
# appends a FieldError instead of raising, so one answer names every bad field.
# =====================================================================================

MAX_AMOUNT = MAX_AMOUNT_WAN * WAN  # 元
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_TRUE = {"true", "1", "是", "y", "yes", "规上", "√"}
_FALSE = {"false", "0", "否", "n", "no", "规下", "×"}


class _Absent:
    """Marks "the key was not given" where None means "clear it"."""


def parse_date(value: Any) -> date:
    """A date from a date, a datetime or text as people type it: 2015-03-01,
    2015/3/1, 2015.3.1, 2015年3月1日, 20150301 (full-width digits too).
    Raises ValueError with a message naming the value."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = to_halfwidth(str(value)).strip()
    text = re.sub(r"[ T]00:00(:00)?$", "", text)
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                return date(*(int(part) for part in match.groups()))
            except ValueError:
                break
    raise ValueError(
        _("无法识别的日期：%(value)s（应为 2024-03-01 这样的日期）") % {"value": value}
    )


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _text(
    data: dict[str, Any], key: str, errors: list[FieldError], max_length: int, *, required=False
):
    """The cleaned text of data[key] (stray spaces collapsed), "" for blank;
    _Absent when the key is not given (a partial update leaves it alone) or wrong."""
    if key not in data:
        if required:
            errors.append(FieldError(key, _("必填")))
        return _Absent
    value = data[key]
    text = "" if _blank(value) else " ".join(str(value).split())
    if required and not text:
        errors.append(FieldError(key, _("必填")))
        return _Absent
    if "\x00" in text:
        errors.append(FieldError(key, _("不能包含 NUL 字符")))
        return _Absent
    if len(text) > max_length:
        errors.append(FieldError(key, _("最多 %(n)s 个字符") % {"n": max_length}))
        return _Absent
    return text


def _date_field(
    data: dict[str, Any], key: str, errors: list[FieldError], *, required=False
) -> date | None | type[_Absent]:
    if key not in data or _blank(data[key]):
        if required:
            errors.append(FieldError(key, _("必填")))
            return _Absent
        return _Absent if key not in data else None
    try:
        day = parse_date(data[key])
    except ValueError as exc:
        errors.append(FieldError(key, str(exc)))
        return _Absent
    if not (date(1800, 1, 1) <= day <= date(2200, 12, 31)):
        errors.append(FieldError(key, _("日期超出合理范围")))
        return _Absent
    return day


def _bool_field(data: dict[str, Any], key: str, errors: list[FieldError]):
    if key not in data:
        return _Absent
    value = data[key]
    if _blank(value):
        return None
    if isinstance(value, bool):
        return value
    text = to_halfwidth(str(value)).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    errors.append(FieldError(key, _("应为“是”或“否”")))
    return _Absent


def _choice_field(
    data: dict[str, Any], key: str, choices, errors: list[FieldError], *, required=False
):
    """A code of `choices` (a TextChoices), given as its code or its label."""
    if key not in data or _blank(data[key]):
        if required:
            errors.append(FieldError(key, _("必填")))
            return _Absent
        return _Absent if key not in data else ""
    text = " ".join(to_halfwidth(str(data[key])).split())
    # A label may come in the user's language or in the platform's (Chinese).
    by_label = {str(label): value for value, label in choices.choices}
    with translation.override(settings.LANGUAGE_CODE):
        by_label.update((str(label), value) for value, label in choices.choices)
    if text in {value for value, _label in choices.choices}:
        return text
    if text in by_label:
        return by_label[text]
    if text.lower() in {value for value, _label in choices.choices}:
        return text.lower()
    options = "、".join(str(label) for value, label in choices.choices if value)
    errors.append(FieldError(key, _("应为以下之一：%(options)s") % {"options": options}))
    return _Absent


def _amount_field(
    data: dict[str, Any],
    key: str,
    errors: list[FieldError],
    *,
    required=False,
    allow_negative=False,
):
    """An amount in 元 from a number in 万元 or text such as "350万元" / "1.2亿"."""
    if key not in data or _blank(data[key]):
        if required:
            errors.append(FieldError(key, _("必填")))
            return _Absent
        return _Absent if key not in data else None
    try:
        amount = parse_amount(data[key], default_unit="万元")
    except AmountError as exc:
        errors.append(FieldError(key, str(exc)))
        return _Absent
    if amount is None:
        return None
    if amount < 0 and not allow_negative:
        errors.append(FieldError(key, _("不能为负数")))
        return _Absent
    if abs(amount) > MAX_AMOUNT:
        errors.append(FieldError(key, _("数值过大（上限 1 万亿元）")))
        return _Absent
    return amount


def _integer_field(
    data: dict[str, Any], key: str, errors: list[FieldError], *, low: int, high: int, message: str
):
    if key not in data:
        return _Absent
    value = data[key]
    if _blank(value):
        return None
    if isinstance(value, bool):
        errors.append(FieldError(key, message))
        return _Absent
    try:
        number = Decimal(to_halfwidth(str(value)).strip().replace(",", ""))
    except InvalidOperation:
        errors.append(FieldError(key, message))
        return _Absent
    if not number.is_finite() or number != number.to_integral_value() or not low <= number <= high:
        errors.append(FieldError(key, message))
        return _Absent
    return int(number)


def _present(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not _Absent}


# =====================================================================================
# Enterprise profile (企业档案)
# =====================================================================================

PROFILE_FIELDS = (
    "founded_on",
    "registered_capital_wan",
    "legal_representative",
    "contact_name",
    "contact_phone",
    "contact_email",
    "address",
    "main_products",
    "rd_expense_wan",
    "is_above_scale",
    "strategic_emerging_category",
    "chongqing_class",
)
_PHONE = re.compile(r"^[0-9+()\- ]{5,30}$")


def clean_profile_data(data: dict[str, Any]) -> dict[str, Any]:
    """The profile fields present in `data` as model values (absent keys are
    left out: every profile update is partial). Amounts are 万元 numbers or
    text with a unit; dates and yes/no as people write them."""
    errors: list[FieldError] = []
    out = {
        "founded_on": _date_field(data, "founded_on", errors),
        "registered_capital": _amount_field(data, "registered_capital_wan", errors),
        "legal_representative": _text(data, "legal_representative", errors, 50),
        "contact_name": _text(data, "contact_name", errors, 50),
        "contact_phone": _text(data, "contact_phone", errors, 30),
        "contact_email": _text(data, "contact_email", errors, 254),
        "address": _text(data, "address", errors, 200),
        "main_products": _text(data, "main_products", errors, 500),
        "rd_expense": _amount_field(data, "rd_expense_wan", errors),
        "is_above_scale": _bool_field(data, "is_above_scale", errors),
        "strategic_emerging_category": _choice_field(
            data, "strategic_emerging_category", StrategicEmergingCategory, errors
        ),
        "chongqing_class": _choice_field(data, "chongqing_class", ChongqingClass, errors),
    }
    out = _present(out)
    founded = out.get("founded_on")
    if founded and founded > timezone.localdate():
        errors.append(FieldError("founded_on", _("成立日期不能晚于今天")))
    phone = out.get("contact_phone")
    if phone and not _PHONE.match(to_halfwidth(phone)):
        errors.append(FieldError("contact_phone", _("电话号码只能包含数字、空格、+、- 和括号")))
    elif phone:
        out["contact_phone"] = to_halfwidth(phone)
    email = out.get("contact_email")
    if email:
        try:
            validate_email(email)
        except DjangoValidationError:
            errors.append(FieldError("contact_email", _("电子邮箱格式不正确")))
    if errors:
        raise ValidationFailed(errors)
    return out


def _profile_snapshot(enterprise: Enterprise) -> dict[str, Any]:
    return {
        "founded_on": enterprise.founded_on,
        "registered_capital": enterprise.registered_capital,
        "legal_representative": enterprise.legal_representative or None,
        "contact_name": enterprise.contact_name or None,
        "contact_phone": enterprise.contact_phone or None,
        "contact_email": enterprise.contact_email or None,
        "address": enterprise.address or None,
        "main_products": enterprise.main_products or None,
        "rd_expense": enterprise.rd_expense,
        "is_above_scale": enterprise.is_above_scale,
        "strategic_emerging_category": enterprise.strategic_emerging_category or None,
        "chongqing_class": enterprise.chongqing_class or None,
    }


def update_enterprise_profile(actor, enterprise: Enterprise, data: dict[str, Any]) -> Enterprise:
    """Change the profile fields present in `data` (never the USCC or the
    other core fields: those go through update_enterprise). The enterprise
    itself, government in its subtree and platform admins may."""
    if not can_edit_enterprise(actor, enterprise):
        raise NotAllowed(_("无权修改该企业的档案"))
    errors = [
        FieldError(key, _("不是企业档案的字段")) for key in sorted(set(data) - set(PROFILE_FIELDS))
    ]
    try:
        values = clean_profile_data(data)
    except ValidationFailed as exc:
        errors = exc.errors + errors
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        locked = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
        before = _profile_snapshot(locked)
        for key, value in values.items():
            setattr(locked, key, value)
        changes = audit.diff(before, _profile_snapshot(locked))
        if changes:
            locked.save()
            audit.record("enterprise.profile", actor=actor, obj=locked, changes=changes)
            registry_signals.enterprises_changed.send_after_commit([locked.pk])
    return locked


#: The name the import helper and the brief use.
upsert_enterprise_profile = update_enterprise_profile


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


# =====================================================================================
# Tax credit grades (纳税信用等级)
# =====================================================================================

FIRST_TAX_GRADE_YEAR = 2014  # 纳税信用管理办法（试行）took effect for 2014
FIRST_M_GRADE_YEAR = 2018  # M 级 (新设立企业) added for the 2018 evaluation


def can_record_tax_grade(actor, enterprise: Enterprise) -> bool:
    """Grades come from the tax authority: government in the enterprise's
    subtree or platform admins record them, never the enterprise itself."""
    scope = scope_of(actor)
    if scope.kind == ScopeKind.PLATFORM:
        return True
    return scope.kind == ScopeKind.GOVERNMENT and enterprise.region_id.startswith(
        scope.region_prefix
    )


def clean_tax_grade(year: Any, grade: Any) -> tuple[int, str]:
    errors: list[FieldError] = []
    this_year = timezone.localdate().year
    number = _integer_field(
        {"year": year},
        "year",
        errors,
        low=FIRST_TAX_GRADE_YEAR,
        high=this_year,
        message=_("评价年度应为 %(low)s 至 %(high)s 年之间的年份")
        % {"low": FIRST_TAX_GRADE_YEAR, "high": this_year},
    )
    if number is None and not errors:
        errors.append(FieldError("year", _("必填")))
    code = " ".join(to_halfwidth(str(grade or "")).split()).upper().removesuffix("级").strip()
    if code not in TaxGrade.values:
        errors.append(FieldError("grade", _("纳税信用等级应为 A、B、M、C 或 D")))
    elif code == TaxGrade.M and isinstance(number, int) and number < FIRST_M_GRADE_YEAR:
        errors.append(FieldError("grade", _("M 级自 2018 年度评价起适用")))
    if errors:
        raise ValidationFailed(errors)
    return int(number), code  # type: ignore[arg-type]


def set_tax_grade(actor, enterprise: Enterprise, year: Any, grade: Any) -> TaxCreditGrade:
    """Record (or correct) the grade of one evaluation year. Each year is its
    own row, so the years are the history; a correction is audited with the
    grade before and after. The enterprise's latest grade follows."""
    if not can_record_tax_grade(actor, enterprise):
        raise NotAllowed(_("纳税信用等级由政府部门或平台录入"))
    year, grade = clean_tax_grade(year, grade)
    with transaction.atomic():
        locked = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
        row = TaxCreditGrade.objects.filter(enterprise=locked, year=year).first()
        if row is not None and row.grade == grade:
            return row
        before = row.grade if row else None
        if row is None:
            row = TaxCreditGrade.objects.create(
                enterprise=locked, year=year, grade=grade, recorded_by=actor
            )
        else:
            row.grade = grade
            row.recorded_by = actor
            row.save(update_fields=["grade", "recorded_by", "updated_at"])
        latest = TaxCreditGrade.objects.filter(enterprise=locked).order_by("-year").first()
        locked.tax_grade, locked.tax_grade_year = latest.grade, latest.year
        locked.save(update_fields=["tax_grade", "tax_grade_year", "updated_at"])
        audit.record(
            "enterprise.tax_grade",
            actor=actor,
            obj=locked,
            changes={f"tax_grade_{year}": [before, grade]},
        )
        registry_signals.enterprises_changed.send_after_commit([locked.pk])
    enterprise.tax_grade, enterprise.tax_grade_year = locked.tax_grade, locked.tax_grade_year
    return row


# =====================================================================================
# Qualifications (资质)
# =====================================================================================

QUALIFICATION_FIELDS = (
    "kind",
    "board",
    "issuer",
    "certificate_no",
    "valid_from",
    "valid_until",
    "note",
)


def can_edit_qualifications(actor, enterprise: Enterprise) -> bool:
    """The enterprise declares its own (marked 企业自报); government in its
    subtree and platform admins record them too."""
    return can_edit_enterprise(actor, enterprise)


def clean_qualification_data(
    data: dict[str, Any], *, current: Qualification | None = None
) -> dict[str, Any]:
    """Model values for a new qualification, or (with `current`) the changed
    fields of an existing one, checked as a whole: board only for listings,
    validity period in order."""
    errors: list[FieldError] = []
    unknown = sorted(set(data) - set(QUALIFICATION_FIELDS))
    for key in unknown:
        errors.append(FieldError(key, _("不允许的字段")))
    creating = current is None
    values = _present(
        {
            "kind": _choice_field(data, "kind", QualificationKind, errors, required=creating),
            "board": _choice_field(data, "board", ListingBoard, errors),
            "issuer": _text(data, "issuer", errors, 100, required=creating),
            "certificate_no": _text(data, "certificate_no", errors, 100),
            "valid_from": _date_field(data, "valid_from", errors, required=creating),
            "valid_until": _date_field(data, "valid_until", errors),
            "note": _text(data, "note", errors, 200),
        }
    )
    if not creating and values.get("issuer", "-") == "":
        errors.append(FieldError("issuer", _("必填")))
    if not creating and "valid_from" in values and values["valid_from"] is None:
        errors.append(FieldError("valid_from", _("必填")))
    if errors:
        raise ValidationFailed(errors)
    merged = {
        "kind": current.kind if current else None,
        "board": current.board if current else "",
        "valid_from": current.valid_from if current else None,
        "valid_until": current.valid_until if current else None,
        **values,
    }
    if merged["kind"] == QualificationKind.LISTED and not merged["board"]:
        errors.append(FieldError("board", _("上市/挂牌须注明板块")))
    if merged["board"] and merged["kind"] not in (
        QualificationKind.LISTED,
        QualificationKind.LISTING_RESERVE,
    ):
        errors.append(FieldError("board", _("只有上市/挂牌或上市后备企业才填写板块")))
    if (
        merged["valid_from"]
        and merged["valid_until"]
        and merged["valid_until"] < merged["valid_from"]
    ):
        errors.append(FieldError("valid_until", _("有效期截止日不能早于生效日期")))
    if errors:
        raise ValidationFailed(errors)
    return values


def _qualification_snapshot(q: Qualification) -> dict[str, Any]:
    return {
        "kind": q.kind,
        "board": q.board or None,
        "issuer": q.issuer,
        "certificate_no": q.certificate_no or None,
        "valid_from": q.valid_from,
        "valid_until": q.valid_until,
        "note": q.note or None,
    }


def _source_of(actor) -> str:
    kind = scope_of(actor).kind
    if kind == ScopeKind.ENTERPRISE:
        return QualificationSource.ENTERPRISE
    if kind == ScopeKind.GOVERNMENT:
        return QualificationSource.GOVERNMENT
    return QualificationSource.PLATFORM


def add_qualification(actor, enterprise: Enterprise, data: dict[str, Any]) -> Qualification:
    """Record a qualification. A renewal is a new row (the old one keeps its
    period, so the history shows both). Recording the same certificate again
    (same kind, board, start date and number: a re-import) changes nothing
    and returns the existing row."""
    if not can_edit_qualifications(actor, enterprise):
        raise NotAllowed(_("无权为该企业登记资质"))
    values = clean_qualification_data(data)
    with transaction.atomic():
        Enterprise.objects.select_for_update().get(pk=enterprise.pk)
        same = Qualification.objects.filter(
            enterprise=enterprise,
            kind=values["kind"],
            board=values.get("board", ""),
            valid_from=values["valid_from"],
            certificate_no=values.get("certificate_no", ""),
        ).first()
        if same is not None:
            changes = {k: v for k, v in values.items() if getattr(same, k) != v}
            if not changes:
                return same
            return _update_qualification(actor, same, changes)
        qualification = Qualification.objects.create(
            enterprise=enterprise, source=_source_of(actor), recorded_by=actor, **values
        )
        audit.record(
            "qualification.create",
            actor=actor,
            obj=qualification,
            changes=audit.diff({}, _qualification_snapshot(qualification)),
        )
        registry_signals.enterprises_changed.send_after_commit([enterprise.pk])
    return qualification


def update_qualification(
    actor, qualification: Qualification, data: dict[str, Any]
) -> Qualification:
    """Correct a qualification; the audit entry keeps the values before."""
    if not can_edit_qualifications(actor, qualification.enterprise):
        raise NotAllowed(_("无权修改该企业的资质"))
    values = clean_qualification_data(data, current=qualification)
    with transaction.atomic():
        return _update_qualification(actor, qualification, values)


def _update_qualification(actor, qualification: Qualification, values: dict[str, Any]):
    locked = Qualification.objects.select_for_update().get(pk=qualification.pk)
    before = _qualification_snapshot(locked)
    for key, value in values.items():
        setattr(locked, key, value)
    changes = audit.diff(before, _qualification_snapshot(locked))
    if changes:
        if scope_of(actor).kind == ScopeKind.ENTERPRISE:
            locked.source = QualificationSource.ENTERPRISE
        locked.recorded_by = actor
        locked.save()
        audit.record("qualification.update", actor=actor, obj=locked, changes=changes)
        registry_signals.enterprises_changed.send_after_commit([locked.enterprise_id])
    return locked


def revoke_qualification(
    actor, qualification: Qualification, *, effective: Any, reason: str
) -> Qualification:
    """Stop a qualification counting from `effective` on (撤销/摘牌): its
    validity ends the day before. The row stays, with the reason in the audit."""
    if not can_edit_qualifications(actor, qualification.enterprise):
        raise NotAllowed(_("无权修改该企业的资质"))
    errors: list[FieldError] = []
    day = _date_field({"effective": effective}, "effective", errors, required=True)
    text = _text({"reason": reason}, "reason", errors, 200, required=True)
    if errors:
        raise ValidationFailed(errors)
    if day <= qualification.valid_from:
        raise ValidationFailed({"effective": _("撤销日期应晚于资质生效日期")})
    until = day - timedelta(days=1)
    if qualification.valid_until is not None and qualification.valid_until <= until:
        raise ValidationFailed({"effective": _("该资质在此之前已经到期")})
    with transaction.atomic():
        locked = Qualification.objects.select_for_update().get(pk=qualification.pk)
        before = locked.valid_until
        locked.valid_until = until
        locked.recorded_by = actor
        locked.save()
        audit.record(
            "qualification.revoke",
            actor=actor,
            obj=locked,
            changes={"valid_until": [before, until], "reason": text},
        )
        registry_signals.enterprises_changed.send_after_commit([locked.enterprise_id])
    return locked


def get_visible_qualification(actor, enterprise: Enterprise, pk: int) -> Qualification:
    found = Qualification.objects.visible_to(actor).filter(enterprise=enterprise, pk=pk).first()
    if found is None:
        raise NotFound(_("资质不存在"))
    return found


# =====================================================================================
# What the registry knows for financing eligibility (finance.eligibility codes)
# =====================================================================================


def eligibility_facts(enterprise: Enterprise, on: date | None = None) -> dict[str, Any]:
    """The registry's facts for finance.eligibility.EnterpriseFacts: latest
    tax grade, active qualifications, lists in force and whether the
    enterprise is on a 失信黑名单 in force, as of `on` (default today).

    List codes: each list type's own code, plus the names the product rules
    use: "white_list" and "key_enterprise" for a 重点企业白名单 (and
    "manufacturing_white_list" when it is the manufacturing one), "red_list"
    for a 金融守信红名单. The registry always knows list membership, so
    `lists` and `blacklisted` are never None; `qualifications` is never None
    either (an empty set means none recorded and active)."""
    day = on or timezone.localdate()
    kinds = set(
        Qualification.objects.active_on(day)
        .filter(enterprise=enterprise)
        .values_list("kind", flat=True)
    )
    qualifications = frozenset(kinds)  # the same codes as finance.eligibility
    lists: set[str] = set()
    blacklisted = False
    rows = (
        ListEntry.objects.in_force(day)
        .filter(enterprise=enterprise, project__isnull=True)
        .values_list("version__list__list_type", "version__list__sector")
    )
    for list_type, sector in rows:
        lists.add(list_type)
        if list_type == ListType.KEY_ENTERPRISES:
            lists |= {"white_list", "key_enterprise"}
            if sector == ListSector.MANUFACTURING:
                lists.add("manufacturing_white_list")
        elif list_type == ListType.RED:
            lists.add("red_list")
        elif list_type == ListType.BLACK:
            blacklisted = True
    return {
        "founded_on": enterprise.founded_on,
        "tax_grade": enterprise.tax_grade or None,
        "qualifications": qualifications,
        "lists": frozenset(lists),
        "blacklisted": blacklisted,
    }


# =====================================================================================
# Projects (重点项目)
# =====================================================================================

PROJECT_FIELDS = (
    "owner_id",
    "owner_uscc",
    "name",
    "kind",
    "project_class",
    "total_investment_wan",
    "financing_need_wan",
    "stage",
    "region_code",
    "start_year",
    "description",
)


def can_create_project(actor) -> bool:
    kind = scope_of(actor).kind
    return kind in (ScopeKind.PLATFORM, ScopeKind.GOVERNMENT, ScopeKind.ENTERPRISE)


def can_edit_project(actor, project: Project) -> bool:
    """Whoever may edit the owner enterprise (itself, its government, the
    platform), or government whose subtree holds the project's site."""
    if can_edit_enterprise(actor, project.owner):
        return True
    scope = scope_of(actor)
    return scope.kind == ScopeKind.GOVERNMENT and project.region_id.startswith(scope.region_prefix)


def _owner(actor, data: dict[str, Any], errors: list[FieldError]) -> Enterprise | None:
    """The owner named by owner_id or owner_uscc, among those the actor may edit.
    An enterprise user's projects are its own (no owner needed)."""
    scope = scope_of(actor)
    given = not _blank(data.get("owner_id")) or not _blank(data.get("owner_uscc"))
    if scope.kind == ScopeKind.ENTERPRISE and not given:
        return Enterprise.objects.get(pk=scope.enterprise_id)
    visible = Enterprise.objects.visible_to(actor)
    if not _blank(data.get("owner_id")):
        try:
            owner = visible.filter(pk=int(data["owner_id"])).first()
        except (TypeError, ValueError):
            owner = None
        key = "owner_id"
    elif not _blank(data.get("owner_uscc")):
        owner = visible.filter(uscc=normalise_uscc(str(data["owner_uscc"]))).first()
        key = "owner_uscc"
    else:
        errors.append(FieldError("owner_id", _("必填：项目单位")))
        return None
    if owner is None:
        errors.append(FieldError(key, _("项目单位不存在或不在您的管辖范围内")))
        return None
    if not can_edit_enterprise(actor, owner):
        errors.append(FieldError(key, _("无权为该企业登记项目")))
        return None
    return owner


def _county(code: Any, key: str, errors: list[FieldError]) -> Region | None:
    text = str(code).strip()
    region = Region.objects.filter(pk=text).first()
    if region is None:
        errors.append(FieldError(key, _("行政区划代码 %(code)s 不存在") % {"code": text}))
        return None
    if region.level != RegionLevel.COUNTY:
        errors.append(FieldError(key, _("应为县级行政区划代码（6 位）")))
        return None
    return region


def clean_project_data(
    actor, data: dict[str, Any], *, current: Project | None = None
) -> dict[str, Any]:
    """Model values for a new project, or the changed fields of `current`."""
    errors: list[FieldError] = []
    for key in sorted(set(data) - set(PROJECT_FIELDS)):
        errors.append(FieldError(key, _("不允许的字段")))
    creating = current is None
    out: dict[str, Any] = {}
    if creating:
        owner = _owner(actor, data, errors)
        if owner is not None:
            out["owner"] = owner
    elif "owner_id" in data or "owner_uscc" in data:
        errors.append(FieldError("owner_id", _("项目单位不能更改")))
    this_year = timezone.localdate().year
    out.update(
        _present(
            {
                "name": _text(data, "name", errors, 100, required=creating),
                "kind": _choice_field(data, "kind", ProjectKind, errors, required=creating),
                "project_class": _choice_field(data, "project_class", ProjectClass, errors),
                "total_investment": _amount_field(
                    data, "total_investment_wan", errors, required=creating
                ),
                "financing_need": _amount_field(data, "financing_need_wan", errors),
                "stage": _choice_field(data, "stage", ProjectStage, errors, required=creating),
                "start_year": _integer_field(
                    data,
                    "start_year",
                    errors,
                    low=1949,
                    high=this_year + 10,
                    message=_("开工年份应为 1949 至 %(high)s 年之间") % {"high": this_year + 10},
                ),
                "description": _text(data, "description", errors, 1000),
            }
        )
    )
    if not creating:
        for key in ("name", "total_investment"):
            if key in out and out[key] in ("", None):
                errors.append(
                    FieldError("total_investment_wan" if key != "name" else key, _("必填"))
                )
    if out.get("name") and len(out["name"]) < 2:
        errors.append(FieldError("name", _("项目名称至少 2 个字符")))
    if "region_code" in data and not _blank(data["region_code"]):
        region = _county(data["region_code"], "region_code", errors)
        if region is not None:
            out["region"] = region
    elif creating and "owner" in out:
        out["region"] = out["owner"].region
    if "region" in out:
        scope = scope_of(actor)
        if scope.kind == ScopeKind.GOVERNMENT and not out["region"].code.startswith(
            scope.region_prefix
        ):
            owner = out.get("owner") or (current.owner if current else None)
            if owner is None or not owner.region_id.startswith(scope.region_prefix):
                errors.append(FieldError("region_code", _("只能登记本辖区内的项目")))
    total = out.get("total_investment", current.total_investment if current else None)
    need = out.get("financing_need", current.financing_need if current else None)
    if total is not None and need is not None and need > total:
        errors.append(FieldError("financing_need_wan", _("融资需求不能超过总投资")))
    if errors:
        raise ValidationFailed(errors)
    return out


def _project_snapshot(project: Project) -> dict[str, Any]:
    return {
        "owner_id": project.owner_id,
        "name": project.name,
        "kind": project.kind,
        "project_class": project.project_class or None,
        "total_investment": project.total_investment,
        "financing_need": project.financing_need,
        "stage": project.stage,
        "region_code": project.region_id,
        "start_year": project.start_year,
        "description": project.description or None,
    }


def create_project(actor, data: dict[str, Any]) -> Project:
    if not can_create_project(actor):
        raise NotAllowed(_("无权登记项目"))
    values = clean_project_data(actor, data)
    with transaction.atomic():
        if Project.objects.filter(owner=values["owner"], name=values["name"]).exists():
            raise ValidationFailed({"name": _("该企业已有同名项目")})
        project = Project.objects.create(**values)
        audit.record(
            "project.create",
            actor=actor,
            obj=project,
            changes=audit.diff({}, _project_snapshot(project)),
        )
    return project


def update_project(actor, project: Project, data: dict[str, Any]) -> Project:
    if not can_edit_project(actor, project):
        raise NotAllowed(_("无权修改该项目"))
    values = clean_project_data(actor, data, current=project)
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        if "name" in values and (
            Project.objects.filter(owner_id=locked.owner_id, name=values["name"])
            .exclude(pk=locked.pk)
            .exists()
        ):
            raise ValidationFailed({"name": _("该企业已有同名项目")})
        before = _project_snapshot(locked)
        for key, value in values.items():
            setattr(locked, key, value)
        changes = audit.diff(before, _project_snapshot(locked))
        if changes:
            locked.save()
            audit.record("project.update", actor=actor, obj=locked, changes=changes)
    return locked


def upsert_project(actor, data: dict[str, Any]) -> tuple[Project, bool]:
    """Create a project, or update the owner's project of the same name
    (re-importing never duplicates). Returns (project, created)."""
    errors: list[FieldError] = []
    owner = _owner(actor, data, errors)
    name = _text(data, "name", errors, 100, required=True)
    if errors:
        raise ValidationFailed(errors)
    existing = Project.objects.filter(owner=owner, name=name).first()
    if existing is None:
        return create_project(actor, data), True
    changes = {k: v for k, v in data.items() if k not in ("owner_id", "owner_uscc", "name")}
    return update_project(actor, existing, changes), False


def get_visible_project(actor, pk: int) -> Project:
    project = Project.objects.visible_to(actor).filter(pk=pk).first()
    if project is None:
        raise NotFound(_("项目不存在"))
    return project


# =====================================================================================
# Versioned lists (名单)
# =====================================================================================


def can_create_list(actor) -> bool:
    kind = scope_of(actor).kind
    return kind == ScopeKind.PLATFORM or (kind == ScopeKind.GOVERNMENT and actor.is_government_user)


def clean_list_data(actor, data: dict[str, Any], *, current: EnterpriseList | None = None):
    errors: list[FieldError] = []
    allowed = {"list_type", "sector", "name", "region_code", "description", "agency_id"}
    for key in sorted(set(data) - allowed):
        errors.append(FieldError(key, _("不允许的字段")))
    creating = current is None
    out = _present(
        {
            "name": _text(data, "name", errors, 100, required=creating),
            "description": _text(data, "description", errors, 500),
        }
    )
    if not creating:
        for key in ("list_type", "sector", "region_code", "agency_id"):
            if key in data:
                errors.append(FieldError(key, _("名单创建后不能更改此项")))
        if out.get("name") == "":
            errors.append(FieldError("name", _("必填")))
        if errors:
            raise ValidationFailed(errors)
        return out
    out.update(
        _present(
            {
                "list_type": _choice_field(data, "list_type", ListType, errors, required=True),
                "sector": _choice_field(data, "sector", ListSector, errors),
            }
        )
    )
    scope = scope_of(actor)
    agency = None
    if scope.kind == ScopeKind.GOVERNMENT:
        agency = actor.agency
        if not _blank(data.get("agency_id")) and str(data["agency_id"]) != str(agency.pk):
            errors.append(FieldError("agency_id", _("只能为本部门创建名单")))
    elif _blank(data.get("agency_id")):
        errors.append(FieldError("agency_id", _("必填：维护部门")))
    else:
        try:
            agency = GovernmentAgency.objects.filter(pk=int(data["agency_id"])).first()
        except (TypeError, ValueError):
            agency = None
        if agency is None:
            errors.append(FieldError("agency_id", _("政府部门不存在")))
    out["agency"] = agency
    region = None
    if not _blank(data.get("region_code")):
        text = str(data["region_code"]).strip()
        region = Region.objects.filter(pk=text).first()
        if region is None:
            errors.append(
                FieldError("region_code", _("行政区划代码 %(code)s 不存在") % {"code": text})
            )
    elif agency is not None:
        region = agency.region
    if (
        agency is not None
        and region is not None
        and not region.code.startswith(agency.region_prefix)
    ):
        errors.append(FieldError("region_code", _("名单的适用地区应在维护部门的辖区之内")))
    if agency is not None and region is None and agency.region_id is not None:
        errors.append(FieldError("region_code", _("只有国家部门可以维护全国性名单")))
    out["region"] = region
    if errors:
        raise ValidationFailed(errors)
    return out


def create_list(actor, data: dict[str, Any]) -> EnterpriseList:
    """A new list kept by the actor's agency (a platform admin names the agency)."""
    if not can_create_list(actor):
        raise NotAllowed(_("只有政府部门可以建立名单"))
    values = clean_list_data(actor, data)
    with transaction.atomic():
        if EnterpriseList.objects.filter(agency=values["agency"], name=values["name"]).exists():
            raise ValidationFailed({"name": _("本部门已有同名名单")})
        lst = EnterpriseList.objects.create(created_by=actor, **values)
        audit.record(
            "list.create",
            actor=actor,
            obj=lst,
            changes={
                "list_type": lst.list_type,
                "agency": lst.agency_id,
                "region": lst.region_id,
            },
        )
    return lst


def update_list(actor, lst: EnterpriseList, data: dict[str, Any]) -> EnterpriseList:
    if not is_drafter(actor, lst):
        raise NotAllowed(_("只有维护部门可以修改名单"))
    values = clean_list_data(actor, data, current=lst)
    with transaction.atomic():
        locked = EnterpriseList.objects.select_for_update().get(pk=lst.pk)
        if "name" in values and (
            EnterpriseList.objects.filter(agency_id=locked.agency_id, name=values["name"])
            .exclude(pk=locked.pk)
            .exists()
        ):
            raise ValidationFailed({"name": _("本部门已有同名名单")})
        before = {"name": locked.name, "description": locked.description}
        for key, value in values.items():
            setattr(locked, key, value)
        changes = audit.diff(before, {"name": locked.name, "description": locked.description})
        if changes:
            locked.save()
            audit.record("list.update", actor=actor, obj=locked, changes=changes)
    return locked


def get_visible_list(actor, pk: int) -> EnterpriseList:
    lst = EnterpriseList.objects.visible_to(actor).filter(pk=pk).first()
    if lst is None:
        raise NotFound(_("名单不存在"))
    return lst


def get_visible_version(actor, lst: EnterpriseList, number: int) -> ListVersion:
    version = (
        ListVersion.objects.visible_to(actor)
        .filter(list=lst, number=number)
        .select_related("list__agency", "list__region")
        .first()
    )
    if version is None:
        raise NotFound(_("名单版本不存在"))
    return version


def get_visible_version_by_id(actor, pk: int) -> ListVersion:
    version = (
        ListVersion.objects.visible_to(actor)
        .filter(pk=pk)
        .select_related("list__agency", "list__region")
        .first()
    )
    if version is None:
        raise NotFound(_("名单版本不存在"))
    return version


def latest_published(lst: EnterpriseList) -> ListVersion | None:
    return (
        ListVersion.objects.filter(list=lst, status=VersionStatus.PUBLISHED)
        .order_by("-number")
        .first()
    )


def open_version(lst: EnterpriseList) -> ListVersion | None:
    return ListVersion.objects.filter(list=lst, status__in=OPEN_STATUSES).first()


def start_version(actor, lst: EnterpriseList, *, note: str = "") -> ListVersion:
    """Open the next version as a draft holding the members of the latest
    published one (each "kept", with its reason), ready for adjustments."""
    if not is_drafter(actor, lst):
        raise NotAllowed(_("只有维护部门可以编制名单"))
    errors: list[FieldError] = []
    text = _text({"note": note}, "note", errors, 500)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        EnterpriseList.objects.select_for_update().get(pk=lst.pk)
        if open_version(lst) is not None:
            raise Conflict(_("该名单已有一个正在编制或审批中的版本"), code="version_open")
        last = ListVersion.objects.filter(list=lst).order_by("-number").first()
        version = ListVersion.objects.create(
            list=lst, number=(last.number + 1) if last else 1, note=text, created_by=actor
        )
        base = latest_published(lst)
        if base is not None:
            ListEntry.objects.bulk_create(
                [
                    ListEntry(
                        version=version,
                        enterprise_id=e.enterprise_id,
                        project_id=e.project_id,
                        change=EntryChange.KEPT,
                        reason=e.reason,
                        created_by=actor,
                    )
                    for e in base.entries.members().order_by("pk")
                ]
            )
        audit.record(
            "list_version.create",
            actor=actor,
            obj=version,
            changes={"number": version.number, "based_on": base.number if base else None},
        )
    return version


def _draft_or_conflict(version: ListVersion) -> None:
    if version.status != VersionStatus.DRAFT:
        if version.status == VersionStatus.PUBLISHED:
            raise ImmutableVersion()
        raise Conflict(
            _("只有草稿状态的版本可以调整（当前：%(status)s）")
            % {"status": version.get_status_display()},
            code="version_not_draft",
        )


def update_version(actor, version: ListVersion, data: dict[str, Any]) -> ListVersion:
    """Change a draft's note or proposed effective date."""
    if not is_drafter(actor, version.list):
        raise NotAllowed(_("只有维护部门可以编制名单"))
    errors: list[FieldError] = []
    for key in sorted(set(data) - {"note", "effective_from"}):
        errors.append(FieldError(key, _("不允许的字段")))
    values = _present(
        {
            "note": _text(data, "note", errors, 500),
            "effective_from": _date_field(data, "effective_from", errors),
        }
    )
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        locked = ListVersion.objects.select_for_update().get(pk=version.pk)
        _draft_or_conflict(locked)
        before = {"note": locked.note, "effective_from": locked.effective_from}
        for key, value in values.items():
            setattr(locked, key, value)
        changes = audit.diff(before, {"note": locked.note, "effective_from": locked.effective_from})
        if changes:
            locked.save()
            audit.record("list_version.update", actor=actor, obj=locked, changes=changes)
    version.note, version.effective_from = locked.note, locked.effective_from
    return locked


def discard_version(actor, version: ListVersion) -> None:
    """Throw away a draft or returned version that was never published."""
    if not is_drafter(actor, version.list):
        raise NotAllowed(_("只有维护部门可以编制名单"))
    with transaction.atomic():
        locked = ListVersion.objects.select_for_update().get(pk=version.pk)
        if locked.status not in (VersionStatus.DRAFT, VersionStatus.REJECTED):
            raise Conflict(_("只有草稿或已退回的版本可以删除"), code="version_not_draft")
        audit.record(
            "list_version.discard",
            actor=actor,
            obj=locked,
            changes={"number": locked.number, "entries": locked.entries.count()},
        )
        locked.delete()


def _subject_label(enterprise: Enterprise | None, project: Project | None) -> str:
    return project.name if project is not None else enterprise.name if enterprise else ""


def _check_subject(actor, version: ListVersion, enterprise, project) -> Enterprise:
    lst = version.list
    if project is not None:
        if "project" not in lst.subjects:
            raise ValidationFailed({"project_id": _("该类名单只收录企业，不收录项目")})
        if not Project.objects.visible_to(actor).filter(pk=project.pk).exists():
            raise ValidationFailed({"project_id": _("项目不存在或不在您的管辖范围内")})
        if lst.region_id and not project.region_id.startswith(lst.region.prefix):
            raise ValidationFailed({"project_id": _("项目不在名单的适用地区内")})
        return project.owner
    if enterprise is None:
        raise ValidationFailed({"enterprise_id": _("必填：企业或项目")})
    if "enterprise" not in lst.subjects:
        raise ValidationFailed({"enterprise_id": _("该类名单只收录项目，不收录企业")})
    if not Enterprise.objects.visible_to(actor).filter(pk=enterprise.pk).exists():
        raise ValidationFailed({"enterprise_id": _("企业不存在或不在您的管辖范围内")})
    if lst.region_id and not enterprise.region_id.startswith(lst.region.prefix):
        raise ValidationFailed({"enterprise_id": _("企业不在名单的适用地区内")})
    if lst.list_type == ListType.RED:
        black = (
            ListEntry.objects.in_force()
            .filter(
                enterprise=enterprise,
                project__isnull=True,
                version__list__list_type=ListType.BLACK,
            )
            .select_related("version__list")
            .first()
        )
        if black is not None:
            raise ValidationFailed(
                {
                    "enterprise_id": _("该企业在失信黑名单“%(name)s”中，不能列入守信红名单")
                    % {"name": black.version.list.name}
                }
            )
    return enterprise


def add_list_entry(
    actor,
    version: ListVersion,
    *,
    enterprise: Enterprise | None = None,
    project: Project | None = None,
    reason: str,
) -> ListEntry:
    """Put an enterprise (or a project) on a draft version, with the reason.
    Adding a member already there changes nothing (re-imports are safe);
    adding back one removed in this draft restores it."""
    if not is_drafter(actor, version.list):
        raise NotAllowed(_("只有维护部门可以编制名单"))
    _draft_or_conflict(version)
    errors: list[FieldError] = []
    text = _text({"reason": reason}, "reason", errors, 300, required=True)
    if errors:
        raise ValidationFailed(errors)
    owner = _check_subject(actor, version, enterprise, project)
    with transaction.atomic():
        locked = ListVersion.objects.select_for_update().get(pk=version.pk)
        _draft_or_conflict(locked)
        existing = ListEntry.objects.filter(
            version=locked,
            enterprise=owner,
            **({"project": project} if project is not None else {"project__isnull": True}),
        ).first()
        if existing is not None and existing.change != EntryChange.REMOVED:
            return existing
        if existing is not None:
            existing.change = EntryChange.KEPT
            existing.reason = text
            existing.save()
            entry = existing
        else:
            entry = ListEntry.objects.create(
                version=locked,
                enterprise=owner,
                project=project,
                change=EntryChange.ADDED,
                reason=text,
                created_by=actor,
            )
        audit.record(
            "list_version.add",
            actor=actor,
            obj=locked,
            changes={
                "enterprise": owner.pk,
                "project": project.pk if project else None,
                "subject": _subject_label(owner, project),
                "reason": text,
            },
        )
    return entry


def remove_list_entry(actor, version: ListVersion, entry: ListEntry, *, reason: str) -> None:
    """Take a member off a draft version. A member carried over from the
    previous version stays as a "removed" row with the reason (so the next
    version says why it left); one added in this draft simply goes."""
    if not is_drafter(actor, version.list):
        raise NotAllowed(_("只有维护部门可以编制名单"))
    _draft_or_conflict(version)
    errors: list[FieldError] = []
    text = _text({"reason": reason}, "reason", errors, 300, required=True)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        locked = ListVersion.objects.select_for_update().get(pk=version.pk)
        _draft_or_conflict(locked)
        row = ListEntry.objects.filter(pk=entry.pk, version=locked).first()
        if row is None:
            raise NotFound(_("该版本中没有这一成员"))
        if row.change == EntryChange.REMOVED:
            return
        subject = _subject_label(row.enterprise, row.project)
        if row.change == EntryChange.ADDED:
            row.delete()
        else:
            row.change = EntryChange.REMOVED
            row.reason = text
            row.save()
        audit.record(
            "list_version.remove",
            actor=actor,
            obj=locked,
            changes={
                "enterprise": entry.enterprise_id,
                "project": entry.project_id,
                "subject": subject,
                "reason": text,
            },
        )


def find_entry(version: ListVersion, *, enterprise=None, project=None) -> ListEntry | None:
    """The version's row for a subject (for importers removing by USCC)."""
    if project is not None:
        return ListEntry.objects.filter(version=version, project=project).first()
    return ListEntry.objects.filter(
        version=version, enterprise=enterprise, project__isnull=True
    ).first()


def _notify_version(version: ListVersion, transition, actor) -> None:
    lst = version.list
    link = f"/lists/{lst.pk}/versions/{version.number}/"
    if transition.name == "submit":
        approvers = User.objects.filter(
            agency_id=lst.agency_id, role=Role.GOV_ADMIN, is_active=True
        ).exclude(pk=actor.pk)
        notify.send(
            approvers,
            "list_version.submitted",
            _("名单“%(name)s”第 %(n)s 版已提交，待您审批")
            % {"name": lst.name, "n": version.number},
            link,
        )
    elif transition.name in ("publish", "reject"):
        drafter = version.submitted_by or version.created_by
        if drafter is not None and drafter.pk != actor.pk:
            message = (
                _("名单“%(name)s”第 %(n)s 版已发布，%(day)s 起生效")
                if transition.name == "publish"
                else _("名单“%(name)s”第 %(n)s 版被退回：%(note)s")
            ) % {
                "name": lst.name,
                "n": version.number,
                "day": version.effective_from,
                "note": version.review_note,
            }
            notify.send([drafter], f"list_version.{transition.name}", message, link)


def version_actions(actor, version: ListVersion) -> list[str]:
    """The transitions this actor may take now (for buttons and the API)."""
    return [t.name for t in LIST_VERSION.available(version, actor)]


def submit_version(actor, version: ListVersion) -> ListVersion:
    return apply_transition(
        LIST_VERSION,
        version,
        "submit",
        actor,
        changes={"submitted_by": actor, "submitted_at": timezone.now(), "review_note": ""},
        notify=_notify_version,
    )


def withdraw_version(actor, version: ListVersion) -> ListVersion:
    return apply_transition(LIST_VERSION, version, "withdraw", actor)


def reject_version(actor, version: ListVersion, *, note: str) -> ListVersion:
    errors: list[FieldError] = []
    text = _text({"note": note}, "note", errors, 500, required=True)
    if errors:
        raise ValidationFailed(errors, message=_("退回时须说明理由"))
    return apply_transition(
        LIST_VERSION,
        version,
        "reject",
        actor,
        changes={"review_note": text},
        notify=_notify_version,
    )


def reopen_version(actor, version: ListVersion) -> ListVersion:
    return apply_transition(LIST_VERSION, version, "reopen", actor)


def publish_version(
    actor, version: ListVersion, *, effective_from: Any = None, note: str = ""
) -> ListVersion:
    """Approve and publish: from `effective_from` (default: the draft's proposed
    date, else today) this version is the list; the version in force until
    then ends the day before. No retroactive lists: banks acted on the old
    version meanwhile, so the date may not be before today, nor before the
    previous version's."""
    errors: list[FieldError] = []
    given = {"effective_from": effective_from} if not _blank(effective_from) else {}
    day = _date_field(given, "effective_from", errors) if given else _Absent
    text = _text({"note": note}, "note", errors, 500)
    if errors:
        raise ValidationFailed(errors)
    today = timezone.localdate()
    if day is _Absent:
        proposed = ListVersion.objects.filter(pk=version.pk).values_list(
            "effective_from", flat=True
        )
        day = proposed.first() or today
    if day < today:
        raise ValidationFailed({"effective_from": _("生效日期不能早于今天（名单不溯及既往）")})
    with transaction.atomic():
        EnterpriseList.objects.select_for_update().get(pk=version.list_id)
        previous = latest_published(version.list)
        if previous is not None and day < previous.effective_from:
            raise ValidationFailed(
                {
                    "effective_from": _("生效日期不能早于上一版本的生效日期 %(day)s")
                    % {"day": previous.effective_from}
                }
            )
        published = apply_transition(
            LIST_VERSION,
            version,
            "publish",
            actor,
            changes={
                "effective_from": day,
                "effective_until": None,
                "published_at": timezone.now(),
                "approved_by": actor,
                "review_note": text,
            },
            notify=_notify_version,
            audit_extra={"members": version.entries.members().count()},
        )
        registry_signals.list_versions_published.send_after_commit([published.pk])
        if previous is not None:
            until = day - timedelta(days=1)
            if previous.effective_until is None or previous.effective_until > until:
                before = previous.effective_until
                previous.effective_until = until
                previous.save(update_fields=["effective_until"])
                audit.record(
                    "list_version.superseded",
                    actor=actor,
                    obj=previous,
                    changes={"effective_until": [before, until], "by": published.number},
                )
    return published


@dataclass
class VersionDiff:
    """How version b differs from version a (of the same list)."""

    a: ListVersion
    b: ListVersion
    added: list[ListEntry]  # rows of b
    removed: list[ListEntry]  # rows of a (reasons from b's "removed" rows where b has them)
    removal_reasons: dict[tuple[int, int | None], str]
    kept: int


def compare_versions(a: ListVersion, b: ListVersion, viewer=None) -> VersionDiff:
    """Members of b not in a (added) and of a not in b (removed), found by
    one grouped query over both versions' rows; any two versions of a list
    can be compared, not only neighbours. With `viewer`, only the rows that
    user may see take part (an enterprise sees only itself)."""
    if a.list_id != b.list_id:
        raise ValidationFailed({"b": _("只能比较同一名单的两个版本")})
    base = ListEntry.objects.visible_to(viewer) if viewer is not None else ListEntry.objects.all()
    grouped = (
        base.filter(version__in=[a.pk, b.pk])
        .members()
        .values("enterprise_id", "project_id")
        .annotate(
            in_a=Count("pk", filter=Q(version_id=a.pk)),
            in_b=Count("pk", filter=Q(version_id=b.pk)),
        )
    )
    only_a: set[tuple[int, int | None]] = set()
    only_b: set[tuple[int, int | None]] = set()
    kept = 0
    for row in grouped:
        key = (row["enterprise_id"], row["project_id"])
        if row["in_a"] and not row["in_b"]:
            only_a.add(key)
        elif row["in_b"] and not row["in_a"]:
            only_b.add(key)
        else:
            kept += 1

    def rows(version, keys):
        if not keys:
            return []
        entries = base.filter(version=version).members()
        entries = entries.select_related("enterprise__region", "project")
        return [e for e in entries.order_by("pk") if (e.enterprise_id, e.project_id) in keys]

    reasons = {
        (e.enterprise_id, e.project_id): e.reason
        for e in base.filter(version=b, change=EntryChange.REMOVED)
    }
    return VersionDiff(a, b, rows(b, only_b), rows(a, only_a), reasons, kept)


@dataclass
class PastMembership:
    list: EnterpriseList
    project: Project | None
    first_from: date
    last_until: date


def enterprise_memberships(
    viewer, enterprise: Enterprise, on: date | None = None
) -> tuple[list[ListEntry], list[PastMembership]]:
    """The lists `enterprise` (or one of its projects) is on now, and those it
    was on before but is not now, among what `viewer` may see."""
    day = on or timezone.localdate()
    visible = ListEntry.objects.visible_to(viewer).filter(enterprise=enterprise)
    current = list(
        visible.in_force(day)
        .select_related("version__list__agency", "project")
        .order_by("version__list__list_type", "version__list__name")
    )
    now = {(e.version.list_id, e.project_id) for e in current}
    past_rows = (
        visible.before(day)
        .values("version__list_id", "project_id")
        .annotate(
            first_from=Min("version__effective_from"), last_until=Max("version__effective_until")
        )
        .order_by("-last_until")
    )
    past_rows = [r for r in past_rows if (r["version__list_id"], r["project_id"]) not in now]
    lists = EnterpriseList.objects.in_bulk({r["version__list_id"] for r in past_rows})
    projects = Project.objects.in_bulk({r["project_id"] for r in past_rows if r["project_id"]})
    past = [
        PastMembership(
            lists[r["version__list_id"]],
            projects.get(r["project_id"]),
            r["first_from"],
            r["last_until"],
        )
        for r in past_rows
    ]
    return current, past


def export_version_xlsx(viewer, version: ListVersion) -> bytes:
    """The version as a workbook: a title block and its members, then a
    second sheet with the changes against the version it was drafted from."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    lst = version.list
    entries = (
        ListEntry.objects.visible_to(viewer)
        .filter(version=version)
        .select_related("enterprise__region", "project__region")
        .order_by("pk")
    )
    book = Workbook()
    sheet = book.active
    sheet.title = _("名单")
    bold = Font(bold=True)
    sheet.append([lst.name])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([_("名单类型"), lst.get_list_type_display()])
    sheet.append([_("维护部门"), lst.agency.name])
    sheet.append([_("适用地区"), lst.region.full_name if lst.region_id else _("全国")])
    sheet.append(
        [
            _("版本"),
            _("第 %(n)s 版（%(status)s）")
            % {"n": version.number, "status": version.get_status_display()},
        ]
    )
    sheet.append(
        [
            _("生效日期"),
            version.effective_from.isoformat() if version.effective_from else "",
            _("失效日期"),
            version.effective_until.isoformat() if version.effective_until else "",
        ]
    )
    sheet.append([])
    header = [
        _("序号"),
        _("企业名称"),
        _("统一社会信用代码"),
        _("项目名称"),
        _("所在地区"),
        _("列入理由"),
        _("本版变动"),
    ]
    sheet.append(header)
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    changes = []
    number = 0
    for entry in entries:
        if entry.change != EntryChange.KEPT:
            changes.append(entry)
        if entry.change == EntryChange.REMOVED:
            continue
        number += 1
        region = entry.project.region if entry.project_id else entry.enterprise.region
        sheet.append(
            [
                number,
                entry.enterprise.name,
                entry.enterprise.uscc,
                entry.project.name if entry.project_id else "",
                region.full_name,
                entry.reason,
                entry.get_change_display(),
            ]
        )
    for column, width in zip("ABCDEFG", (6, 36, 22, 30, 24, 40, 10), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A9"
    detail = book.create_sheet(_("本版调整"))
    detail.append([_("变动"), _("企业名称"), _("统一社会信用代码"), _("项目名称"), _("理由")])
    for cell in detail[1]:
        cell.font = bold
    for entry in changes:
        detail.append(
            [
                entry.get_change_display(),
                entry.enterprise.name,
                entry.enterprise.uscc,
                entry.project.name if entry.project_id else "",
                entry.reason,
            ]
        )
    for column, width in zip("ABCDE", (8, 36, 22, 30, 40), strict=True):
        detail.column_dimensions[column].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# =====================================================================================
# Operating data (工业运行数据)
# =====================================================================================

DEFAULT_YOY_BOUND = Decimal("3.0")
OPERATING_AMOUNTS = ("output_value", "revenue", "profit", "tax_paid")
OPERATING_FIELDS = ("output_value", "revenue", "profit", "tax_paid", "employees", "electricity_kwh")
#: Input keys: amounts in 万元 (numbers, or text with a unit), the rest as counted.
OPERATING_INPUT = (
    "output_value_wan",
    "revenue_wan",
    "profit_wan",
    "tax_paid_wan",
    "employees",
    "electricity_kwh",
)
OPERATING_LABELS = {
    "output_value": _lazy("工业总产值"),
    "revenue": _lazy("营业收入"),
    "profit": _lazy("利润总额"),
    "tax_paid": _lazy("实缴税金"),
    "employees": _lazy("从业人员"),
    "electricity_kwh": _lazy("用电量"),
}
_QUARTER_WORDS = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}


@dataclass(frozen=True)
class Period:
    period_type: str  # PeriodType
    start: date

    @property
    def code(self) -> str:
        if self.period_type == PeriodType.QUARTER:
            return f"{self.start.year}Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.year}-{self.start.month:02d}"

    def year_before(self) -> Period:
        return Period(self.period_type, self.start.replace(year=self.start.year - 1))

    def year_after(self) -> Period:
        return Period(self.period_type, self.start.replace(year=self.start.year + 1))


def parse_period(value: Any, period_type: str | None = None) -> Period:
    """A month ("2025-03", "2025/3", "2025年3月", "202503", a date) or a
    quarter ("2025Q1", "2025-Q1", "2025年第一季度", "2025年1季度"). A date
    is a month unless `period_type` says quarter (then its quarter).
    Raises ValidationFailed naming the value."""
    if isinstance(value, Period):
        return value
    if isinstance(value, date):
        day = value.date() if isinstance(value, datetime) else value
        if period_type == PeriodType.QUARTER:
            return Period(PeriodType.QUARTER, date(day.year, (day.month - 1) // 3 * 3 + 1, 1))
        return Period(PeriodType.MONTH, date(day.year, day.month, 1))
    text = to_halfwidth(str(value or "")).strip().upper().replace(" ", "")
    match = re.fullmatch(r"(\d{4})[-/.]?Q([1-4])", text) or re.fullmatch(
        r"(\d{4})年第?([一二三四1-4])季度?", text
    )
    if match:
        quarter = _QUARTER_WORDS[match.group(2)]
        period = Period(PeriodType.QUARTER, date(int(match.group(1)), quarter * 3 - 2, 1))
    else:
        match = re.fullmatch(r"(\d{4})(?:[-/.年](\d{1,2})月?|(\d{2}))", text)
        month = int(match.group(2) or match.group(3)) if match else 0
        if not match or not 1 <= month <= 12:
            raise ValidationFailed(
                {
                    "period": _("无法识别的统计期：%(value)s（月度如 2025-03，季度如 2025Q1）")
                    % {"value": value}
                }
            )
        period = Period(PeriodType.MONTH, date(int(match.group(1)), month, 1))
    if period_type and period.period_type != period_type:
        raise ValidationFailed({"period": _("统计期与周期类型不符：%(value)s") % {"value": value}})
    if not 2000 <= period.start.year <= timezone.localdate().year:
        raise ValidationFailed({"period": _("统计期应在 2000 年至今年之间")})
    if period.start > timezone.localdate():
        raise ValidationFailed({"period": _("统计期尚未开始")})
    return period


def clean_operating_values(data: dict[str, Any]) -> dict[str, Any]:
    """Model values for the figures present in `data`. Negative amounts are
    accepted here on purpose: they are flagged for review, not refused."""
    errors: list[FieldError] = []
    for key in sorted(set(data) - set(OPERATING_INPUT)):
        errors.append(FieldError(key, _("不允许的字段")))
    out = {
        field: _amount_field(data, f"{field}_wan", errors, allow_negative=True)
        for field in OPERATING_AMOUNTS
    }
    out["employees"] = _integer_field(
        data,
        "employees",
        errors,
        low=-10_000_000,
        high=10_000_000,
        message=_("从业人员应为整数（人）"),
    )
    kwh = _quantity_field(data, "electricity_kwh", errors)
    out["electricity_kwh"] = kwh
    if errors:
        raise ValidationFailed(errors)
    return _present(out)


def _quantity_field(data: dict[str, Any], key: str, errors: list[FieldError]):
    """A count such as kWh: a plain number (grouping and full-width digits
    allowed), no currency unit."""
    if key not in data:
        return _Absent
    value = data[key]
    if _blank(value):
        return None
    if isinstance(value, bool) or (isinstance(value, str) and re.search(r"[元万亿]", value)):
        errors.append(FieldError(key, _("用电量应为千瓦时数（不带单位的数字）")))
        return _Absent
    try:
        number = parse_amount(value, default_unit="元")
    except AmountError:
        errors.append(FieldError(key, _("用电量应为千瓦时数（不带单位的数字）")))
        return _Absent
    if number is not None and abs(number) > MAX_AMOUNT:
        errors.append(FieldError(key, _("数值过大")))
        return _Absent
    return number


def yoy_bound() -> Decimal:
    """CHANRONG_YOY_BOUND: how far a figure may move year on year before it is
    flagged; 3.0 means up by more than 300% (over 4×), or down to less than a
    quarter (1 / 4) of the same period last year."""
    raw = getattr(settings, "CHANRONG_YOY_BOUND", None)
    if raw in (None, ""):
        raw = os.environ.get("CHANRONG_YOY_BOUND", DEFAULT_YOY_BOUND)
    try:
        bound = Decimal(str(raw))
    except InvalidOperation:
        return DEFAULT_YOY_BOUND
    return bound if bound.is_finite() and bound > 0 else DEFAULT_YOY_BOUND


def _show(field: str, value: Decimal | int) -> str:
    if field in OPERATING_AMOUNTS:
        return _("%(n)s 万元") % {"n": f"{Decimal(value) / WAN:,.2f}"}
    if field == "employees":
        return _("%(n)s 人") % {"n": value}
    return _("%(n)s 千瓦时") % {"n": f"{Decimal(value):,.0f}"}


def plausibility_flags(
    values: dict[str, Any], last_year: dict[str, Any] | None, bound: Decimal | None = None
) -> list[dict[str, str]]:
    """Why the figures look wrong, one {"field", "reason"} per finding; empty
    if nothing does. Pure (no database), so importers can preview it.

    - Negative output, revenue, tax, headcount or electricity cannot be right.
      A negative profit is an ordinary loss and is not flagged.
    - A profit larger than the revenue of the same period is flagged.
    - Year on year against the same period of last year: a rise beyond the
      bound (default +300%) or a fall below 1/(1+bound) of last year (default
      a quarter; a drop to zero included). Profit is compared only when both
      years made one: across a loss, or from near zero, its ratio means
      nothing. A figure with no (or zero) value last year has no baseline.
    """
    bound = bound if bound is not None else yoy_bound()
    flags: list[dict[str, str]] = []
    for field in OPERATING_FIELDS:
        value = values.get(field)
        if value is None or field == "profit":
            continue
        if value < 0:
            flags.append(
                {
                    "field": field,
                    "reason": _("%(label)s为负数（%(value)s）")
                    % {"label": OPERATING_LABELS[field], "value": _show(field, value)},
                }
            )
    profit, revenue = values.get("profit"), values.get("revenue")
    if profit is not None and revenue is not None and revenue >= 0 and profit > revenue:
        flags.append(
            {
                "field": "profit",
                "reason": _("利润总额（%(profit)s）高于同期营业收入（%(revenue)s）")
                % {"profit": _show("profit", profit), "revenue": _show("revenue", revenue)},
            }
        )
    if not last_year:
        return flags
    flagged = {f["field"] for f in flags}
    factor = 1 + bound
    for field in OPERATING_FIELDS:
        value, before = values.get(field), last_year.get(field)
        if value is None or before is None or field in flagged or before <= 0 or value < 0:
            continue
        if field == "profit" and value <= 0:
            continue
        ratio = Decimal(value) / Decimal(before)
        change = ((ratio - 1) * 100).quantize(Decimal("0.1"))
        figures = {
            "label": OPERATING_LABELS[field],
            "before": _show(field, before),
            "value": _show(field, value),
            "change": change,
            "limit": format((bound * 100).normalize(), "f"),
            "floor": format(factor.normalize(), "f"),
        }
        if ratio > factor:
            reason = (
                _(
                    "%(label)s比去年同期增长 %(change)s%%（去年同期 %(before)s，本期 %(value)s），"
                    "超过 %(limit)s%% 的合理范围"
                )
                % figures
            )
        elif ratio < 1 / factor:
            figures["change"] = -change
            reason = (
                _(
                    "%(label)s比去年同期下降 %(change)s%%（去年同期 %(before)s，本期 %(value)s），"
                    "不足去年同期的 1/%(floor)s"
                )
                % figures
            )
        else:
            continue
        flags.append({"field": field, "reason": reason})
    return flags


def _figures(record: OperatingRecord | None) -> dict[str, Any] | None:
    if record is None:
        return None
    return {field: getattr(record, field) for field in OPERATING_FIELDS}


def _recheck(record: OperatingRecord, bound: Decimal) -> bool:
    """Derive flags and status from the figures; True if either changed. A
    confirmed record stays confirmed while its flags stay the same."""
    last = OperatingRecord.objects.filter(
        enterprise_id=record.enterprise_id,
        period_type=record.period_type,
        period_start=record.period_start.replace(year=record.period_start.year - 1),
    ).first()
    flags = plausibility_flags(_figures(record), _figures(last), bound)
    flags = json.loads(json.dumps(flags, ensure_ascii=False, default=str))
    before = (list(record.flags or []), record.review_status)
    if not flags:
        status = ReviewStatus.OK
    elif record.review_status == ReviewStatus.CONFIRMED and flags == before[0]:
        status = ReviewStatus.CONFIRMED
    else:
        status = ReviewStatus.FLAGGED
    record.flags, record.review_status = flags, status
    return (flags, status) != before


def can_enter_operating_data(actor, enterprise: Enterprise) -> bool:
    return can_edit_enterprise(actor, enterprise)


def record_operating_data(
    actor,
    enterprise: Enterprise,
    period: Any,
    values: dict[str, Any],
    *,
    period_type: str | None = None,
    note: str = "",
) -> OperatingRecord:
    """Enter (or update) one period's figures for an enterprise and return the
    row with its plausibility flags and review status. Implausible figures are
    stored and flagged for review, never refused or silently accepted. The
    same period's record a year later is re-checked too (its baseline moved).

    `period`: "2025-03", "2025Q1", a date or a Period; `values`: the keys of
    OPERATING_INPUT that are given (amounts in 万元, or text with a unit)."""
    if not can_enter_operating_data(actor, enterprise):
        raise NotAllowed(_("无权填报该企业的经营数据"))
    errors: list[FieldError] = []
    try:
        when = parse_period(period, period_type)
    except ValidationFailed as exc:
        errors.extend(exc.errors)
        when = None
    try:
        figures = clean_operating_values(values)
    except ValidationFailed as exc:
        errors.extend(exc.errors)
        figures = {}
    if errors:
        raise ValidationFailed(errors)
    bound = yoy_bound()
    reviewer = scope_of(actor).kind in (ScopeKind.GOVERNMENT, ScopeKind.PLATFORM)
    with transaction.atomic():
        Enterprise.objects.select_for_update().get(pk=enterprise.pk)
        record, created = OperatingRecord.objects.get_or_create(
            enterprise=enterprise,
            period_type=when.period_type,
            period_start=when.start,
            defaults={"entered_by": actor},
        )
        before = _figures(record) if not created else {}
        for field, value in figures.items():
            setattr(record, field, value)
        after = _figures(record)
        changes = audit.diff(before or {}, after)
        if not created and not changes:
            return record
        previous_status = record.review_status
        record.entered_by = actor
        _recheck(record, bound)
        if reviewer and not created:
            record.reviewed_by = actor
            record.reviewed_at = timezone.now()
            if note:
                record.review_note = " ".join(note.split())[:500]
        record.save()
        audit.record(
            "operating.create" if created else "operating.update",
            actor=actor,
            obj=record,
            changes={
                "period": when.code,
                **changes,
                "review_status": [None if created else previous_status, record.review_status],
                "flags": [f["field"] for f in record.flags],
            },
        )
        following = OperatingRecord.objects.filter(
            enterprise=enterprise,
            period_type=when.period_type,
            period_start=when.year_after().start,
        ).first()
        if following is not None and _recheck(following, bound):
            following.save(update_fields=["flags", "review_status", "updated_at"])
    return record


#: The name the import helper and the brief use.
upsert_operating_data = record_operating_data


def confirm_operating_record(actor, record: OperatingRecord, *, note: str = "") -> OperatingRecord:
    """A reviewer has checked flagged figures with the enterprise: they stand."""
    errors: list[FieldError] = []
    text = _text({"note": note}, "note", errors, 500, required=True)
    if errors:
        raise ValidationFailed(errors, message=_("核实时须填写核实意见"))
    return apply_transition(
        OPERATING_REVIEW,
        record,
        "confirm",
        actor,
        changes={"review_note": text, "reviewed_by": actor, "reviewed_at": timezone.now()},
    )


def correct_operating_record(
    actor, record: OperatingRecord, values: dict[str, Any], *, note: str
) -> OperatingRecord:
    """A reviewer replaces wrong figures (after checking with the enterprise);
    the flags are derived again from the corrected figures."""
    if not can_review_operating_data(actor, record):
        raise NotAllowed(_("只有政府审核人员可以更正经营数据"))
    errors: list[FieldError] = []
    text = _text({"note": note}, "note", errors, 500, required=True)
    if errors:
        raise ValidationFailed(errors, message=_("更正时须填写核实意见"))
    return record_operating_data(
        actor,
        record.enterprise,
        Period(record.period_type, record.period_start),
        values,
        note=text,
    )


def get_visible_operating_record(actor, enterprise: Enterprise, pk: int) -> OperatingRecord:
    found = OperatingRecord.objects.visible_to(actor).filter(enterprise=enterprise, pk=pk).first()
    if found is None:
        raise NotFound(_("经营数据不存在"))
    return found


def operating_chart_option(records: list[OperatingRecord]) -> dict[str, Any]:
    """An ECharts option for one enterprise's figures (one period type):
    amounts in 万元 on the left axis, electricity (万千瓦时) on the right;
    flagged points drawn in red."""
    flagged_colour = "#d4380d"

    def point(record, value, scale):
        if value is None:
            return None
        number = round(float(Decimal(value) / scale), 2)
        if record.review_status == ReviewStatus.FLAGGED:
            return {"value": number, "itemStyle": {"color": flagged_colour}}
        return number

    periods = [r.period_code for r in records]
    series = [
        {
            "name": str(_("工业总产值")),
            "type": "bar",
            "data": [point(r, r.output_value, WAN) for r in records],
        },
        *[
            {
                "name": str(OPERATING_LABELS[field]),
                "type": "line",
                "data": [point(r, getattr(r, field), WAN) for r in records],
            }
            for field in ("revenue", "profit", "tax_paid")
        ],
        {
            "name": str(_("用电量（万千瓦时）")),
            "type": "line",
            "yAxisIndex": 1,
            "lineStyle": {"type": "dashed"},
            "data": [point(r, r.electricity_kwh, WAN) for r in records],
        },
    ]
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 60, "right": 60, "top": 40, "bottom": 30},
        "xAxis": {"type": "category", "data": periods},
        "yAxis": [
            {"type": "value", "name": str(_("万元"))},
            {"type": "value", "name": str(_("万千瓦时"))},
        ],
        "series": series,
    }


# =====================================================================================
# Bulk enterprise import (used by chanrong.registry.imports). The same rules as
# create_enterprise / update_enterprise / clean_profile_data, checked for a batch
# with a few queries (regions and industries are looked up in memory), then
# written with one bulk upsert per chunk inside the caller's transaction. One
# audit entry summarises the import: a row per enterprise would cost more than
# the import itself at 100,000 rows; the entry carries the file's SHA-256 (the
# exact input) and, for up to IMPORT_AUDIT_LIST_MAX enterprises, their USCCs.
# =====================================================================================

from collections import Counter  # noqa: E402

from django.db import connection  # noqa: E402

IMPORT_CORE_FIELDS = ("uscc", "name", "employees", "revenue_wan", "assets_wan")
IMPORT_AUDIT_LIST_MAX = 1000
_IMPORT_MODEL_FIELDS = (
    "name",
    "region",
    "industry",
    "employees",
    "revenue",
    "assets",
    "size",
    "founded_on",
    "registered_capital",
    "legal_representative",
    "contact_name",
    "contact_phone",
    "contact_email",
    "address",
    "main_products",
    "rd_expense",
    "is_above_scale",
    "strategic_emerging_category",
    "chongqing_class",
)


@dataclass
class EnterpriseImport:
    """What checking and writing one import's rows needs."""

    actor: Any
    region_prefix: str  # "" = everywhere
    regions: dict[str, Region]
    counties_by_name: dict[str, list[Region]]
    industries: dict[str, Industry]
    divisions_by_number: dict[str, Industry]
    industries_by_name: dict[str, Industry]


def can_import_enterprises(actor) -> bool:
    return can_create_enterprise(actor)


def start_enterprise_import(actor) -> EnterpriseImport:
    if not can_import_enterprises(actor):
        raise NotAllowed(_("只有政府用户或平台管理员可以导入企业"))
    scope = scope_of(actor)
    prefix = scope.region_prefix if scope.kind == ScopeKind.GOVERNMENT else ""
    regions = {r.code: r for r in Region.objects.all()}
    counties: dict[str, list[Region]] = {}
    for region in regions.values():
        if region.level == RegionLevel.COUNTY and region.code.startswith(prefix):
            counties.setdefault(region.name, []).append(region)
    industries = {i.code: i for i in Industry.objects.all()}
    return EnterpriseImport(
        actor=actor,
        region_prefix=prefix or "",
        regions=regions,
        counties_by_name=counties,
        industries=industries,
        divisions_by_number={
            i.code[1:]: i for i in industries.values() if i.level == IndustryLevel.DIVISION
        },
        industries_by_name={i.name: i for i in industries.values()},
    )


def _import_region(ctx: EnterpriseImport, value: Any, errors: list[FieldError]) -> Region | None:
    """A county by its code (as clean_enterprise_data) or, failing that, by a
    name that is unique within the importer's region."""
    code = to_halfwidth(str(value)).strip()
    region = ctx.regions.get(code)
    if region is None:
        named = ctx.counties_by_name.get(code, [])
        if len(named) == 1:
            return named[0]
        if len(named) > 1:
            errors.append(
                FieldError(
                    "region_code",
                    _("地区名称“%(name)s”不唯一（%(codes)s），请填写 6 位行政区划代码")
                    % {"name": code, "codes": "、".join(r.code for r in named)},
                )
            )
            return None
        errors.append(FieldError("region_code", _("行政区划代码 %s 不存在") % code))
        return None
    if region.level != RegionLevel.COUNTY:
        errors.append(FieldError("region_code", _("应为县级行政区划代码（6 位）")))
        return None
    return region


def _import_industry(
    ctx: EnterpriseImport, value: Any, errors: list[FieldError]
) -> Industry | None:
    """A division by its code ("C39"), its bare number ("39") or its name."""
    text = to_halfwidth(str(value)).strip()
    industry = (
        ctx.industries.get(text.upper())
        or ctx.divisions_by_number.get(text)
        or ctx.industries_by_name.get(text)
    )
    if industry is None:
        errors.append(
            FieldError("industry_code", _("行业代码 %(code)s 不存在") % {"code": text.upper()})
        )
        return None
    if industry.level == IndustryLevel.SECTION:
        errors.append(FieldError("industry_code", _("应为行业大类代码，如 C39")))
        return None
    return industry


def clean_enterprise_import(
    ctx: EnterpriseImport, rows: list[dict[str, Any]]
) -> list[dict[str, Any] | list[FieldError]]:
    """Check a batch of rows (service input keys; None = blank cell, which
    keeps what is stored). Returns, per row, the model values to write
    (with "uscc") or the errors."""
    usccs = [normalise_uscc(str(row.get("uscc") or "")) for row in rows]
    existing = dict(
        Enterprise.objects.filter(uscc__in=[u for u in usccs if u]).values_list("uscc", "region_id")
    )
    prefix = ctx.region_prefix
    results: list[dict[str, Any] | list[FieldError]] = []
    for row in rows:
        data = {key: value for key, value in row.items() if value is not None}
        errors: list[FieldError] = []
        values: dict[str, Any] = {}
        core = {key: data[key] for key in IMPORT_CORE_FIELDS if key in data}
        profile = {key: data[key] for key in PROFILE_FIELDS if key in data}
        for cleaner in (
            lambda core=core: clean_enterprise_data(core, partial=True),
            lambda profile=profile: clean_profile_data(profile),
        ):
            try:
                values.update(cleaner())
            except ValidationFailed as exc:
                errors.extend(exc.errors)
        if "region_code" in data:
            region = _import_region(ctx, data["region_code"], errors)
            if region is not None:
                values["region"] = region
                if prefix and not region.code.startswith(prefix):
                    errors.append(FieldError("region_code", _("只能导入本辖区内的企业")))
        if "industry_code" in data:
            industry = _import_industry(ctx, data["industry_code"], errors)
            if industry is not None:
                values["industry"] = industry
        if "uscc" not in data:
            errors.append(FieldError("uscc", _("必填")))
        uscc = values.get("uscc")
        current_region = existing.get(uscc) if uscc else None
        if uscc and current_region is None:
            for key in ("name", "region_code", "industry_code"):
                if key not in data:
                    errors.append(FieldError(key, _("必填（新登记的企业）")))
        elif current_region is not None and prefix and not current_region.startswith(prefix):
            errors.append(FieldError("uscc", _("该统一社会信用代码已由其他辖区登记")))
        results.append(errors or values)
    return results


@dataclass
class EnterpriseImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _enterprise_columns():
    return [f for f in Enterprise._meta.concrete_fields if not f.primary_key]


def _upsert_enterprise_rows(rows: list[dict[str, Any]]) -> None:
    """INSERT … ON CONFLICT (uscc) DO UPDATE for rows of column values.

    On PostgreSQL one statement per chunk over unnest() arrays, built here
    rather than by bulk_create: at 100,000 rows Django's per-value
    preparation and the model instances cost more than the database does.
    Elsewhere (SQLite) bulk_create(update_conflicts=True) does the same."""
    fields = _enterprise_columns()
    keep = {"uscc", "created_at"}
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in fields)
        arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
        updates = ", ".join(
            f"{quote(f.column)} = EXCLUDED.{quote(f.column)}"
            for f in fields
            if f.attname not in keep
        )
        # Only the model's own table, column names and types go into the text;
        # every value is a bound parameter.
        sql = (
            f"INSERT INTO {quote(Enterprise._meta.db_table)} ({columns}) "  # noqa: S608
            f"SELECT * FROM unnest({arrays}) ON CONFLICT ({quote('uscc')}) DO UPDATE SET {updates}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [[row[f.attname] for row in rows] for f in fields])
        return
    Enterprise.objects.bulk_create(
        [Enterprise(**row) for row in rows],
        update_conflicts=True,
        unique_fields=["uscc"],
        update_fields=[f.name for f in fields if f.attname not in keep],
    )


def save_enterprise_import(
    ctx: EnterpriseImport,
    rows: list[dict[str, Any]],
    *,
    source: dict[str, Any] | None = None,
    chunk_size: int = 5000,
) -> EnterpriseImportResult:
    """Write rows from clean_enterprise_import: create new USCCs, update
    existing ones (stored values stay where a row left a cell blank), skip
    rows that change nothing; one summary audit entry. Idempotent by USCC.
    All or nothing: one transaction (savepoint inside the caller's). The
    size is computed by compute_size, as for every other write."""
    if not can_import_enterprises(ctx.actor):
        raise NotAllowed(_("只有政府用户或平台管理员可以导入企业"))
    fields = _enterprise_columns()
    names = [f.attname for f in fields]
    compared = [n for n in names if n not in ("created_at", "updated_at")]
    defaults = {f.attname: f.get_default() for f in fields}
    result = EnterpriseImportResult()
    created: list[str] = []
    updated: list[str] = []
    now = timezone.now()
    with transaction.atomic():
        for start in range(0, len(rows), chunk_size):
            chunk = rows[start : start + chunk_size]
            current = {
                row["uscc"]: row
                for row in Enterprise.objects.select_for_update()
                .filter(uscc__in=[values["uscc"] for values in chunk])
                .values(*names)
            }
            batch = []
            for values in chunk:
                stored = current.get(values["uscc"])
                row = dict(stored) if stored else {**defaults, "created_at": now}
                for key, value in values.items():
                    if key in ("region", "industry"):
                        row[f"{key}_id"] = value.pk
                    else:
                        row[key] = value
                row["size"] = compute_size(_SizeFacts(row))
                if stored is None:
                    created.append(row["uscc"])
                elif all(row[n] == stored[n] for n in compared):
                    result.unchanged += 1
                    continue
                else:
                    updated.append(row["uscc"])
                row["updated_at"] = now
                batch.append(row)
            if batch:
                _upsert_enterprise_rows(batch)
        result.created, result.updated = len(created), len(updated)
        changes: dict[str, Any] = {
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            **(source or {}),
        }
        if result.created + result.updated <= IMPORT_AUDIT_LIST_MAX:
            changes["created_usccs"] = created
            changes["updated_usccs"] = updated
        audit.record(
            "enterprise.import",
            actor=ctx.actor,
            object_type="registry.enterprise",
            object_id="import",
            object_repr=_("批量导入 %(n)d 家企业") % {"n": result.created + result.updated},
            changes=changes,
        )
    return result


class _SizeFacts:
    """What compute_size reads from an enterprise, from a row of values."""

    def __init__(self, row: dict[str, Any]):
        self.industry_id = row["industry_id"]
        self.employees = row["employees"]
        self.revenue_wan = None if row["revenue"] is None else row["revenue"] / WAN
        self.assets_wan = None if row["assets"] is None else row["assets"] / WAN


def import_enterprises(
    actor, rows: list[dict[str, Any]], *, valid_only: bool = False
) -> tuple[EnterpriseImportResult, list[tuple[int, list[FieldError]]]]:
    """Check and write rows in one call (scripts, the API without a file):
    all or nothing unless `valid_only`. Returns the result and the
    (row index, errors) of rejected rows; writes nothing when any row is bad
    and not `valid_only`."""
    ctx = start_enterprise_import(actor)
    checked = clean_enterprise_import(ctx, rows)
    bad = [(i, r) for i, r in enumerate(checked) if not isinstance(r, dict)]
    counts = Counter(r["uscc"] for r in checked if isinstance(r, dict))
    for i, values in enumerate(checked):
        if isinstance(values, dict) and counts[values["uscc"]] > 1:
            bad.append((i, [FieldError("uscc", _("统一社会信用代码在本批数据中重复出现"))]))
    if bad and not valid_only:
        return EnterpriseImportResult(), bad
    rejected = {i for i, _errors in bad}
    good = [v for i, v in enumerate(checked) if isinstance(v, dict) and i not in rejected]
    return save_enterprise_import(ctx, good), bad


# --- checks for row-by-row imports (projects, list members): what upsert_project
# and add_list_entry would refuse, found without writing anything.


def check_project_import(actor, data: dict[str, Any]) -> list[FieldError]:
    """The errors upsert_project(actor, data) would raise (none: it would succeed)."""
    errors: list[FieldError] = []
    owner = _owner(actor, data, errors)
    name = _text(data, "name", errors, 100, required=True)
    if errors:
        return errors
    existing = Project.objects.filter(owner=owner, name=name).first()
    try:
        if existing is None:
            if not can_create_project(actor):
                return [FieldError("owner_uscc", _("无权登记项目"))]
            clean_project_data(actor, data)
        elif not can_edit_project(actor, existing):
            return [FieldError("name", _("无权修改该项目"))]
        else:
            changes = {k: v for k, v in data.items() if k not in ("owner_id", "owner_uscc", "name")}
            clean_project_data(actor, changes, current=existing)
    except ValidationFailed as exc:
        return list(exc.errors)
    return []


def check_list_entry(
    actor, version: ListVersion, *, enterprise: Enterprise | None, project: Project | None = None
) -> list[FieldError]:
    """The errors add_list_entry would raise for this subject (reason aside)."""
    if not is_drafter(actor, version.list):
        return [FieldError("list_version", _("只有维护部门可以编制名单"))]
    try:
        _draft_or_conflict(version)
        _check_subject(actor, version, enterprise, project)
    except (ValidationFailed, Conflict) as exc:
        return list(exc.errors) or [FieldError("list_version", exc.message)]
    return []
