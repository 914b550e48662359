"""Event forms. Every enterprise, institution and region is picked through the
search pickers (core.pickers), each checked against the organiser's scope."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from chanrong.core import pickers
from chanrong.core.text import validate_name
from chanrong.finance.pickers import INSTITUTIONS
from chanrong.registry.pickers import ENTERPRISES

from .models import EventKind


class EventForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("类型"), choices=EventKind.choices)
    title = forms.CharField(label=gettext_lazy("名称"), max_length=200, validators=[validate_name])
    date = forms.DateField(
        label=gettext_lazy("日期"), widget=forms.DateInput(attrs={"type": "date"})
    )
    place = forms.CharField(label=gettext_lazy("地点"), max_length=200)
    region = pickers.PickerField(pickers.REGIONS, label=gettext_lazy("举办地"))
    is_open = forms.BooleanField(
        label=gettext_lazy("公开报名"),
        required=False,
        help_text=gettext_lazy("公开：所有登录的企业和金融机构可见并可报名；否则仅受邀单位"),
    )
    description = forms.CharField(
        label=gettext_lazy("简介"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )


class InviteForm(forms.Form):
    enterprises = pickers.PickerField(
        ENTERPRISES, multiple=True, required=False, label=gettext_lazy("企业")
    )
    institutions = pickers.PickerField(
        INSTITUTIONS, multiple=True, required=False, label=gettext_lazy("金融机构")
    )

    def clean(self):
        data = super().clean()
        if not self.errors and not data.get("enterprises") and not data.get("institutions"):
            raise forms.ValidationError(gettext_lazy("请至少选择一家企业或金融机构"))
        return data


class PresentedDemandForm(forms.Form):
    enterprise = pickers.PickerField(ENTERPRISES, label=gettext_lazy("企业"))
    title = forms.CharField(label=gettext_lazy("需求"), max_length=200)
    amount = forms.CharField(
        label=gettext_lazy("金额（万元）"), widget=forms.TextInput(attrs={"inputmode": "decimal"})
    )


class DealForm(forms.Form):
    enterprise = pickers.PickerField(ENTERPRISES, label=gettext_lazy("企业"))
    institution = pickers.PickerField(INSTITUTIONS, label=gettext_lazy("金融机构"))
    amount = forms.CharField(
        label=gettext_lazy("金额（万元）"), widget=forms.TextInput(attrs={"inputmode": "decimal"})
    )
    note = forms.CharField(label=gettext_lazy("备注"), max_length=200, required=False)
