"""Invoice numbers as the tax system writes them, checked before anything is stored.

Two shapes exist (国家税务总局):

- 增值税发票 (paper or the earlier electronic ones): a 发票代码 of 10 digits
  (专用发票, 普通发票) or 12 digits (电子普通发票, 卷票, 通行费发票 …) plus an
  8-digit 发票号码;
- 全面数字化的电子发票 (数电票): one 20-digit 发票号码 and no code.

Clerks paste numbers with spaces, hyphens and full-width digits; those are
normalised away. Anything else — letters, another length, all zeros — is
refused with a message that says which rule broke; nothing is guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from chanrong.core.money import to_halfwidth

_SEPARATORS = re.compile(r"[\s\-_/]+")
CODE_LENGTHS = (10, 12)
NUMBER_LENGTH = 8
DIGITAL_LENGTH = 20


class InvoiceError(ValueError):
    pass


@dataclass(frozen=True, order=True)
class InvoiceRef:
    """An invoice's identity: (code, number); code is "" for a 数电票."""

    code: str
    number: str

    @property
    def digital(self) -> bool:
        return not self.code

    def __str__(self) -> str:
        return self.number if self.digital else f"{self.code} {self.number}"


def _digits(value: Any, what: str) -> str:
    text = _SEPARATORS.sub("", to_halfwidth(str(value or "")))
    if text and not text.isdigit():
        raise InvoiceError(_("%(what)s只能由数字组成：%(value)s") % {"what": what, "value": text})
    return text


def parse_invoice(raw: Any) -> InvoiceRef:
    """One invoice from a dict {"code": …, "number": …} or a string: a code
    and a number separated by a space, hyphen or slash ("3300231130
    01234567"), else a 20-digit 数电票 number (in groups or not). A 12-digit
    code and its number run together are 20 digits too, and are read as a
    数电票 number: the separator is what tells them apart."""
    if isinstance(raw, dict):
        code = _digits(raw.get("code"), _("发票代码"))
        number = _digits(raw.get("number"), _("发票号码"))
    elif isinstance(raw, str):
        parts = [p for p in _SEPARATORS.split(to_halfwidth(raw).strip()) if p]
        if len(parts) == 2:
            code, number = _digits(parts[0], _("发票代码")), _digits(parts[1], _("发票号码"))
        else:
            # One run of digits, or a 数电票 number written in groups ("2633 2000 …").
            code, number = "", _digits("".join(parts), _("发票号码"))
    else:
        raise InvoiceError(_("发票应为发票代码和号码，或数电票号码"))
    if not number:
        raise InvoiceError(_("发票号码必填"))
    if not code:
        if len(number) != DIGITAL_LENGTH:
            raise InvoiceError(
                _(
                    "数电票号码应为 20 位数字，当前为 %(n)d 位；"
                    "增值税发票请同时填写 10 位或 12 位发票代码和 8 位发票号码"
                )
                % {"n": len(number)}
            )
    else:
        if len(code) not in CODE_LENGTHS:
            raise InvoiceError(
                _("发票代码应为 10 位或 12 位数字，当前为 %(n)d 位") % {"n": len(code)}
            )
        if len(number) != NUMBER_LENGTH:
            raise InvoiceError(_("发票号码应为 8 位数字，当前为 %(n)d 位") % {"n": len(number)})
        if set(code) == {"0"}:
            raise InvoiceError(_("发票代码不能全为 0"))
    if set(number) == {"0"}:
        raise InvoiceError(_("发票号码不能全为 0"))
    return InvoiceRef(code, number)
