"""Match scores as people read them: a band (匹配度高 / 中 / 低), never the raw number.

The engine's score weighs how well the product's conditions fit the demand
(35%), policy priority (25%), the institution's service record (20%) and the
likelihood of approval (20%), less a penalty; a pair that fits well on all
of them scores about 0.6 or more. The bands are cut at 0.6 and 0.4.
"""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

register = template.Library()

HIGH = 0.6
MEDIUM = 0.4


def band_of(score: float | None) -> str:
    if score is None:
        return ""
    if score >= HIGH:
        return "high"
    if score >= MEDIUM:
        return "medium"
    return "low"


@register.inclusion_tag("matching/_band.html")
def match_band(score: float | None) -> dict:
    """<span class="match-band match-band--high">匹配度高</span>, with the explanation as its title."""
    band = band_of(score)
    labels = {"high": _("匹配度高"), "medium": _("匹配度中"), "low": _("匹配度低")}
    return {"band": band, "label": labels.get(band, "—")}
