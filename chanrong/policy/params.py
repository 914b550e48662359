"""The parameters of each kind of programme, validated in one place.

A programme stores its parameters as JSON; `parse(kind, data)` turns that
JSON (from a form, the API or the database) into one frozen dataclass per
kind, refusing contradictions with a message per field ("params.cap_per_loan":
"不能为负数"), and `dump` writes it back. The calculator only ever sees the
dataclasses, so a value it reads has been checked.

Units: amounts in 元 (Decimal), rates in percent (Decimal): 2 means 2 % a
year, a daily fee rate of 0.02 means 0.02 % a day.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from chanrong.core.errors import FieldError, ValidationFailed

HUNDRED = Decimal(100)

# interest methods
FIXED = "fixed"  # a fixed annual subsidy rate
LPR_SHARE = "lpr_share"  # a share of the LPR in force on the loan date
ABOVE_FLOOR = "above_floor"  # the part of the loan's actual rate above a floor
INTEREST_METHODS = (FIXED, LPR_SHARE, ABOVE_FLOOR)

# guarantee-fee methods
POINTS = "points"  # percentage points of the guaranteed amount a year
FEE_SHARE = "share"  # a share of the fee actually paid
FEE_METHODS = (POINTS, FEE_SHARE)

DAY_COUNTS = {"act360": 360, "act365": 365}
TENORS = ("1y", "5y")
RECIPIENTS = ("enterprise", "institution")


@dataclass(frozen=True)
class InterestParams:
    method: str
    day_count: str = "act360"
    rate: Decimal | None = None  # FIXED: subsidy rate, % a year
    lpr_tenor: str = "1y"  # LPR_SHARE
    lpr_share: Decimal | None = None  # LPR_SHARE: % of the LPR
    floor: Decimal | None = None  # ABOVE_FLOOR: % a year
    principal_cap: Decimal | None = None  # principal counted at most
    cap_per_loan: Decimal | None = None
    cap_per_enterprise_year: Decimal | None = None


@dataclass(frozen=True)
class GuaranteeFeeParams:
    method: str
    fee_rate_ceiling: Decimal  # % a year; loans guaranteed above it do not qualify
    day_count: str = "act360"
    points: Decimal | None = None  # POINTS: percentage points a year
    share: Decimal | None = None  # FEE_SHARE: % of the fee paid
    cap_per_loan: Decimal | None = None
    cap_per_enterprise_year: Decimal | None = None


@dataclass(frozen=True)
class BridgeParams:
    daily_fee_rate: Decimal  # % a day
    max_days: int
    max_amount: Decimal | None = None  # per draw


@dataclass(frozen=True)
class RiskPoolParams:
    share: Decimal  # % of the loss the pool pays
    cap_per_loan: Decimal | None = None


@dataclass(frozen=True)
class AwardItem:
    code: str
    label: str
    recipient: str = "enterprise"
    amount: Decimal | None = None  # a fixed sum
    rate: Decimal | None = None  # or % of a loan's principal (首贷奖励)
    cap: Decimal | None = None  # with `rate`: at most this much


@dataclass(frozen=True)
class AwardParams:
    items: tuple[AwardItem, ...] = field(default_factory=tuple)
    cap_per_enterprise_year: Decimal | None = None

    def item(self, code: str) -> AwardItem | None:
        return next((i for i in self.items if i.code == code), None)


Params = InterestParams | GuaranteeFeeParams | BridgeParams | RiskPoolParams | AwardParams


class _Reader:
    """Reads one JSON object field by field, collecting every error."""

    def __init__(self, data: Any, prefix: str = "params"):
        self.data = data if isinstance(data, dict) else {}
        self.prefix = prefix
        self.errors: list[FieldError] = []

    def error(self, name: str, message: str) -> None:
        self.errors.append(FieldError(f"{self.prefix}.{name}", message))

    def decimal(
        self,
        name: str,
        *,
        required: bool = False,
        positive: bool = False,
        percent: bool = False,
    ) -> Decimal | None:
        raw = self.data.get(name)
        if raw is None or raw == "":
            if required:
                self.error(name, _("必填"))
            return None
        if isinstance(raw, bool):
            self.error(name, _("应为数字"))
            return None
        try:
            value = Decimal(str(raw).strip())
        except InvalidOperation:
            self.error(name, _("应为数字"))
            return None
        if not value.is_finite():
            self.error(name, _("应为数字"))
            return None
        if value < 0:
            self.error(name, _("不能为负数"))
            return None
        if positive and value == 0:
            self.error(name, _("应大于 0"))
            return None
        if percent and value > HUNDRED:
            self.error(name, _("不能超过 100%"))
            return None
        return value

    def integer(self, name: str, *, required: bool = False, minimum: int = 1) -> int | None:
        raw = self.data.get(name)
        if raw is None or raw == "":
            if required:
                self.error(name, _("必填"))
            return None
        try:
            value = int(str(raw).strip())
        except ValueError:
            self.error(name, _("应为整数"))
            return None
        if value < minimum:
            self.error(name, _("不能小于 %(n)s") % {"n": minimum})
            return None
        return value

    def choice(self, name: str, options, default: str | None = None) -> str | None:
        raw = self.data.get(name, default)
        if raw in (None, ""):
            self.error(name, _("必填"))
            return None
        if raw not in options:
            self.error(name, _("取值应为：%(options)s") % {"options": "、".join(options)})
            return None
        return raw


def parse(kind: str, data: Any) -> Params:
    """The checked parameters of a programme of `kind`, or ValidationFailed
    listing every field that is wrong."""
    r = _Reader(data)
    params: Params | None
    if kind == "interest":
        params = _interest(r)
    elif kind == "guarantee_fee":
        params = _guarantee_fee(r)
    elif kind == "bridge":
        params = _bridge(r)
    elif kind == "risk_pool":
        params = _risk_pool(r)
    elif kind == "award":
        params = _award(r)
    else:
        raise ValidationFailed({"kind": _("未知的政策类型")})
    if r.errors or params is None:
        raise ValidationFailed(r.errors or [FieldError("params", _("参数不完整"))])
    return params


def _interest(r: _Reader) -> InterestParams | None:
    method = r.choice("method", INTEREST_METHODS)
    day_count = r.choice("day_count", tuple(DAY_COUNTS), default="act360")
    rate = r.decimal("rate", required=method == FIXED, positive=True, percent=True)
    tenor = r.choice("lpr_tenor", TENORS, default="1y")
    share = r.decimal("lpr_share", required=method == LPR_SHARE, positive=True, percent=True)
    floor = r.decimal("floor", required=method == ABOVE_FLOOR, percent=True)
    principal_cap = r.decimal("principal_cap", positive=True)
    cap_loan = r.decimal("cap_per_loan", positive=True)
    cap_year = r.decimal("cap_per_enterprise_year", positive=True)
    if cap_loan is not None and cap_year is not None and cap_loan > cap_year:
        r.error("cap_per_loan", _("单笔贷款上限不能高于企业年度上限"))
    if r.errors:
        return None
    return InterestParams(
        method=method,
        day_count=day_count,
        rate=rate if method == FIXED else None,
        lpr_tenor=tenor,
        lpr_share=share if method == LPR_SHARE else None,
        floor=floor if method == ABOVE_FLOOR else None,
        principal_cap=principal_cap,
        cap_per_loan=cap_loan,
        cap_per_enterprise_year=cap_year,
    )


def _guarantee_fee(r: _Reader) -> GuaranteeFeeParams | None:
    method = r.choice("method", FEE_METHODS)
    ceiling = r.decimal("fee_rate_ceiling", required=True, positive=True, percent=True)
    day_count = r.choice("day_count", tuple(DAY_COUNTS), default="act360")
    points = r.decimal("points", required=method == POINTS, positive=True, percent=True)
    share = r.decimal("share", required=method == FEE_SHARE, positive=True, percent=True)
    if method == POINTS and points is not None and ceiling is not None and points > ceiling:
        r.error("points", _("补贴费率不能高于担保费率上限"))
    cap_loan = r.decimal("cap_per_loan", positive=True)
    cap_year = r.decimal("cap_per_enterprise_year", positive=True)
    if cap_loan is not None and cap_year is not None and cap_loan > cap_year:
        r.error("cap_per_loan", _("单笔贷款上限不能高于企业年度上限"))
    if r.errors:
        return None
    return GuaranteeFeeParams(
        method=method,
        fee_rate_ceiling=ceiling,
        day_count=day_count,
        points=points if method == POINTS else None,
        share=share if method == FEE_SHARE else None,
        cap_per_loan=cap_loan,
        cap_per_enterprise_year=cap_year,
    )


def _bridge(r: _Reader) -> BridgeParams | None:
    fee = r.decimal("daily_fee_rate", required=True, percent=True)
    if fee is not None and fee > 1:
        r.error("daily_fee_rate", _("日费率以 %/天 计，不能超过 1%"))
    max_days = r.integer("max_days", required=True)
    if max_days is not None and max_days > 90:
        r.error("max_days", _("转贷应急资金占用天数不能超过 90 天"))
    max_amount = r.decimal("max_amount", positive=True)
    if r.errors:
        return None
    return BridgeParams(daily_fee_rate=fee, max_days=max_days, max_amount=max_amount)


def _risk_pool(r: _Reader) -> RiskPoolParams | None:
    share = r.decimal("share", required=True, positive=True, percent=True)
    cap = r.decimal("cap_per_loan", positive=True)
    if r.errors:
        return None
    return RiskPoolParams(share=share, cap_per_loan=cap)


def _award(r: _Reader) -> AwardParams | None:
    raw_items = r.data.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        r.error("items", _("至少设置一个奖励事项"))
        return None
    items: list[AwardItem] = []
    seen: set[str] = set()
    for n, raw in enumerate(raw_items):
        item = _Reader(raw, prefix=f"params.items.{n}")
        code = str(item.data.get("code") or "").strip()
        label = str(item.data.get("label") or "").strip()
        if not code:
            item.error("code", _("必填"))
        elif code in seen:
            item.error("code", _("奖励事项代码重复：%(code)s") % {"code": code})
        seen.add(code)
        if not label:
            item.error("label", _("必填"))
        recipient = item.choice("recipient", RECIPIENTS, default="enterprise")
        amount = item.decimal("amount", positive=True)
        rate = item.decimal("rate", positive=True, percent=True)
        cap = item.decimal("cap", positive=True)
        if amount is None and rate is None and not item.errors:
            item.error("amount", _("固定金额与按贷款比例至少填一项"))
        if amount is not None and rate is not None:
            item.error("rate", _("固定金额与按贷款比例只能填一项"))
        r.errors.extend(item.errors)
        if not item.errors:
            items.append(AwardItem(code, label, recipient, amount, rate, cap))
    cap_year = r.decimal("cap_per_enterprise_year", positive=True)
    if r.errors:
        return None
    return AwardParams(items=tuple(items), cap_per_enterprise_year=cap_year)


def dump(params: Params) -> dict[str, Any]:
    """JSON for the database: Decimals as strings, Nones left out."""

    def clean(value: Any) -> Any:
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if v is not None}
        if isinstance(value, list | tuple):
            return [clean(v) for v in value]
        return value

    return clean(asdict(params))
