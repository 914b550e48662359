"""How the supply-chain pages print money, rates and states."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

register = template.Library()

_TONES = {
    "registered": "busy",
    "confirmed": "good",
    "partly_confirmed": "open",
    "disputed": "bad",
    "withdrawn": "",
    "active": "open",
    "overdue": "bad",
    "repaid": "good",
    "held": "open",
    "transferred": "",
    "discounted": "busy",
    "paid": "good",
}


@register.filter
def yuan(value) -> str:
    """An amount in 元 with grouping and two decimals ("35,833.33"); "—" if unknown."""
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    return f"{amount:,.2f}"


@register.filter
def rate(value) -> str:
    """A rate in percent without trailing zeros ("80%"); "—" if unknown."""
    if value is None or value == "":
        return "—"
    try:
        number = Decimal(str(value)).normalize()
    except (InvalidOperation, ValueError):
        return str(value)
    return f"{number:f}%"


@register.simple_tag
def sc_state(obj):
    """A receivable's, financing's or voucher's state as a coloured tag."""
    value = obj.state
    tone = _TONES.get(value, "")
    css = f"state state--{tone}" if tone else "state"
    return format_html(
        '<span class="{}" data-state="{}">{}</span>', css, value, obj.get_state_display()
    )


_ACTIONS = {
    "supplychain.receivable.register": _("登记"),
    "supplychain.receivable.confirm": _("确权"),
    "supplychain.receivable.confirm_part": _("部分确权"),
    "supplychain.receivable.dispute": _("提出异议"),
    "supplychain.receivable.withdraw": _("撤回"),
    "supplychain.financing.create": _("融资"),
    "supplychain.financing.repay": _("还款"),
    "supplychain.financing.overdue": _("逾期"),
    "supplychain.voucher.issue": _("开立凭证"),
    "supplychain.voucher.split": _("拆分转让"),
    "supplychain.voucher.split_for_discount": _("拆分贴现"),
    "supplychain.voucher.discount": _("贴现"),
    "supplychain.voucher.pay": _("兑付"),
}


@register.filter
def sc_action(action: str) -> str:
    """An audit action of this app as people read it."""
    return str(_ACTIONS.get(action, action))
