"""Amounts and rates as Chinese users write and read them.

Storage is always `Decimal` 元 (amounts) and percent `Decimal` (rates). People
write "350万元", "1.2亿", "３５０ 万元", "1,200,000"; they read 万元 and 亿元.
Parsing is strict: anything it cannot read with certainty is an error with a
message, never a guess.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _

WAN = Decimal(10_000)
YI = Decimal(100_000_000)

_UNITS = {
    "元": Decimal(1),
    "万": WAN,
    "万元": WAN,
    "亿": YI,
    "亿元": YI,
}
_NUMBER = re.compile(r"^([+-]?\d+(?:\.\d+)?)\s*(万元|亿元|万|亿|元)?$")


class AmountError(ValueError):
    pass


def to_halfwidth(text: str) -> str:
    """Full-width digits, letters and punctuation (０-９, Ａ-Ｚ, ．，) to ASCII; 　 to space."""
    out = []
    for ch in text:
        code = ord(ch)
        if 0xFF01 <= code <= 0xFF5E:
            out.append(chr(code - 0xFEE0))
        elif code == 0x3000:
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def parse_amount(value: object, default_unit: str = "元") -> Decimal | None:
    """Parse an amount into 元. Bare numbers are in `default_unit`.

    None / "" -> None (unknown). Thousands separators are allowed only in
    their proper places ("1,200,000"), so "1,2" is refused rather than
    read as 12 or 1.2.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise AmountError(_("金额不能是布尔值"))
    if isinstance(value, int | Decimal):
        number, unit = Decimal(value), default_unit
    elif isinstance(value, float):
        number, unit = Decimal(repr(value)), default_unit
    else:
        text = to_halfwidth(str(value)).strip().replace(" ", "")
        if text == "":
            return None
        if "," in text:
            head = text.split(".")[0].lstrip("+-")
            head = re.sub(r"(万元|亿元|万|亿|元)$", "", head)
            if not re.fullmatch(r"\d{1,3}(,\d{3})+", head):
                raise AmountError(
                    _("无法识别的金额：%(value)s（千位分隔符位置不对）") % {"value": value}
                )
            text = text.replace(",", "")
        match = _NUMBER.match(text)
        if not match:
            raise AmountError(_("无法识别的金额：%(value)s") % {"value": value})
        number = Decimal(match.group(1))
        unit = match.group(2) or default_unit
    if not number.is_finite():
        raise AmountError(_("无法识别的金额：%(value)s") % {"value": value})
    if unit not in _UNITS:
        raise AmountError(_("未知的金额单位：%(unit)s") % {"unit": unit})
    try:
        return (number * _UNITS[unit]).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:
        raise AmountError(_("金额过大：%(value)s") % {"value": value}) from exc


def yuan_to_wan(amount: Decimal | None) -> Decimal | None:
    return None if amount is None else amount / WAN


def format_amount(amount: Decimal | None, unit: str = "auto", places: int = 2) -> str:
    """ "350.00 万元", "1.20 亿元"; "auto" picks 亿元 from 1 亿 up, 万元 from 1 万 up."""
    if amount is None:
        return "—"
    if unit == "auto":
        magnitude = abs(amount)
        unit = "亿元" if magnitude >= YI else "万元" if magnitude >= WAN else "元"
    divisor = _UNITS[unit]
    quantum = Decimal(1).scaleb(-places)
    value = (amount / divisor).quantize(quantum, rounding=ROUND_HALF_UP)
    return f"{value:,} {unit}"
