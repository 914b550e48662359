"""Input checks the public-side services share: each returns the cleaned
value or records a FieldError under the name the client sent."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from chanrong.core import text as core_text
from chanrong.core.errors import FieldError

#: A tag, a comment or a doctype: "no HTML" in what the public writes.
HTML_TAG = re.compile(r"<\s*/?\s*[a-zA-Z!?]|&[a-zA-Z]+;|&#\d+;")
PHONE = re.compile(r"^\+?[0-9][0-9\- ]{5,18}[0-9]$")


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def unknown_fields(data: dict[str, Any], allowed: set[str]) -> list[FieldError]:
    return [FieldError(k, _("不允许的字段")) for k in sorted(set(data) - allowed)]


def text(
    data: dict[str, Any],
    key: str,
    errors: list[FieldError],
    limit: int,
    *,
    required: bool = False,
    minimum: int = 0,
    multiline: bool = False,
    no_html: bool = False,
) -> str:
    """Stripped text of at most `limit` characters. One line: runs of white
    space become one space; several lines: line ends normalised, paragraphs
    (blank lines) kept."""
    value = data.get(key)
    if blank(value):
        if required:
            errors.append(FieldError(key, _("必填")))
        return ""
    if not isinstance(value, str):
        errors.append(FieldError(key, _("应为文本")))
        return ""
    # core.text: no NUL, control, bidi or (in one line) invisible characters.
    problem = (core_text.text_problem if multiline else core_text.name_problem)(value)
    if problem:
        errors.append(FieldError(key, problem))
        return ""
    if multiline:
        lines = [" ".join(line.split()) for line in value.replace("\r\n", "\n").split("\n")]
        cleaned = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    else:
        cleaned = " ".join(value.split())
    if no_html and HTML_TAG.search(cleaned):
        errors.append(FieldError(key, _("请使用纯文本，不能包含 HTML 标签或实体")))
        return ""
    if len(cleaned) > limit:
        errors.append(FieldError(key, _("最多 %(n)s 个字符") % {"n": limit}))
        return ""
    if len(cleaned) < minimum:
        errors.append(FieldError(key, _("至少 %(n)s 个字符") % {"n": minimum}))
        return ""
    return cleaned


def phone(data: dict[str, Any], key: str, errors: list[FieldError]) -> str:
    value = text(data, key, errors, 20)
    if value and not PHONE.match(value):
        errors.append(FieldError(key, _("请输入有效的电话号码（如 13800001234 或 0573-84123456）")))
        return ""
    return value


def email(data: dict[str, Any], key: str, errors: list[FieldError]) -> str:
    value = text(data, key, errors, 254)
    if value:
        try:
            validate_email(value)
        except ValidationError:
            errors.append(FieldError(key, _("请输入有效的电子邮箱地址")))
            return ""
    return value


def small_id(value: Any) -> int | None:
    """A database id from untrusted text (ASCII digits, at most 12), else None."""
    text_value = str(value or "").strip()
    if text_value.isascii() and text_value.isdigit() and len(text_value) <= 12:
        return int(text_value)
    return None


def search_words(query: str) -> list[str]:
    """At most eight words of a search box, without NUL characters."""
    return query.replace("\x00", "").split()[:8]


def flag(data: dict[str, Any], key: str) -> bool:
    value = data.get(key)
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "on", "yes"}
    return bool(value)
