"""Field parsing for loan-book reports: every problem becomes a FieldError
named after the field (with the row prefix of a bulk report), so the web
form, the API and an import all say the same thing about the same input."""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from chanrong.core.errors import FieldError

#: Above this a number is a typing error, not a loan (10^12 元 = 1 万亿).
MAX_AMOUNT = Decimal("1e12")
#: Annual rates above this are not lawful lending rates.
MAX_RATE = Decimal("36")


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it is shorter)."""
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def text(
    data: dict[str, Any],
    name: str,
    errors: list[FieldError],
    prefix: str = "",
    *,
    required: bool = False,
    max_length: int = 200,
) -> str:
    raw = data.get(name)
    value = "" if raw is None else str(raw).strip()
    if not value and required:
        errors.append(FieldError(f"{prefix}{name}", _("必填")))
    elif len(value) > max_length:
        errors.append(FieldError(f"{prefix}{name}", _("最多 %(n)s 个字符") % {"n": max_length}))
    return value


def _decimal(raw: Any) -> Decimal | None:
    if isinstance(raw, bool):
        return None
    try:
        value = Decimal(str(raw).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def parse_money(
    data: dict[str, Any],
    name: str,
    errors: list[FieldError],
    prefix: str = "",
    *,
    required: bool = False,
    positive: bool = False,
) -> Decimal | None:
    """An amount in 元 with at most two decimals; never negative."""
    raw = data.get(name)
    if raw in (None, ""):
        if required:
            errors.append(FieldError(f"{prefix}{name}", _("必填")))
        return None
    value = _decimal(raw)
    if value is None:
        errors.append(FieldError(f"{prefix}{name}", _("应为数字（元）")))
        return None
    if value < 0 or (positive and value == 0):
        errors.append(FieldError(f"{prefix}{name}", _("应大于 0") if positive else _("不能为负数")))
        return None
    if value >= MAX_AMOUNT:
        errors.append(FieldError(f"{prefix}{name}", _("金额过大，请核对单位（元）")))
        return None
    if value != value.quantize(Decimal("0.01")):
        errors.append(FieldError(f"{prefix}{name}", _("最多两位小数")))
        return None
    return value.quantize(Decimal("0.01"))


def parse_rate(
    data: dict[str, Any], name: str, errors: list[FieldError], prefix: str = ""
) -> Decimal | None:
    """An annual rate in percent, optional, 0 ≤ rate ≤ 36."""
    raw = data.get(name)
    if raw in (None, ""):
        return None
    value = _decimal(raw)
    if value is None or value < 0 or value > MAX_RATE:
        errors.append(FieldError(f"{prefix}{name}", _("年利率应在 0 到 36（%）之间")))
        return None
    return value.quantize(Decimal("0.000001"))


def parse_date(
    data: dict[str, Any],
    name: str,
    errors: list[FieldError],
    prefix: str = "",
    *,
    required: bool = False,
) -> date | None:
    raw = data.get(name)
    if isinstance(raw, date):
        return raw
    if raw in (None, ""):
        if required:
            errors.append(FieldError(f"{prefix}{name}", _("必填")))
        return None
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        errors.append(FieldError(f"{prefix}{name}", _("日期格式应为 YYYY-MM-DD")))
        return None
