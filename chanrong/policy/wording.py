"""A programme's parameters in plain Chinese, for the public 政策发布 page.

`policy.rules.describe` says who qualifies; this says what they get, in the
words of a policy notice ("按放款日适用的 1 年期 LPR 的 50% 贴息，按实际天数
/360 计息，单笔贷款最高 20 万元，每户每年最高 50 万元"). It reads the checked
parameters (`policy.params`), never the raw JSON, so the page can only say
what the calculator will do. Pure: no database.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from chanrong.finance import eligibility as el

from . import params as p
from .calculator import pct


def _wan(amount: Decimal) -> str:
    return el.wan(amount)


def _day_count(code: str) -> str:
    return _("按实际天数/%(b)s 计息") % {"b": p.DAY_COUNTS[code]}


def _caps(params, out: list[str]) -> None:
    if getattr(params, "cap_per_loan", None) is not None:
        out.append(_("单笔贷款最高 %(a)s") % {"a": _wan(params.cap_per_loan)})
    if getattr(params, "cap_per_enterprise_year", None) is not None:
        out.append(_("每户每年最高 %(a)s") % {"a": _wan(params.cap_per_enterprise_year)})


def _interest(params: p.InterestParams) -> list[str]:
    out: list[str] = []
    if params.method == p.FIXED:
        out.append(_("按年利率 %(r)s 贴息") % {"r": pct(params.rate)})
    elif params.method == p.LPR_SHARE:
        tenor = _("1 年期") if params.lpr_tenor == "1y" else _("5 年期以上")
        out.append(
            _("按放款日适用的 %(t)s LPR 的 %(s)s 贴息") % {"t": tenor, "s": pct(params.lpr_share)}
        )
    else:
        out.append(_("对贷款实际利率超过 %(f)s 的部分贴息") % {"f": pct(params.floor)})
    out.append(_day_count(params.day_count))
    if params.principal_cap is not None:
        out.append(_("计息本金最高 %(a)s") % {"a": _wan(params.principal_cap)})
    _caps(params, out)
    out.append(_("贴息不超过期间内实际支付的利息"))
    return out


def _guarantee_fee(params: p.GuaranteeFeeParams) -> list[str]:
    out = [_("担保费率不高于每年 %(c)s") % {"c": pct(params.fee_rate_ceiling)}]
    if params.method == p.POINTS:
        points = pct(params.points).rstrip("%")
        out.append(_("按担保金额每年补贴 %(r)s 个百分点") % {"r": points})
        out.append(_day_count(params.day_count))
    else:
        out.append(_("按实际支付担保费的 %(s)s 补贴") % {"s": pct(params.share)})
    _caps(params, out)
    out.append(_("补贴不超过实际支付的担保费"))
    return out


def _bridge(params: p.BridgeParams) -> list[str]:
    out = [
        _("使用费按日 %(r)s 计收") % {"r": pct(params.daily_fee_rate)},
        _("单次最长使用 %(n)s 天") % {"n": params.max_days},
    ]
    if params.max_amount is not None:
        out.append(_("单笔最高 %(a)s") % {"a": _wan(params.max_amount)})
    return out


def _risk_pool(params: p.RiskPoolParams) -> list[str]:
    out = [_("贷款损失由风险池按 %(s)s 补偿") % {"s": pct(params.share)}]
    if params.cap_per_loan is not None:
        out.append(_("单笔贷款最高补偿 %(a)s") % {"a": _wan(params.cap_per_loan)})
    out.append(_("追偿所得按同一比例回流风险池"))
    return out


def award_item_text(item: p.AwardItem) -> str:
    """One award item: "主板上市：200 万元" / "首贷奖励：贷款金额的 1%，最高 5 万元（奖励金融机构）"."""
    if item.amount is not None:
        text = _("%(l)s：%(a)s") % {"l": item.label, "a": _wan(item.amount)}
    else:
        text = _("%(l)s：贷款金额的 %(r)s") % {"l": item.label, "r": pct(item.rate)}
        if item.cap is not None:
            text += _("，最高 %(a)s") % {"a": _wan(item.cap)}
    if item.recipient == "institution":
        text += _("（奖励金融机构）")
    return text


def _award(params: p.AwardParams) -> list[str]:
    out = [award_item_text(item) for item in params.items]
    if params.cap_per_enterprise_year is not None:
        out.append(_("每户每年最高 %(a)s") % {"a": _wan(params.cap_per_enterprise_year)})
    return out


def describe_params(params: p.Params) -> list[str]:
    """The parameters as short clauses, in the order a notice states them."""
    if isinstance(params, p.InterestParams):
        return _interest(params)
    if isinstance(params, p.GuaranteeFeeParams):
        return _guarantee_fee(params)
    if isinstance(params, p.BridgeParams):
        return _bridge(params)
    if isinstance(params, p.RiskPoolParams):
        return _risk_pool(params)
    if isinstance(params, p.AwardParams):
        return _award(params)
    return []


def params_sentence(params: p.Params) -> str:
    """The clauses joined as one sentence (awards list their items instead)."""
    return "，".join(describe_params(params))
