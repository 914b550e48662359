"""Field parsing for funds and investments: every problem becomes a
FieldError named after the field, so the web form and the API say the same
thing about the same input. Amounts in 元."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from chanrong.core.errors import FieldError

#: Above this a number is a typing error (10^13 元 = 10 万亿), not a fund.
MAX_AMOUNT = Decimal("1e13")


def text(
    data: dict[str, Any], name: str, errors: list[FieldError], *, max_length: int = 100
) -> str:
    raw = data.get(name)
    value = "" if raw is None else str(raw).strip()
    if not value:
        errors.append(FieldError(name, _("必填")))
    elif len(value) > max_length:
        errors.append(FieldError(name, _("最多 %(n)s 个字符") % {"n": max_length}))
    return value


def _decimal(raw: Any) -> Decimal | None:
    if isinstance(raw, bool):
        return None
    try:
        value = Decimal(str(raw).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def money(
    data: dict[str, Any],
    name: str,
    errors: list[FieldError],
    *,
    required: bool = False,
    positive: bool = False,
) -> Decimal | None:
    """An amount in 元, at most two decimals, never negative."""
    raw = data.get(name)
    if raw in (None, ""):
        if required:
            errors.append(FieldError(name, _("必填")))
        return None
    value = _decimal(raw)
    if value is None:
        errors.append(FieldError(name, _("应为数字（元）")))
        return None
    if value < 0 or (positive and value == 0):
        errors.append(FieldError(name, _("应大于 0") if positive else _("不能为负数")))
        return None
    if value >= MAX_AMOUNT:
        errors.append(FieldError(name, _("金额过大，请核对单位（元）")))
        return None
    if value != value.quantize(Decimal("0.01")):
        errors.append(FieldError(name, _("最多两位小数")))
        return None
    return value.quantize(Decimal("0.01"))


def percent(data: dict[str, Any], name: str, errors: list[FieldError]) -> Decimal | None:
    """A share in percent, optional, 0 < share ≤ 100."""
    raw = data.get(name)
    if raw in (None, ""):
        return None
    value = _decimal(raw)
    if value is None or value <= 0 or value > 100:
        errors.append(FieldError(name, _("持股比例应大于 0 且不超过 100（%）")))
        return None
    if value != value.quantize(Decimal("0.0001")):
        errors.append(FieldError(name, _("最多四位小数")))
        return None
    return value


def day(
    data: dict[str, Any], name: str, errors: list[FieldError], *, required: bool = False
) -> date | None:
    raw = data.get(name)
    if isinstance(raw, date):
        return raw
    if raw in (None, ""):
        if required:
            errors.append(FieldError(name, _("必填")))
        return None
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        errors.append(FieldError(name, _("日期格式应为 YYYY-MM-DD")))
        return None


def choice(
    data: dict[str, Any], name: str, errors: list[FieldError], choices, *, required: bool = True
) -> str:
    raw = data.get(name)
    value = "" if raw is None else str(raw).strip()
    if not value:
        if required:
            errors.append(FieldError(name, _("必填")))
        return ""
    if value not in choices.values:
        errors.append(FieldError(name, _("不是可选的值：%(v)s") % {"v": value[:40]}))
        return ""
    return value


def code_list(raw: Any) -> list[str] | None:
    """A list of codes from a list or a comma/space separated string; None if neither."""
    if raw in (None, ""):
        return []
    if isinstance(raw, str):
        return [c for c in raw.replace("，", ",").replace(" ", ",").split(",") if c.strip()]
    if isinstance(raw, list | tuple) and all(isinstance(c, str) for c in raw):
        return [c.strip() for c in raw if c.strip()]
    return None
