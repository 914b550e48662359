"""Template helpers for how amounts, sizes and summaries read on the page."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.html import format_html

from chanrong.core.codes import size_label

register = template.Library()

WAN = Decimal(10000)
_SIZE_CLASSES = {"large", "medium", "small", "micro"}


@register.filter
def wan(value, places: int = 2) -> str:
    """An amount stored in 元, shown in 万元 with grouping ("3,500.00"); "—" if unknown."""
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(str(value)) / WAN
    except (InvalidOperation, ValueError):
        return "—"
    # Financial figures are grouped by thousands with "," in both languages,
    # as Chinese banks print them (Django's zh-hans format has no grouping).
    return f"{amount:,.{int(places)}f}"


@register.simple_tag
def size_tag(size: str | None) -> str:
    """大型 / 中型 / 小型 / 微型 or 未知, as a coloured tag."""

    css = size if size in _SIZE_CLASSES else "unknown"
    return format_html('<span class="tag tag--{}">{}</span>', css, size_label(size))
