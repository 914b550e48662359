"""Indicator figures as people type and read them: a value parsed
with the precision it was written with ("4.90" keeps two places), printed
back the same way, and the range of plan and report years. Targets, reports,
financing amounts and dashboards all go through these, so a figure never
changes between the form, the table and the export.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from chanrong.core.errors import ValidationFailed
from chanrong.core.money import to_halfwidth

MIN_YEAR, MAX_YEAR = 2000, 2100
_MAX_VALUE = Decimal("1e15")


def parse_number(value: Any, field_name: str, *, allow_negative: bool = False) -> Decimal | None:
    """A figure as typed ("714", "4.90", "１２", "") -> Decimal, keeping the
    written precision; None for blank. Raises ValidationFailed."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValidationFailed({field_name: _("应为数字")})
    if isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    else:
        text = to_halfwidth(str(value)).strip().replace(",", "")
        if text == "":
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValidationFailed(
                {field_name: _("无法识别的数值：%(value)s") % {"value": value}}
            ) from None
    if not number.is_finite():
        raise ValidationFailed({field_name: _("无法识别的数值：%(value)s") % {"value": value}})
    if abs(number) >= _MAX_VALUE:
        raise ValidationFailed({field_name: _("数值过大")})
    if number < 0 and not allow_negative:
        raise ValidationFailed({field_name: _("不能为负数")})
    if number.as_tuple().exponent < -4:  # type: ignore[operator]
        raise ValidationFailed({field_name: _("最多保留 4 位小数")})
    return number


def places_of(number: Decimal | None) -> int | None:
    if number is None:
        return None
    exponent = number.as_tuple().exponent
    return max(0, -int(exponent))  # type: ignore[arg-type]


def format_number(number: Decimal | None, places: int | None = None) -> str:
    """Targets print with the places they were written with; computed figures
    with at most two decimals and no trailing zeros."""
    if number is None:
        return ""
    if places is not None:
        return f"{number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):f}"
    rounded = number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = f"{rounded:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
