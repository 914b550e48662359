"""An institution's service rating (from demands.Feedback) wherever institutions are listed."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag
def institution_rating(institution) -> str:
    """ "4.6 ★（23 条评价）", or "暂无评价"."""
    from chanrong.demands.services import ratings

    rating = ratings([institution.pk])[institution.pk]
    if not rating.count:
        return format_html('<span class="help">{}</span>', _("暂无评价"))
    return format_html(
        '<span data-rating="{}">{} ★ <small>{}</small></span>',
        rating.average,
        rating.average,
        _("（%(n)s 条评价）") % {"n": rating.count},
    )
