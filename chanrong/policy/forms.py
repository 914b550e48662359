"""Web forms of the government side of the policy app.

They only collect input, as text, and hand it to `chanrong.policy.services`:
every rule (required fields, ranges, "不能超过 100%", "结束日期早于开始日期")
is the services' (`policy.params`, `policy.rules`, `services.programmes`),
whose `ValidationFailed` names fields such as "params.cap_per_loan",
"params.items.2.code" or "eligibility.term_max_months". `ProgrammeForms`
routes each of those names back to the control that holds it, so the clerk
sees the error beside the field she typed.

A programme is edited as four parts, each a Django form with its own HTML
prefix so names never collide: the main form (name, 文号, period …), the
parameters of its kind (prefix "params"), the award items table (a formset,
prefix "items", 奖励 only) and the eligibility (prefix "eligibility").
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from chanrong.core import pickers
from chanrong.core.errors import ValidationFailed
from chanrong.core.models import Industry, IndustryLevel
from chanrong.core.text import validate_name
from chanrong.finance import eligibility as el
from chanrong.registry.models import QualificationKind

from . import params as pm
from . import rules
from .models import Programme, ProgrammeKind

DATE = {"type": "date"}
_SPLIT = re.compile(r"[\s,，、;；]+")


def _text(label, help_text="", **kwargs) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=kwargs.pop("max_length", 40),
        help_text=help_text,
        **kwargs,
    )


def _date(label, help_text="") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=10,
        help_text=help_text,
        widget=forms.DateInput(attrs=DATE),
    )


def _checkboxes(label, choices, help_text="") -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label,
        required=False,
        choices=choices,
        help_text=help_text,
        widget=forms.CheckboxSelectMultiple,
    )


def _plain(value: Any) -> str:
    """A stored value as the text a clerk would type back."""
    if value is None:
        return ""
    return str(value)


class ServiceErrorsMixin:
    """Shows a service's field errors on this form: a field of the same
    name takes its error, anything else goes to the top of the form."""

    def show_error(self, name: str | None, message: str) -> None:
        if name is not None and name in self.fields:
            # The field may have been cleaned already: add_error removes it
            # from cleaned_data, which is what we want (the value was refused).
            self.add_error(name, message)
        else:
            self.add_error(None, message)

    def add_service_errors(self, exc: ValidationFailed) -> None:
        for error in exc.errors:
            self.show_error(error.field, error.message)
        if not exc.errors:
            self.add_error(None, exc.message)


# --- the programme's main fields ----------------------------------------------------------------


class ProgrammeForm(ServiceErrorsMixin, forms.Form):
    kind = forms.ChoiceField(label=_("政策类型"), choices=ProgrammeKind.choices)
    name = forms.CharField(
        label=_("政策名称"), max_length=200, required=False, validators=[validate_name]
    )
    basis = forms.CharField(
        label=_("政策依据（文号）"),
        max_length=200,
        required=False,
        help_text=_("如 善财企〔2026〕1号"),
    )
    starts_on = _date(_("政策开始日期"))
    ends_on = _date(_("政策结束日期"))
    notice_days = _text(_("公示期（工作日）"), _("1–30 个工作日"), max_length=4)
    requires_bank_confirmation = forms.BooleanField(
        label=_("需贷款银行确认贷款信息和实付利息/担保费"), required=False
    )
    auto_apply = forms.BooleanField(
        label=_("免申即享（平台按数据生成申请，企业确认即可；仅贴息和担保费补贴）"), required=False
    )
    summary = forms.CharField(
        label=_("政策说明"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, kind_fixed: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if kind_fixed:
            # A programme's kind never changes once created (its parameters
            # would mean something else); the edit form leaves it out.
            del self.fields["kind"]

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        out = {
            "name": data.get("name", ""),
            "basis": data.get("basis", ""),
            "summary": data.get("summary", ""),
            "starts_on": data.get("starts_on", ""),
            "ends_on": data.get("ends_on", ""),
            "notice_days": data.get("notice_days") or 5,
            "requires_bank_confirmation": bool(data.get("requires_bank_confirmation")),
            "auto_apply": bool(data.get("auto_apply")),
        }
        if "kind" in self.fields:
            out["kind"] = data.get("kind")
        return out

    @staticmethod
    def initial_for(programme: Programme) -> dict[str, Any]:
        return {
            "kind": programme.kind,
            "name": programme.name,
            "basis": programme.basis,
            "summary": programme.summary,
            "starts_on": programme.starts_on.isoformat(),
            "ends_on": programme.ends_on.isoformat(),
            "notice_days": str(programme.notice_days),
            "requires_bank_confirmation": programme.requires_bank_confirmation,
            "auto_apply": programme.auto_apply,
        }


# --- the parameters of each kind ------------------------------------------------------------------

DAY_COUNT_CHOICES = [("act360", _("实际天数/360")), ("act365", _("实际天数/365"))]


class ParamsForm(ServiceErrorsMixin, forms.Form):
    """Parameters of one kind: every field is text handed to `policy.params`."""

    kind: str = ""

    def service_data(self) -> dict[str, Any]:
        return {
            name: value.strip() if isinstance(value, str) else value
            for name, value in self.cleaned_data.items()
            if value not in (None, "")
        }

    @classmethod
    def initial_for(cls, params: dict[str, Any]) -> dict[str, Any]:
        return {name: _plain(params.get(name)) for name in cls.base_fields if name in params}

    def describe(self, params: dict[str, Any]) -> list[tuple[str, str]]:
        """(label, value) for each stored parameter, choices by their label."""
        rows = []
        for name, field in self.fields.items():
            value = params.get(name)
            if value in (None, ""):
                continue
            if isinstance(field, forms.ChoiceField):
                value = dict(field.choices).get(value, value)
            rows.append((str(field.label), str(value)))
        return rows


class InterestParamsForm(ParamsForm):
    kind = ProgrammeKind.INTEREST
    method = forms.ChoiceField(
        label=_("贴息方式"),
        required=False,
        choices=[
            ("", _("请选择")),
            (pm.FIXED, _("固定贴息率")),
            (pm.LPR_SHARE, _("按放款日 LPR 的一定比例")),
            (pm.ABOVE_FLOOR, _("实际利率超过基准的部分")),
        ],
    )
    rate = _text(_("固定贴息率（%/年）"), _("贴息方式为“固定贴息率”时填写"))
    lpr_tenor = forms.ChoiceField(
        label=_("LPR 品种"),
        required=False,
        choices=[("1y", _("1 年期 LPR")), ("5y", _("5 年期以上 LPR"))],
        help_text=_("贴息方式为“按 LPR 比例”时适用"),
    )
    lpr_share = _text(_("LPR 比例（%）"), _("如 50 表示按 LPR 的 50% 贴息"))
    floor = _text(_("利率基准（%/年）"), _("贴息方式为“超过基准的部分”时填写"))
    day_count = forms.ChoiceField(label=_("计息基础"), required=False, choices=DAY_COUNT_CHOICES)
    principal_cap = _text(_("计息本金上限（元）"), _("留空为按贷款本金计"))
    cap_per_loan = _text(_("单笔贷款贴息上限（元）"))
    cap_per_enterprise_year = _text(_("单户企业年度上限（元）"))

    def describe(self, params: dict[str, Any]) -> list[tuple[str, str]]:
        # The stored parameters always carry an LPR tenor; it means something
        # only for the LPR method.
        if params.get("method") != pm.LPR_SHARE:
            params = {k: v for k, v in params.items() if k != "lpr_tenor"}
        return super().describe(params)


class GuaranteeFeeParamsForm(ParamsForm):
    kind = ProgrammeKind.GUARANTEE_FEE
    method = forms.ChoiceField(
        label=_("补贴方式"),
        required=False,
        choices=[
            ("", _("请选择")),
            (pm.POINTS, _("按担保金额的百分点/年")),
            (pm.FEE_SHARE, _("按实缴担保费的比例")),
        ],
    )
    fee_rate_ceiling = _text(_("担保费率上限（%/年）"), _("担保费率高于此的贷款不予补贴，如 1"))
    points = _text(_("补贴费率（百分点/年）"), _("补贴方式为“百分点”时填写"))
    share = _text(_("补贴比例（%）"), _("补贴方式为“比例”时填写"))
    day_count = forms.ChoiceField(label=_("计息基础"), required=False, choices=DAY_COUNT_CHOICES)
    cap_per_loan = _text(_("单笔贷款补贴上限（元）"))
    cap_per_enterprise_year = _text(_("单户企业年度上限（元）"))


class BridgeParamsForm(ParamsForm):
    kind = ProgrammeKind.BRIDGE
    daily_fee_rate = _text(_("资金使用费率（%/天）"), _("如 0.02 表示每天 0.02%"))
    max_days = _text(_("最长使用天数"), _("不超过 90 天"), max_length=6)
    max_amount = _text(_("单笔最高金额（元）"), _("留空为不限"))


class RiskPoolParamsForm(ParamsForm):
    kind = ProgrammeKind.RISK_POOL
    share = _text(_("风险补偿比例（%）"), _("资金池承担损失的比例，如 50"))
    cap_per_loan = _text(_("单笔补偿上限（元）"), _("留空为不限"))


class AwardParamsForm(ParamsForm):
    kind = ProgrammeKind.AWARD
    cap_per_enterprise_year = _text(_("单户企业年度奖励上限（元）"), _("留空为不限"))


class AwardItemForm(forms.Form):
    code = _text(_("事项代码"), max_length=64)
    label = _text(_("奖励事项"), max_length=200)
    recipient = forms.ChoiceField(
        label=_("奖励对象"),
        required=False,
        choices=[("enterprise", _("企业")), ("institution", _("金融机构"))],
    )
    amount = _text(_("固定金额（元）"))
    rate = _text(_("按贷款本金比例（%）"))
    cap = _text(_("比例奖励上限（元）"))
    DELETE = forms.BooleanField(label=_("删除"), required=False)

    FIELDS = ("code", "label", "recipient", "amount", "rate", "cap")

    def item(self) -> dict[str, str] | None:
        """The row as the service reads it; None for a blank or deleted row."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        if data.get("DELETE"):
            return None
        item = {k: (data.get(k) or "").strip() for k in self.FIELDS if (data.get(k) or "").strip()}
        if set(item) <= {"recipient"}:
            return None
        return item


AwardItemFormSet = forms.formset_factory(AwardItemForm, extra=0)

PARAMS_FORMS: dict[str, type[ParamsForm]] = {
    f.kind: f
    for f in (
        InterestParamsForm,
        GuaranteeFeeParamsForm,
        BridgeParamsForm,
        RiskPoolParamsForm,
        AwardParamsForm,
    )
}


# --- eligibility ------------------------------------------------------------------------------------


def industry_choices() -> list[tuple[str, str]]:
    rows = Industry.objects.filter(
        level__in=[IndustryLevel.SECTION, IndustryLevel.DIVISION]
    ).order_by("code")
    return [
        (
            row.code,
            f"{row.code} {row.name}"
            if row.level == IndustryLevel.DIVISION
            else f"{row.code} {row.name}（全部）",
        )
        for row in rows
    ]


def _labels(mapping) -> list[tuple[str, Any]]:
    return [(code, _(label)) for code, label in mapping.items()]


#: Lists a programme may require: the catalogue's vocabulary (which names the
#: registry's 绿色库, 上市后备库 … too), so a programme says "列入…" in the
#: product catalogue's words. 黑名单 is its own condition ("排除失信黑名单").
LIST_CHOICES = _labels(el.LIST_LABELS)
QUALIFICATION_CHOICES = [
    *_labels(el.QUALIFICATION_LABELS),
    (QualificationKind.LISTED.value, QualificationKind.LISTED.label),
    (QualificationKind.LISTING_RESERVE.value, QualificationKind.LISTING_RESERVE.label),
]


class EligibilityForm(ServiceErrorsMixin, forms.Form):
    regions = pickers.PickerField(
        pickers.REGIONS,
        multiple=True,
        keys=True,
        required=False,
        label=_("适用地区"),
        help_text=_("含全部下级；留空为本部门辖区内不限"),
    )
    industries_in = forms.MultipleChoiceField(
        label=_("适用行业（留空为不限）"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    industries_out = forms.MultipleChoiceField(
        label=_("排除行业"), required=False, widget=forms.SelectMultiple(attrs={"size": 8})
    )
    sizes = _checkboxes(_("企业规模（留空为不限）"), _labels(el.SIZE_LABELS))
    qualifications = _checkboxes(_("须具备资质"), QUALIFICATION_CHOICES)
    lists = _checkboxes(_("须列入名单"), LIST_CHOICES)
    min_tax_grade = forms.ChoiceField(
        label=_("最低纳税信用等级"),
        required=False,
        choices=[("", _("不限")), *[(g, g) for g in el.TAX_GRADES]],
    )
    exclude_blacklisted = forms.BooleanField(label=_("排除失信黑名单企业"), required=False)
    chongqing_classes = _checkboxes(
        _("三类企业"), _labels(rules.CHONGQING_CLASS_LABELS), _("与五类项目同时选择时满足其一即可")
    )
    project_classes = _checkboxes(_("五类项目"), _labels(rules.PROJECT_CLASS_LABELS))
    loan_kinds = _checkboxes(_("贷款类型"), _labels(el.DEMAND_KIND_LABELS))
    purpose_keywords = _text(
        _("贷款用途关键词"),
        _("用逗号或顿号分隔，贷款用途含其一即可，如 技术改造、设备购置"),
        max_length=500,
    )
    term_min_months = _text(_("贷款期限下限（月）"), max_length=6)
    term_max_months = _text(_("贷款期限上限（月）"), max_length=6)
    amount_min = _text(_("贷款金额下限（元）"))
    amount_max = _text(_("贷款金额上限（元）"))
    loan_date_from = _date(_("放款日期不早于"))
    loan_date_to = _date(_("放款日期不晚于"))

    LIST_FIELDS = (
        "industries_in",
        "industries_out",
        "sizes",
        "qualifications",
        "lists",
        "chongqing_classes",
        "project_classes",
        "loan_kinds",
    )
    TEXT_FIELDS = (
        "min_tax_grade",
        "term_min_months",
        "term_max_months",
        "amount_min",
        "amount_max",
        "loan_date_from",
        "loan_date_to",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = industry_choices()
        self.fields["industries_in"].choices = choices
        self.fields["industries_out"].choices = choices

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        out: dict[str, Any] = {}
        regions = list(data.get("regions") or [])
        if regions:
            out["regions"] = regions
        for name in self.LIST_FIELDS:
            if data.get(name):
                out[name] = list(data[name])
        for name in self.TEXT_FIELDS:
            value = (data.get(name) or "").strip()
            if value:
                out[name] = value
        keywords = [k for k in _SPLIT.split(data.get("purpose_keywords") or "") if k]
        if keywords:
            out["purpose_keywords"] = keywords
        out["exclude_blacklisted"] = bool(data.get("exclude_blacklisted"))
        return out

    @classmethod
    def initial_for(cls, eligibility: dict[str, Any]) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "regions": list(eligibility.get("regions") or []),
            "purpose_keywords": "、".join(eligibility.get("purpose_keywords") or []),
            "exclude_blacklisted": bool(eligibility.get("exclude_blacklisted", True)),
        }
        for name in cls.LIST_FIELDS:
            initial[name] = list(eligibility.get(name) or [])
        for name in cls.TEXT_FIELDS:
            initial[name] = _plain(eligibility.get(name))
        return initial


# --- the whole programme form ------------------------------------------------------------------


class ProgrammeForms:
    """The four parts of a programme's form, bound together.

    `kind` picks the parameter form; `programme` (when editing) supplies the
    initial values and fixes the kind. With `add_item` the award table gets
    one more blank row and nothing is saved (the "添加奖励事项" button)."""

    def __init__(
        self,
        data=None,
        *,
        kind: str,
        programme: Programme | None = None,
        add_item: bool = False,
        user=None,
    ):
        """`user`: whose scope the region picker picks from (none: nothing)."""
        self.kind = kind
        self.programme = programme
        bound = data is not None
        if bound and add_item:
            data = data.copy()
            total = data.get("items-TOTAL_FORMS", "0")
            data["items-TOTAL_FORMS"] = str(int(total) + 1 if str(total).isdigit() else 1)
        main_initial = (
            ProgrammeForm.initial_for(programme)
            if programme
            else {
                "kind": kind,
                "notice_days": "5",
                "requires_bank_confirmation": True,
            }
        )
        params = programme.params if programme else {}
        eligibility = programme.eligibility if programme else {"exclude_blacklisted": True}
        self.main = ProgrammeForm(data, initial=main_initial, kind_fixed=programme is not None)
        params_class = PARAMS_FORMS[kind]
        self.params = params_class(data, prefix="params", initial=params_class.initial_for(params))
        self.items = None
        if kind == ProgrammeKind.AWARD:
            items = [
                {k: _plain(v) for k, v in item.items()} for item in (params.get("items") or [])
            ] or [{"recipient": "enterprise"}]
            self.items = AwardItemFormSet(data, prefix="items", initial=items)
        self.eligibility = EligibilityForm(
            data, prefix="eligibility", initial=EligibilityForm.initial_for(eligibility)
        )
        pickers.bind(self.eligibility, user)
        self._item_rows: list[int] = []

    def fresh_params(self) -> None:
        """Blank parameters (and award table) of `kind`, after a change of kind."""
        self.params = PARAMS_FORMS[self.kind](prefix="params")
        if self.items is not None:
            self.items = AwardItemFormSet(prefix="items", initial=[{"recipient": "enterprise"}])

    def parts(self):
        return [p for p in (self.main, self.params, self.eligibility) if p is not None]

    def is_valid(self) -> bool:
        valid = all(p.is_valid() for p in self.parts())
        if self.items is not None:
            valid = self.items.is_valid() and valid
        return valid

    def service_data(self) -> dict[str, Any]:
        data = self.main.service_data()
        params = self.params.service_data()
        if self.items is not None:
            rows = []
            self._item_rows = []
            for index, form in enumerate(self.items.forms):
                item = form.item()
                if item is not None:
                    rows.append(item)
                    self._item_rows.append(index)
            params["items"] = rows
        data["params"] = params
        data["eligibility"] = self.eligibility.service_data()
        return data

    def add_service_errors(self, exc: ValidationFailed) -> None:
        """Route "params.x", "params.items.n.x", "eligibility.x" and plain
        names to the part and field that show them."""
        for error in exc.errors:
            name = error.field or ""
            head, _dot, rest = name.partition(".")
            if head == "params":
                if rest.startswith("items.") and self.items is not None:
                    self._item_error(rest.removeprefix("items."), error.message)
                elif rest == "items" and self.items is not None:
                    self.params.add_error(None, error.message)
                else:
                    self.params.show_error(rest, error.message)
            elif head == "eligibility" and rest:
                self.eligibility.show_error(rest, error.message)
            elif name in ("kind", "region"):
                self.main.add_error(None, error.message)
            else:
                self.main.show_error(name, error.message)
        if not exc.errors:
            self.main.add_error(None, exc.message)

    def _item_error(self, rest: str, message: str) -> None:
        number, _dot, field = rest.partition(".")
        try:
            form = self.items.forms[self._item_rows[int(number)]]
        except (ValueError, IndexError):
            self.params.add_error(None, message)
            return
        if field in form.fields:
            form.add_error(field, message)
        else:
            form.add_error(None, message)

    @property
    def has_errors(self) -> bool:
        if any(p.is_bound and p.errors for p in self.parts()):
            return True
        if self.items is not None and self.items.is_bound:
            return any(f.errors for f in self.items.forms) or bool(self.items.non_form_errors())
        return False


# --- the budget and the actions on an application -------------------------------------------


class AppropriationForm(ServiceErrorsMixin, forms.Form):
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    appropriation = forms.DecimalField(label=_("年度预算（元）"), max_digits=20, decimal_places=2)

    def __init__(self, *args, default_year: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if default_year:
            self.fields["year"].initial = default_year


class ReasonForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(
        label=_("原因"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class PayForm(ServiceErrorsMixin, forms.Form):
    voucher_no = forms.CharField(label=_("拨付凭证号"), max_length=64, required=False)
    paid_on = _date(_("拨付日期"), _("留空为今天"))


class BankConfirmForm(ServiceErrorsMixin, forms.Form):
    paid_cost = forms.CharField(
        label=_("期间内实际支付的利息/担保费（元）"), max_length=40, required=False
    )


class ObjectionForm(ServiceErrorsMixin, forms.Form):
    decision = forms.ChoiceField(
        label=_("处理结果"),
        choices=[("dismiss", _("异议不成立，继续公示")), ("uphold", _("异议成立，驳回申请"))],
        widget=forms.RadioSelect,
    )
    resolution = forms.CharField(
        label=_("处理意见"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
