"""Forms of the matching pages. They only shape the input; the rules
(range, who may set what) are in `matching.policy`."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from chanrong.core import pickers

from .models import MAX_WEIGHT, MIN_WEIGHT


class RegionLookupForm(forms.Form):
    """Which region's weights to show: a search picker (core.pickers) that
    refuses, on the field, a region outside the user's subtree. Bind it with
    `pickers.bind(form, user)`; it cleans to the region's code."""

    region = pickers.PickerField(pickers.REGIONS, keys=True, label=_("地区"))


def _weight(label) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        min_value=MIN_WEIGHT,
        max_value=MAX_WEIGHT,
        max_digits=6,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.1", "min": MIN_WEIGHT, "max": MAX_WEIGHT}),
    )


class PolicyWeightsForm(forms.Form):
    white_list = _weight(_("白名单"))
    specialised = _weight(_("专精特新"))
    tech = _weight(_("科创"))
    green = _weight(_("绿色"))
