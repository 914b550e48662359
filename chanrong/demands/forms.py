"""Web forms for demands, offers and outcomes. They only collect input: every
rule is the service's, and the service's field errors are shown next to
these fields (the form fields carry the service's field names)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from chanrong.core import pickers
from chanrong.core.errors import ValidationFailed
from chanrong.finance.models import CollateralKind, Product, ProductState
from chanrong.finance.pickers import INSTITUTIONS
from chanrong.registry.models import Project

from .models import DemandKind, Urgency


class ServiceErrorsMixin:
    def add_service_errors(self, exc: ValidationFailed) -> None:
        for error in exc.errors:
            field = error.field if error.field in self.fields else None
            self.add_error(field, error.message)

    def service_data(self) -> dict:
        return {key: value for key, value in self.cleaned_data.items()}


class DemandForm(ServiceErrorsMixin, forms.Form):
    kind = forms.ChoiceField(label=_("融资类型"), choices=DemandKind.choices)
    amount_wan = forms.CharField(
        label=_("融资金额（万元）"),
        max_length=40,
        help_text=_("可写 800、800万 或 1.2亿"),
    )
    term_months = forms.CharField(label=_("期限（月）"), max_length=10)
    purpose = forms.CharField(label=_("资金用途"), max_length=200)
    rate_max = forms.CharField(label=_("可接受的最高年利率（%）"), max_length=20, required=False)
    urgency = forms.ChoiceField(
        label=_("紧急程度"), choices=Urgency.choices, initial=Urgency.NORMAL, required=False
    )
    collateral_offered = forms.MultipleChoiceField(
        label=_("可提供的抵质押物"),
        choices=CollateralKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    preferred_institution_ids = pickers.PickerField(
        INSTITUTIONS,
        multiple=True,
        keys=True,
        label=_("意向金融机构"),
        required=False,
        help_text=_("可多选（最多 10 家）；无论是否符合产品条件都会派单给意向机构"),
    )
    project_id = forms.ChoiceField(
        label=_("关联项目"),
        required=False,
        help_text=_("可选：本企业在名录库中登记的重点项目"),
    )
    description = forms.CharField(
        label=_("补充说明"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    share_profile = forms.BooleanField(
        label=_("授权派单机构查看本企业信息"),
        required=False,
        help_text=_("发布时自动授权接到派单的机构查看企业名录信息；可随时撤销"),
    )

    def __init__(self, *args, enterprise_id: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project_id"].choices = [
            ("", _("不关联")),
            *(
                (str(pk), name)
                for pk, name in Project.objects.filter(owner_id=enterprise_id)
                .order_by("name", "pk")
                .values_list("pk", "name")
            ),
        ]


class OfferForm(ServiceErrorsMixin, forms.Form):
    amount_wan = forms.CharField(label=_("金额（万元）"), max_length=40)
    rate = forms.CharField(label=_("年利率（%）"), max_length=20, required=False)
    term_months = forms.CharField(label=_("期限（月）"), max_length=10)
    product_id = forms.ChoiceField(label=_("对应产品"), required=False)
    terms = forms.CharField(
        label=_("方案说明"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, institution_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        products = Product.objects.filter(
            institution_id=institution_id, state=ProductState.PUBLISHED
        ).order_by("name", "pk")
        self.fields["product_id"].choices = [("", _("（不指定）"))] + [
            (str(p.pk), p.name) for p in products
        ]


class ResultForm(ServiceErrorsMixin, forms.Form):
    OUTCOMES = (
        ("granted", _("已授信")),
        ("disbursed", _("已放款")),
        ("rejected", _("未获批")),
    )
    outcome = forms.ChoiceField(label=_("结果"), choices=OUTCOMES, widget=forms.RadioSelect)
    amount_wan = forms.CharField(label=_("授信 / 放款金额（万元）"), max_length=40, required=False)
    rate = forms.CharField(label=_("放款年利率（%）"), max_length=20, required=False)
    term_months = forms.CharField(label=_("放款期限（月）"), max_length=10, required=False)
    disbursed_on = forms.CharField(
        label=_("放款日期"),
        required=False,
        max_length=10,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    reason = forms.CharField(label=_("未获批原因"), required=False, max_length=500)


class ReasonForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=500)


class FeedbackForm(ServiceErrorsMixin, forms.Form):
    institution_id = forms.ChoiceField(label=_("金融机构"))
    score = forms.ChoiceField(
        label=_("评分"),
        choices=[(str(n), "★" * n) for n in range(5, 0, -1)],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(label=_("评价"), required=False, max_length=500)

    def __init__(self, *args, institutions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["institution_id"].choices = [(str(i.pk), str(i)) for i in institutions]
