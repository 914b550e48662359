"""Web forms of the supply-chain pages.

They collect text under the services' own field names and hand it over; the
rules (USCC check digit, invoice shapes, amounts, dates, the double-financing
guard) are the services'. `add_service_errors` puts each `FieldError` beside
the control of the same name and anything else at the top of the form. Rows
(invoices, split parts, 政采 instalments) are numbered controls read back
into lists; the service's "invoices[3]" error is mapped to the row it came
from.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from chanrong.core import pickers
from chanrong.core.errors import ValidationFailed
from chanrong.core.text import clean_by_kind, kind_of_field
from chanrong.registry.pickers import ENTERPRISES

from .models import AttachmentKind, FinancingMode, MemberRole, ReceivableKind

DATE = {"type": "date"}
MONEY = {"inputmode": "decimal", "autocomplete": "off"}
MAX_ROWS = 50


class ServiceForm(forms.Form):
    """Every text control is checked by `core.text`'s rule for its field name
    (issue 15): a bidi override or zero-width character in a chain or debtor
    name, or in a contract number, is refused beside the control before the
    service runs; codes (`*_no`, USCCs listed in `code_fields`) are NFKC
    normalised, so a full-width contract number is stored in ASCII; free
    text (descriptions, reasons) refuses bidi and control characters only.
    The services' `read_text` applies the same rule for the API and imports."""

    #: Controls holding a code whose name does not say so (USCCs).
    code_fields: frozenset[str] = frozenset({"lead", "enterprise", "debtor_uscc", "to"})

    def kind_of(self, name: str) -> str:
        return "code" if name in self.code_fields else kind_of_field(name)

    def clean(self):
        data = super().clean()
        for name, value in list(data.items()):
            if not isinstance(value, str) or not value:
                continue
            try:
                data[name] = clean_by_kind(value, self.kind_of(name))
            except ValueError as exc:
                self.add_error(name, str(exc))
        return data

    def add_service_errors(self, exc: ValidationFailed) -> None:
        for error in exc.errors:
            name = error.field if error.field in self.fields else None
            self.add_error(name, error.message)
        if not exc.errors:
            self.add_error(None, exc.message)


def _text(label, *, max_length=100, required=False, help_text="", widget=None, **attrs):
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        help_text=help_text,
        widget=widget or (forms.TextInput(attrs=attrs) if attrs else None),
    )


def _date(label, help_text=""):
    return _text(label, max_length=10, help_text=help_text, widget=forms.DateInput(attrs=DATE))


def _choice(label, choices):
    """A select whose value the service checks (its message, by field)."""
    return _text(label, max_length=40, widget=forms.Select(choices=choices))


def _money(label, help_text=""):
    return _text(label, max_length=30, help_text=help_text, **MONEY)


# --- chains ----------------------------------------------------------------------------


class ChainForm(ServiceForm):
    name = _text(_("产业链名称"), max_length=100)
    region = pickers.PickerField(
        pickers.REGIONS,
        keys=True,
        required=False,
        label=_("所在地区"),
        help_text=_("不填则为本单位所在地区"),
    )
    lead = pickers.PickerField(
        ENTERPRISES,
        keys=True,
        required=False,
        label=_("链主企业"),
        help_text=_("政府部门维护时选填"),
    )
    industry = _text(
        _("所属行业（国民经济行业代码）"), max_length=5, help_text=_("选填，如 C36 汽车制造业")
    )
    description = _text(_("说明"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))


class AdminChainForm(ChainForm):
    """The platform admin creates a chain for an agency: which agency keeps it."""

    agency = _choice(_("维护部门"), [])
    field_order = ["agency", "name", "lead", "industry", "region", "description"]

    def __init__(self, *args, agencies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].widget.choices = [("", "—")] + list(agencies)
        self.fields["region"].help_text = _("不填则为维护部门所在地区")
        self.fields["lead"].help_text = _("选填")


class MemberForm(ServiceForm):
    enterprise = _text(_("成员企业统一社会信用代码"), max_length=18, autocomplete="off")
    role = _choice(_("角色"), MemberRole.choices)
    tier = _choice(_("层级"), [("1", _("一级")), ("2", _("二级")), ("3", _("三级"))])


class MeasureForm(ServiceForm):
    issued_on = _date(_("日期"), help_text=_("不填则为今天"))
    text = _text(_("措施内容"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))


# --- receivables -----------------------------------------------------------------------


class ReceivableForm(ServiceForm):
    kind = _choice(_("类型"), ReceivableKind.choices)
    debtor_uscc = _text(
        _("债务人统一社会信用代码"),
        max_length=40,
        help_text=_("政府采购合同的采购人为政府部门时不填"),
        autocomplete="off",
    )
    debtor_name = _text(_("债务人名称"), help_text=_("债务人尚未在平台注册时填写"))
    purchaser_agency = _choice(_("采购人（政府部门）"), [])
    contract_no = _text(_("合同编号"), max_length=64)
    amount = _money(_("应收账款金额（元）"))
    issued_on = _date(_("债权发生日期"))
    due_on = _date(_("到期日期"))
    payment_schedule = _text(
        _("付款计划（政府采购合同）"),
        max_length=5000,
        help_text=_("每行一期：付款日期 金额，如 2026-09-30 500000"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    invoices = forms.CharField(
        required=False, widget=forms.HiddenInput
    )  # errors for the whole list

    def __init__(self, *args, agencies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purchaser_agency"].widget.choices = [("", "—"), *agencies]

    def schedule(self) -> list[dict[str, str]]:
        """The instalments as the service reads them; a line it cannot split
        is passed as it is, so the service names the row that is wrong."""
        rows = []
        for line in (self.cleaned_data.get("payment_schedule") or "").splitlines():
            parts = line.replace("，", " ").replace(",", " ").split()
            if not parts:
                continue
            rows.append({"due_on": parts[0], "amount": parts[1] if len(parts) > 1 else ""})
        return rows


def invoice_rows(data, count: int) -> list[dict[str, str]]:
    """The invoice rows of a posted form: [{"code", "number"}] for each row index.
    Not cleaned here: `invoices.parse_invoice` takes digits only (full-width
    ones made ASCII), so an invisible character is refused there, by row."""
    return [
        {
            "code": str(data.get(f"invoice-{i}-code", "")).strip()[:40],
            "number": str(data.get(f"invoice-{i}-number", "")).strip()[:40],
        }
        for i in range(count)
    ]


def row_count(data, default: int = 3) -> int:
    try:
        count = int(data.get("rows", default))
    except (TypeError, ValueError):
        count = default
    return max(1, min(count, MAX_ROWS))


class ConfirmForm(ServiceForm):
    confirmed_amount = _money(_("确权金额（元）"), help_text=_("不填则按应收账款金额全额确权"))


class DisputeForm(ServiceForm):
    reason = _text(_("异议理由"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


# --- financing -------------------------------------------------------------------------


class FinancingForm(ServiceForm):
    mode = _choice(_("融资方式"), FinancingMode.choices)
    advance_ratio = _text(_("融资比例（%）"), max_length=12, inputmode="decimal")
    backing = _money(_("质押/转让应收账款金额（元）"), help_text=_("不填则为全部未融资的确权余额"))
    amount = _money(_("融资金额（元）"))
    registration_no = _text(
        _("中登网登记编号"), max_length=40, help_text=_("动产融资统一登记公示系统的登记证明编号")
    )
    contract_no = _text(_("融资合同编号"), max_length=64)
    financed_on = _date(_("放款日期"), help_text=_("不填则为今天"))
    matures_on = _date(_("到期日期"), help_text=_("不填则为应收账款到期日"))
    repayment_account = _text(_("回款账户"), help_text=_("政府采购合同必填：采购人付款的账户"))


class RepayForm(ServiceForm):
    repaid_on = _date(_("还款日期"), help_text=_("不填则为今天"))


# --- vouchers --------------------------------------------------------------------------


class IssueVoucherForm(ServiceForm):
    amount = _money(_("凭证金额（元）"), help_text=_("不填则为全部未融资的确权余额"))
    due_on = _date(_("到期日期"), help_text=_("不填则为应付账款到期日"))


class TransferForm(ServiceForm):
    to = _text(_("接收企业统一社会信用代码"), max_length=40, autocomplete="off")
    amount = _money(_("转让金额（元）"), help_text=_("不填则全部转让"))


class DiscountForm(ServiceForm):
    amount = _money(_("贴现金额（元）"), help_text=_("不填则全部贴现"))
    discount_rate = _text(_("贴现年利率（%）"), max_length=12, inputmode="decimal")
    contract_no = _text(_("贴现合同编号"), max_length=64)


class AttachmentForm(ServiceForm):
    kind = _choice(_("材料类型"), AttachmentKind.choices)


class DiscountApplyForm(ServiceForm):
    """The holder's application: which authorised bank, how much."""

    bank = _choice(_("贴现银行"), [])
    amount = _money(_("申请贴现金额（元）"), help_text=_("不填则全部贴现"))
    note = _text(_("说明"), max_length=500)

    def __init__(self, *args, banks=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bank"].widget.choices = [("", "—")] + [(str(b.pk), b.name) for b in banks]


class DiscountAcceptForm(ServiceForm):
    discount_rate = _text(_("贴现年利率（%）"), max_length=12, inputmode="decimal")
    contract_no = _text(_("贴现合同编号"), max_length=64)


class DeclineForm(ServiceForm):
    reason = _text(_("拒绝理由"), max_length=500)


def part_rows(data, count: int) -> list[dict[str, str]]:
    """The split rows of a posted form: [{"holder", "amount"}] for each row index."""
    return [
        {
            "holder": str(data.get(f"part-{i}-holder", "")).strip()[:40],
            "amount": str(data.get(f"part-{i}-amount", "")).strip()[:40],
        }
        for i in range(count)
    ]
