"""Web forms of the 上市培育 pages. They collect text under the services'
field names and hand it over; every rule (stage order, dates, board, stock
code, proceeds) is the services'. `add_service_errors` puts each FieldError
beside the control of the same name."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from chanrong.core.errors import ValidationFailed

from .models import Board, Stage

DATE = {"type": "date"}


class ServiceForm(forms.Form):
    def add_service_errors(self, exc: ValidationFailed) -> None:
        for error in exc.errors:
            self.add_error(error.field if error.field in self.fields else None, error.message)
        if not exc.errors:
            self.add_error(None, exc.message)

    def service_data(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}


def _agency_choices(agencies) -> list[tuple[str, str]]:
    return [("", "—"), *((str(a.pk), a.name) for a in agencies)]


class PipelineForm(ServiceForm):
    enterprise = forms.CharField(label=_("企业（统一社会信用代码）"), max_length=18, required=False)
    board = forms.ChoiceField(label=_("目标板块"), choices=[("", "—"), *Board.choices])
    agency_id = forms.ChoiceField(label=_("负责部门"), required=False)
    reached_on = forms.CharField(
        label=_("入库（孵化）日期"), required=False, widget=forms.DateInput(attrs=DATE)
    )
    document_no = forms.CharField(label=_("文号"), max_length=100, required=False)
    evidence = forms.CharField(label=_("佐证材料说明"), max_length=500, required=False)

    def __init__(self, *args, agencies=(), own_enterprise: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency_id"].choices = _agency_choices(agencies)
        if own_enterprise:
            del self.fields["enterprise"]


class AdvanceForm(ServiceForm):
    stage = forms.ChoiceField(label=_("推进到"))
    reached_on = forms.CharField(label=_("日期"), widget=forms.DateInput(attrs=DATE))
    agency_id = forms.ChoiceField(label=_("负责部门"), required=False)
    document_no = forms.CharField(label=_("文号/受理号"), max_length=100, required=False)
    evidence = forms.CharField(label=_("佐证材料说明"), max_length=500, required=False)
    stock_code = forms.CharField(label=_("证券代码"), max_length=20, required=False)
    proceeds = forms.CharField(label=_("募集资金（元）"), max_length=30, required=False)

    def __init__(self, *args, next_stage: str | None = None, agencies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].choices = [(s, label) for s, label in Stage.choices]
        if next_stage:
            self.fields["stage"].initial = next_stage
        self.fields["agency_id"].choices = _agency_choices(agencies)


class WithdrawForm(ServiceForm):
    withdrawn_on = forms.CharField(
        label=_("撤回/终止日期"), required=False, widget=forms.DateInput(attrs=DATE)
    )
    reason = forms.CharField(label=_("原因"), max_length=300)


class ProposeForm(ServiceForm):
    note = forms.CharField(label=_("调整说明"), max_length=500, required=False)
