"""Forms of the matching pages. They only shape the input; the rules
(range, who may set what) are in `matching.policy`."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import MAX_WEIGHT, MIN_WEIGHT


class RegionLookupForm(forms.Form):
    region = forms.RegexField(
        label=_("地区代码"),
        regex=r"^[0-9]{6}$",
        max_length=6,
        error_messages={"invalid": _("请输入 6 位行政区划代码")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "330421"}),
    )


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
