"""Web forms of the fund pages: they collect text under the services' own
field names and hand it over; every rule is the services'.
`add_service_errors` puts each FieldError beside the control of the same
name, anything else at the top."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from chanrong.core import pickers
from chanrong.core.errors import ServiceError
from chanrong.core.text import clean_by_kind, kind_of_field

from .models import FundKind, FundStage, InvestmentRound

DATE = {"type": "date"}
MONEY = {"inputmode": "decimal", "autocomplete": "off"}


class ServiceForm(forms.Form):
    """Text controls are checked by core.text's rule for their field name
    (no bidi overrides or zero-width characters)."""

    def clean(self):
        data = super().clean()
        for name, value in list(data.items()):
            if isinstance(value, str):
                try:
                    data[name] = clean_by_kind(value, kind_of_field(name))
                except ValueError as exc:
                    self.add_error(name, str(exc))
        return data

    def add_service_errors(self, exc: ServiceError) -> None:
        placed = False
        for error in exc.errors:
            if error.field in self.fields:
                self.add_error(error.field, error.message)
                placed = True
            else:
                self.add_error(None, f"{error.field}: {error.message}")
                placed = True
        if not placed:
            self.add_error(None, exc.message)


class FundForm(ServiceForm):
    name = forms.CharField(label=_("基金名称"), max_length=100)
    kind = forms.ChoiceField(label=_("基金类型"), choices=FundKind.choices)
    target_size = forms.CharField(label=_("目标规模（元）"), widget=forms.TextInput(MONEY))
    paid_in_size = forms.CharField(label=_("实缴规模（元）"), widget=forms.TextInput(MONEY))
    manager = forms.TypedChoiceField(label=_("基金管理人"), coerce=int, choices=())
    # A search picker (core.pickers): the service reads the region's code.
    region = pickers.PickerField(pickers.REGIONS, keys=True, label=_("注册地（投资区域）"))
    focus_industries = forms.CharField(
        label=_("重点投资行业"),
        required=False,
        help_text=_("国民经济行业分类代码，逗号分隔，如 C38, C39"),
    )
    focus_stages = forms.MultipleChoiceField(
        label=_("重点投资阶段"),
        required=False,
        choices=FundStage.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    ticket_min = forms.CharField(
        label=_("单笔投资下限（元）"), required=False, widget=forms.TextInput(MONEY)
    )
    ticket_max = forms.CharField(
        label=_("单笔投资上限（元）"), required=False, widget=forms.TextInput(MONEY)
    )
    inception_date = forms.CharField(label=_("成立日期"), widget=forms.DateInput(DATE))

    def __init__(self, *args, managers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["manager"].choices = [(m.pk, m.name) for m in managers]


class InvestmentForm(ServiceForm):
    enterprise_uscc = forms.CharField(label=_("被投企业统一社会信用代码"), max_length=18)
    round = forms.ChoiceField(label=_("轮次"), choices=InvestmentRound.choices)
    amount = forms.CharField(label=_("投资金额（元）"), widget=forms.TextInput(MONEY))
    invested_on = forms.CharField(label=_("投资日期"), widget=forms.DateInput(DATE))
    share_pct = forms.CharField(label=_("持股比例（%）"), required=False)
