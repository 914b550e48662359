"""How demand and dispatch states, amounts and ratings read on the page."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from chanrong.demands.services import ratings

register = template.Library()

_TONES = {
    "draft": "",
    "published": "open",
    "dispatched": "open",
    "claimed": "busy",
    "negotiating": "busy",
    "offered": "busy",
    "accepted": "busy",
    "granted": "good",
    "disbursed": "good",
    "rejected": "bad",
    "withdrawn": "",
    "expired": "bad",
    "declined": "bad",
    "not_selected": "",
    "cancelled": "",
    "pending_review": "busy",
    "eligible": "good",
    "unknown": "busy",
    "ineligible": "bad",
}


@register.simple_tag
def state_tag(obj, field: str = "state"):
    """A model's state as a coloured tag with its Chinese label."""
    value = getattr(obj, field)
    label = getattr(obj, f"get_{field}_display")()
    tone = _TONES.get(value, "")
    css = f"state state--{tone}" if tone else "state"
    return format_html('<span class="{}" data-state="{}">{}</span>', css, value, label)


@register.simple_tag
def tone_tag(value: str, label: str):
    tone = _TONES.get(value, "")
    css = f"state state--{tone}" if tone else "state"
    return format_html('<span class="{}" data-state="{}">{}</span>', css, value, label)


@register.filter
def percent(value) -> str:
    if value is None or value == "":
        return "—"
    return f"{Decimal(str(value)).quantize(Decimal('0.01'))}%"


@register.simple_tag
def stars(score) -> str:
    if score is None:
        return "—"
    whole = int(round(float(score)))
    return format_html(
        '<span class="stars" aria-label="{} / 5">{}</span>', score, "★" * whole + "☆" * (5 - whole)
    )


@register.filter
def ratio(value) -> str:
    """A share 0–1 (statistics) as a percentage with one decimal; "—" if undefined."""
    if value is None or value == "":
        return "—"
    return f"{Decimal(str(value)) * 100:.1f}%"


@register.simple_tag
def institution_ratings(institutions) -> dict:
    """The ratings of a page of institutions in one query, for
    `institution_rating` to show row by row:
    `{% institution_ratings institutions as ratings %}`."""
    return ratings([institution.pk for institution in institutions])


@register.simple_tag
def institution_rating(institution, page_ratings: dict | None = None) -> str:
    """ "4.6 ★（23 条评价）", or "暂无评价" (wherever institutions are listed).
    `page_ratings` (from `institution_ratings`) saves a query per row."""
    if page_ratings is not None and institution.pk in page_ratings:
        rating = page_ratings[institution.pk]
    else:
        rating = ratings([institution.pk])[institution.pk]
    if not rating.count:
        return format_html('<span class="help">{}</span>', _("暂无评价"))
    return format_html(
        '<span data-rating="{}">{} ★ <small>{}</small></span>',
        rating.average,
        rating.average,
        _("（%(n)s 条评价）") % {"n": rating.count},
    )
