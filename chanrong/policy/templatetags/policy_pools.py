"""Template helpers of the pool pages: exact amounts in 元 (to the fen)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def yuan(value) -> str:
    """An amount in 元 with grouping and two decimals ("1,296.30"); "—" if unknown.
    Grouped with "," in both languages, as Chinese banks print amounts."""
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return "—"
    return f"{amount:,.2f}"
