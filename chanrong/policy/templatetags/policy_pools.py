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


@register.filter
def calc_value(value) -> str:
    """A calculator line's exact value, readable: grouped, at most four
    decimals (the line's text and the final, rounded amount carry the rest)."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if not amount.is_finite():
        return str(value)
    if amount.as_tuple().exponent < -4:
        amount = amount.quantize(Decimal("0.0001"))
    return f"{amount:,}"
