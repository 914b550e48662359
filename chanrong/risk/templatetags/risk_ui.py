"""Template helpers of the loan-book pages."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    """`errors|get_item:"as_of"`: a form's error or value by field name."""
    if not isinstance(mapping, dict):
        return None
    return mapping.get(key)
