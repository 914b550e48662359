"""How the public and enterprise policy pages print money and rates."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.html import format_html

register = template.Library()


@register.filter
def yuan(value) -> str:
    """An amount in 元 with grouping and two decimals ("35,833.33"); "—" if unknown."""
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    return f"{amount:,.2f}"


@register.filter
def rate(value) -> str:
    """A rate in percent, without trailing zeros ("3.45%"); "—" if unknown."""
    if value is None or value == "":
        return "—"
    try:
        number = Decimal(str(value)).normalize()
    except (InvalidOperation, ValueError):
        return str(value)
    return f"{number:f}%"


_TONES = {
    "proposed": "busy",
    "bank_pending": "busy",
    "submitted": "busy",
    "verified": "busy",
    "notice": "open",
    "approved": "open",
    "paid": "good",
    "rejected": "bad",
    "withdrawn": "",
    "draft": "",
    "published": "good",
    "closed": "",
}


@register.simple_tag
def policy_state(obj):
    """An application's or programme's state as a coloured tag with its Chinese label."""
    value = obj.state
    tone = _TONES.get(value, "")
    css = f"state state--{tone}" if tone else "state"
    return format_html(
        '<span class="{}" data-state="{}">{}</span>', css, value, obj.get_state_display()
    )
