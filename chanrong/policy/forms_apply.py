"""Web forms of the public and enterprise side of the policy app: the
programme filter, the 公示 objection, the loan an application pays on, the
claim (period, interest or fee paid, award item), attachments, and the
bank's confirmation.

They collect input as text under the services' own field names and hand it
over; the rules ("必填", "截止日早于起始日", "只能申请已经发生的利息") are the
services'. `ServiceErrors.add_service_errors` puts each `FieldError` beside
the control of the same name, anything else at the top of the form.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from chanrong.core.errors import ValidationFailed
from chanrong.finance import eligibility as el
from chanrong.finance.models import FinancialInstitution, InstitutionKind

from .models import ProgrammeKind
from .services.attachments import SLOTS

DATE = {"type": "date"}
MONEY = {"inputmode": "decimal", "autocomplete": "off"}


class ServiceErrors:
    def add_service_errors(self, exc: ValidationFailed) -> None:
        for error in exc.errors:
            if error.field in self.fields:
                self.add_error(error.field, error.message)
            else:
                self.add_error(None, error.message)
        if not exc.errors:
            self.add_error(None, exc.message)


def _text(label, *, max_length=64, required=False, help_text="", **attrs) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        help_text=help_text,
        widget=forms.TextInput(attrs=attrs) if attrs else None,
    )


def _date(label, help_text="") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=10,
        help_text=help_text,
        widget=forms.DateInput(attrs=DATE),
    )


class ProgrammeFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("政策类型"), required=False)
    region = forms.ChoiceField(label=_("适用地区"), required=False)

    def __init__(self, *args, regions: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("全部")), *ProgrammeKind.choices]
        self.fields["region"].choices = [("", _("全部")), *regions]

    def values(self) -> dict:
        """The chosen filters; an unknown value (a stale link) filters nothing."""
        if not self.is_bound or not self.is_valid():
            return {"kind": "", "region": ""}
        return {"kind": self.cleaned_data["kind"], "region": self.cleaned_data["region"]}


class ObjectionForm(ServiceErrors, forms.Form):
    name = _text(_("异议人姓名或单位"), max_length=200)
    contact = _text(_("联系方式"), max_length=200, help_text=_("电话或电子邮箱，仅供审核部门联系"))
    text = forms.CharField(
        label=_("异议内容"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("请写明异议事实和依据"),
    )


class LoanForm(ServiceErrors, forms.Form):
    """An off-platform loan, as on its contract; the lending bank confirms it."""

    institution_id = forms.ChoiceField(label=_("贷款银行"), required=False)
    contract_no = _text(_("借款合同编号"))
    principal = _text(_("贷款金额（元）"), max_length=30, **MONEY)
    rate = _text(_("执行年利率（%）"), max_length=20, **MONEY)
    loan_date = _date(_("放款日期"))
    maturity_date = _date(_("到期日期"))
    kind = forms.ChoiceField(label=_("贷款类型"), required=False)
    purpose = _text(_("贷款用途"), max_length=200)
    guarantor_id = forms.ChoiceField(label=_("担保机构（如有）"), required=False)
    guarantee_fee_rate = _text(_("担保费率（%/年，如有）"), max_length=20, **MONEY)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        lenders = FinancialInstitution.objects.exclude(kind=InstitutionKind.GUARANTEE).order_by(
            "name"
        )
        guarantors = FinancialInstitution.objects.filter(kind=InstitutionKind.GUARANTEE).order_by(
            "name"
        )
        self.fields["institution_id"].choices = [("", "—")] + [(str(i.pk), i.name) for i in lenders]
        self.fields["guarantor_id"].choices = [("", _("无"))] + [
            (str(i.pk), i.name) for i in guarantors
        ]
        self.fields["kind"].choices = [(k, _(v)) for k, v in el.DEMAND_KIND_LABELS.items()]
        self.fields["kind"].initial = "debt"


class ClaimForm(ServiceErrors, forms.Form):
    """What the application asks for. `loan` is the loan chosen in the
    previous step (its pk), carried along so the preview and the submission
    see the same one."""

    loan = forms.CharField(required=False, widget=forms.HiddenInput)
    period_start = _date(_("计息（担保）起始日"))
    period_end = _date(_("截止日"), help_text=_("同一年度内，不晚于今天"))
    paid_cost = _text(
        _("期间实付利息/担保费（元）"),
        max_length=30,
        help_text=_("按银行付息凭证填写；贷款银行将确认此金额"),
        **MONEY,
    )
    award_item = forms.ChoiceField(label=_("奖励事项"), required=False)

    def __init__(self, *args, kind: str, award_items: list[tuple[str, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        if kind == ProgrammeKind.AWARD:
            for name in ("period_start", "period_end", "paid_cost"):
                del self.fields[name]
            self.fields["award_item"].choices = [("", "—"), *award_items]
        else:
            del self.fields["award_item"]
            if kind == ProgrammeKind.GUARANTEE_FEE:
                self.fields["paid_cost"].label = _("期间实付担保费（元）")
                self.fields["paid_cost"].help_text = _("按担保费发票填写；贷款银行将确认此金额")
            else:
                self.fields["paid_cost"].label = _("期间实付利息（元）")

    def data_for_service(self) -> dict:
        """The raw text, as the service parses it (never the form's own cleaning)."""
        return {
            name: (self.data.get(name) or "").strip()
            for name in ("period_start", "period_end", "paid_cost", "award_item")
        }


class AttachmentForm(forms.Form):
    slot = forms.ChoiceField(label=_("材料类型"), choices=list(SLOTS.items()))
    file = forms.FileField(label=_("文件"), required=False)


class BankConfirmForm(ServiceErrors, forms.Form):
    paid_cost = _text(
        _("期间实付金额（元）"),
        max_length=30,
        help_text=_("不填则确认企业所报金额"),
        **MONEY,
    )
