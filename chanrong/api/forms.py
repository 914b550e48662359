from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from . import services, webhooks


class EndpointForm(forms.Form):
    url = forms.CharField(
        label=_("接收地址"),
        max_length=services.MAX_URL,
        help_text=_(
            "贵机构系统接收事件的 HTTPS 地址，如 https://bank.example.com/chanrong/webhook"
        ),
        widget=forms.TextInput(attrs={"inputmode": "url", "spellcheck": "false"}),
    )
    description = forms.CharField(
        label=_("说明"), max_length=services.MAX_DESCRIPTION, required=False
    )
    events = forms.MultipleChoiceField(
        label=_("订阅事件"), widget=forms.CheckboxSelectMultiple, choices=()
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["events"].choices = [(k, f"{v}（{k}）") for k, v in webhooks.EVENTS.items()]
