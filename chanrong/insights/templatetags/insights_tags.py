from django import template

from chanrong.insights.services import format_number

register = template.Library()


@register.filter
def figure(value) -> str:
    """A computed or reported figure: up to two decimals, no trailing zeros."""
    return format_number(value)
