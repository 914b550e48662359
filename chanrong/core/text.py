"""Text hygiene: what may be stored in a name, a code and a free text.

Invisible characters in a name are a spoofing tool: a right-to-left
override makes `嘉善\u202eGNP.exe\u200d有限公司` display as something else
than what is stored, and a zero-width character makes two names that look
identical compare different (a second "嘉善精工机械有限公司" beside the
real one, or a list entry that never matches). The rules, one per kind of
field, applied at the edge (API schemas through `core.apikit.schemas.Text`,
services that clean form and import input, Django form/model validators):

- **Names and titles** (enterprise, institution, branch, product, agency,
  list, event, programme, chain names; titles; contact names): no control
  characters (not even a line break), no format characters (Unicode Cf:
  bidi controls U+202A–202E, U+2066–2069, U+200E/F, U+061C; zero-width
  U+200B–200D, U+2060, U+FEFF; soft hyphen …), no private-use, unassigned
  or surrogate code points. Not NFKC-normalised: NFKC would turn the
  full-width brackets of a registered name, 嘉善精工（浙江）有限公司, into
  ASCII ones, and the registered name is what must be stored.
- **Codes** (USCC, region and industry codes, invoice numbers, product
  codes): NFKC first, so that full-width digits and letters typed on a
  Chinese keyboard (９１３３…, Ｃ３９) become ASCII, then the name rules.
- **Free text** (descriptions, reasons, comments: Chinese prose): no bidi
  controls and no control characters except tab and line breaks. Zero-width
  joiners stay (emoji sequences use them) and there is no NFKC: it would
  rewrite Chinese punctuation (，。：（）) into ASCII.
"""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

BIDI_CONTROLS = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
    + ["\u200e", "\u200f", "\u061c"]
)
ZERO_WIDTH = frozenset(["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"])
FREE_TEXT_CONTROLS_ALLOWED = frozenset("\t\n\r")
_REFUSED_IN_NAMES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def _describe(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" {name}" if name else "")


def name_problem(value: str) -> str | None:
    """Why `value` may not be a name or code, or None."""
    for ch in value:
        if unicodedata.category(ch) in _REFUSED_IN_NAMES:
            if ch in BIDI_CONTROLS:
                return _("不能包含文字方向控制字符（%(ch)s）") % {"ch": _describe(ch)}
            if ch in ZERO_WIDTH:
                return _("不能包含零宽字符（%(ch)s）") % {"ch": _describe(ch)}
            return _("不能包含控制字符或不可见字符（%(ch)s）") % {"ch": _describe(ch)}
    return None


def text_problem(value: str) -> str | None:
    """Why `value` may not be stored as free text, or None."""
    for ch in value:
        if ch in BIDI_CONTROLS:
            return _("不能包含文字方向控制字符（%(ch)s）") % {"ch": _describe(ch)}
        category = unicodedata.category(ch)
        if category == "Cc" and ch not in FREE_TEXT_CONTROLS_ALLOWED:
            return _("不能包含控制字符（%(ch)s）") % {"ch": _describe(ch)}
        if category == "Cs":
            return _("含有无效的 Unicode 字符")
    return None


def clean_name(value: str) -> str:
    """A name as given (no NFKC), or ValueError with the reason."""
    problem = name_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def clean_code(value: str) -> str:
    """A code, NFKC-normalised (full-width → ASCII), or ValueError."""
    value = unicodedata.normalize("NFKC", value)
    problem = name_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def clean_text(value: str) -> str:
    """Free text as given, or ValueError with the reason."""
    problem = text_problem(value)
    if problem:
        raise ValueError(problem)
    return value


#: Field names treated as names or codes by `kind_of_field` (the API's
#: `Text` type decides by field name when not told).
NAME_FIELDS = frozenset({"name", "short_name", "title", "notice_title", "issuer"})
CODE_FIELDS = frozenset({"code", "uscc"})


def kind_of_field(field_name: str | None) -> str:
    """'code', 'name' or 'text' for an input field, by its name."""
    if not field_name:
        return "text"
    if field_name in CODE_FIELDS or field_name.endswith(("_code", "_uscc", "_number", "_no")):
        return "code"
    if field_name in NAME_FIELDS or field_name.endswith(("_name", "_title")):
        return "name"
    return "text"


def clean_by_kind(value: str, kind: str) -> str:
    if kind == "code":
        return clean_code(value)
    if kind == "name":
        return clean_name(value)
    return clean_text(value)


@deconstructible
class NameValidator:
    """Django validator for forms and model fields holding names or codes."""

    message = gettext_lazy("不能包含控制字符或不可见字符")
    code = "invisible_characters"

    def __call__(self, value: object) -> None:
        if isinstance(value, str) and (problem := name_problem(value)):
            raise ValidationError(problem, code=self.code)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NameValidator)

    def __hash__(self) -> int:
        return hash(type(self))


@deconstructible
class FreeTextValidator:
    """Django validator for free text (descriptions, reasons)."""

    code = "invisible_characters"

    def __call__(self, value: object) -> None:
        if isinstance(value, str) and (problem := text_problem(value)):
            raise ValidationError(problem, code=self.code)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FreeTextValidator)

    def __hash__(self) -> int:
        return hash(type(self))


validate_name = NameValidator()
validate_free_text = FreeTextValidator()
