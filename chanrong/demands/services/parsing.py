"""Reading one value of user input (web form, API body, import) into
the type a demand, an offer or a result keeps: amounts in 万元 or with a
unit, whole numbers in a range, annual rates in percent, choice codes, lists
of codes, object ids. Each parser appends a FieldError for a bad value
instead of raising, so a form reports every bad field at once; the limits
(largest amount, longest term, highest rate) live here too.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from chanrong.core.errors import FieldError
from chanrong.core.money import AmountError, parse_amount

MAX_AMOUNT = Decimal("1000000000000")  # 1 万亿元
# The smallest demand, offer or disbursement: 1 万元. Below it an amount is a
# slip of the unit (0.001 万元 = 10 元 was accepted and shown as "0.00 万元").
MIN_AMOUNT = Decimal("10000")
MAX_TERM_MONTHS = 600
MAX_RATE = Decimal(36)
MAX_PREFERRED = 10
MAX_ID = 2**63 - 1


# --- input -----------------------------------------------------------------------------


def _choice(value: Any) -> str:
    """A choice code from any input: anything that is not text becomes text,
    and is then refused as an unknown code."""
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else str(value)


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if value not in (None, "") else ""


def _amount(value: Any, field: str, errors: list[FieldError], *, required: bool) -> Decimal | None:
    """万元 by default; "800万", "1.2亿", "３５０万元" are understood (core.money)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors.append(FieldError(field, _("必填")))
        return None
    try:
        amount = parse_amount(value, default_unit="万元")
    except AmountError as exc:
        errors.append(FieldError(field, str(exc)))
        return None
    if amount is None or amount <= 0:
        errors.append(FieldError(field, _("金额应大于 0")))
        return None
    if amount > MAX_AMOUNT:
        errors.append(FieldError(field, _("金额过大（上限 1 万亿元）")))
        return None
    if amount < MIN_AMOUNT:
        errors.append(
            FieldError(field, _("金额应不少于 1 万元（以万元为单位填写，如 500 即 500 万元）"))
        )
        return None
    return amount


def _int(value: Any, field: str, errors: list[FieldError], low: int, high: int, message: str):
    if value is None or (isinstance(value, str) and not value.strip()):
        errors.append(FieldError(field, _("必填")))
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        number = Decimal(str(value).strip())
        if not number.is_finite() or number != number.to_integral_value():
            raise ValueError
        number = int(number)
    except (InvalidOperation, ValueError):
        errors.append(FieldError(field, _("应为整数")))
        return None
    if not low <= number <= high:
        errors.append(FieldError(field, message))
        return None
    return number


def _rate(value: Any, field: str, errors: list[FieldError]) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        rate = Decimal(str(value).strip().rstrip("%"))
        if not rate.is_finite():
            raise ValueError
    except (InvalidOperation, ValueError):
        errors.append(FieldError(field, _("应为数字（年利率，百分比）")))
        return None
    if not 0 <= rate <= MAX_RATE:
        errors.append(FieldError(field, _("年利率应在 0%–36% 之间")))
        return None
    return rate.quantize(Decimal("0.0001"))


def _code_list(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        items = value.replace("，", ",").split(",")
    elif isinstance(value, list | tuple | set | frozenset):
        items = list(value)
    else:
        items = [value]  # a lone number or flag: reported as an unknown code
    return list(dict.fromkeys(str(item).strip() for item in items if str(item).strip()))


def _valid_pk(pk: int) -> bool:
    return isinstance(pk, int) and 0 < pk <= MAX_ID
