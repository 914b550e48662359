"""Input helpers the listing services share: each returns the cleaned value
or records a FieldError under the name the client sent."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from chanrong.accounts.models import GovernmentAgency
from chanrong.core.errors import FieldError
from chanrong.core.money import AmountError, parse_amount
from chanrong.registry.services.fields import parse_date

MAX_PROCEEDS = Decimal("9999999999999999.99")


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def text(data: dict[str, Any], key: str, errors: list[FieldError], limit: int, *, required=False):
    value = data.get(key)
    if blank(value):
        if required:
            errors.append(FieldError(key, _("必填")))
        return ""
    if not isinstance(value, str):
        errors.append(FieldError(key, _("应为文本")))
        return ""
    cleaned = " ".join(value.split())
    if len(cleaned) > limit:
        errors.append(FieldError(key, _("最多 %(n)s 个字符") % {"n": limit}))
    return cleaned


def day(
    data: dict[str, Any], key: str, errors: list[FieldError], today: date, *, required=False
) -> date | None:
    value = data.get(key)
    if blank(value):
        if required:
            errors.append(FieldError(key, _("必填")))
        return None
    try:
        parsed = parse_date(value)
    except (ValueError, TypeError) as exc:
        errors.append(FieldError(key, str(exc)))
        return None
    if parsed > today:
        errors.append(FieldError(key, _("日期不能晚于今天")))
        return None
    return parsed


def choice(data: dict[str, Any], key: str, choices, errors: list[FieldError], *, required=False):
    value = data.get(key)
    if blank(value):
        if required:
            errors.append(FieldError(key, _("必填")))
        return None
    value = str(value).strip()
    for code, label in choices.choices:
        if value in (code, str(label)):
            return code
    errors.append(FieldError(key, _("无效的选项：%(v)s") % {"v": value}))
    return None


def money(data: dict[str, Any], key: str, errors: list[FieldError]) -> Decimal | None:
    """An amount in 元, ≥ 0, at most two decimals (refused, never rounded)."""
    value = data.get(key)
    if blank(value):
        return None
    if isinstance(value, Decimal | int | float | str) and not isinstance(value, bool):
        raw = str(value).strip()
        if re.fullmatch(r"-?\d+\.\d{3,}", raw):
            errors.append(FieldError(key, _("金额最多精确到分（两位小数）")))
            return None
    try:
        amount = parse_amount(value)
    except AmountError as exc:
        errors.append(FieldError(key, str(exc)))
        return None
    if amount is None:
        return None
    if amount < 0 or amount > MAX_PROCEEDS:
        errors.append(FieldError(key, _("金额应在 0 与 9999999999999999.99 元之间")))
        return None
    return amount


def agency_for(
    data: dict[str, Any], key: str, errors: list[FieldError], enterprise, default
) -> GovernmentAgency | None:
    """The responsible agency named by id (default `default`): a government
    organisation whose region contains the enterprise's."""
    value = data.get(key)
    if blank(value):
        if default is None:
            errors.append(FieldError(key, _("必填：负责部门")))
        return default
    try:
        pk = int(value)
    except (TypeError, ValueError):
        errors.append(FieldError(key, _("应为部门编号")))
        return None
    agency = GovernmentAgency.objects.select_related("region").filter(pk=pk).first()
    if agency is None:
        errors.append(FieldError(key, _("部门不存在")))
        return None
    if not enterprise.region_id.startswith(agency.region_prefix):
        errors.append(FieldError(key, _("负责部门的辖区不包含该企业所在地")))
        return None
    return agency
