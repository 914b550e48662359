"""Input helpers shared by the registry's cleaners (and usable by importers).

Each helper reads one key of a raw input dict (API body, form, import row)
and appends a FieldError instead of raising, so that one answer names every
bad field. A key that is not given comes back as `_Absent` (a partial update
leaves the field alone), while a blank one means "clear it". Also the units
every amount check uses: WAN (1 万元 in 元) and the upper bound of an amount.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from chanrong.core.errors import FieldError
from chanrong.core.money import AmountError, parse_amount, to_halfwidth

WAN = Decimal(10000)
MAX_AMOUNT_WAN = Decimal("100000000")  # 1 万亿元: beyond any real enterprise


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
