"""How the policy pages print money, rates and states."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()

_STATE_CLASSES = {
    # applications
    "proposed": "busy",
    "bank_pending": "busy",
    "submitted": "busy",
    "verified": "busy",
    "notice": "open",
    "approved": "open",
    "paid": "good",
    "rejected": "bad",
    "withdrawn": "bad",
    # programmes
    "draft": "busy",
    "published": "good",
    "closed": "",
}


@register.filter
def state_class(state: str) -> str:
    """The css modifier of a state tag ("state--good" …)."""
    css = _STATE_CLASSES.get(state or "", "")
    return f"state--{css}" if css else ""


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
