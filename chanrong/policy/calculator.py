"""How much a programme pays, explained line by line.

One pure function per instrument, taking plain facts and the programme's
checked parameters (policy.params) and returning a `Result`: the amount and
every step that led to it, in the words a 财政局 clerk and an SME's finance
manager both read ("本金 × 贴息利率 × 天数 ÷ 360"). The application form,
the reviewer's page, the API, approval under the budget lock and payment all
call these same functions, so the figure a user was shown is the figure the
ledger holds.

Rounding rule (docs/policy.md): every intermediate value is exact Decimal
arithmetic (34 significant digits, nothing rounded), caps are compared at that
precision, and the final amount alone is rounded half-up to the fen (0.01 元).

Day counts: interest accrues on each day the money is out, from the loan
date up to the day before maturity; a period's days are the days of the
claimed period that fall inside the loan's life and inside the programme's
period (both ends included), divided by 360 or 365 as the programme says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from typing import Any

from django.utils.translation import gettext as _

from . import params as p

FEN = Decimal("0.01")
HUNDRED = Decimal(100)
ZERO = Decimal(0)
EXACT = Context(prec=34)


@dataclass(frozen=True)
class LoanFacts:
    principal: Decimal
    rate: Decimal  # % a year, as executed
    loan_date: date
    maturity_date: date
    guarantee_fee_rate: Decimal | None = None  # % a year


@dataclass(frozen=True)
class LprFact:
    tenor: str
    published_on: date
    rate: Decimal
    stale: bool = False


@dataclass(frozen=True)
class Held:
    """What is already held (committed or paid) against the caps, excluding
    the application being computed."""

    on_loan: Decimal = ZERO
    by_enterprise_this_year: Decimal = ZERO


@dataclass(frozen=True)
class Line:
    label: str
    detail: str
    value: Decimal | None = None


@dataclass
class Result:
    amount: Decimal = ZERO
    lines: list[Line] = field(default_factory=list)
    #: The figure is provisional: a fact it needs (interest actually paid) is
    #: not confirmed yet; approval needs it confirmed.
    estimate: bool = False
    #: Why the amount is zero (a refusal to show, not an error).
    blocked: str = ""

    def add(self, label: str, detail: str, value: Decimal | None = None) -> None:
        self.lines.append(Line(label, detail, value))

    def as_json(self) -> dict[str, Any]:
        return {
            "amount": str(self.amount),
            "estimate": self.estimate,
            "blocked": self.blocked,
            "lines": [
                {
                    "label": line.label,
                    "detail": line.detail,
                    "value": None if line.value is None else str(line.value),
                }
                for line in self.lines
            ],
        }


def yuan(value: Decimal, places: int = 2) -> str:
    """12,345.68 — places=4 for the exact intermediate figures."""
    quantum = Decimal(1).scaleb(-places)
    return f"{value.quantize(quantum, rounding=ROUND_HALF_UP):,}"


def pct(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.0001'), rounding=ROUND_HALF_UP).normalize():f}%"


def counted_days(
    period: tuple[date, date], loan: LoanFacts, programme: tuple[date, date]
) -> tuple[date, date, int]:
    """The days of `period` (both ends included) inside the loan's life and
    the programme's period: (first, last, count); count 0 when none."""
    first = max(period[0], loan.loan_date, programme[0])
    last = min(period[1], loan.maturity_date - timedelta(days=1), programme[1])
    if last < first:
        return first, last, 0
    return first, last, (last - first).days + 1


def _finish(result: Result, amount: Decimal, held: Held, caps: dict[str, Decimal | None]) -> Result:
    """Apply the per-loan and per-enterprise caps, then round once."""
    cap_loan = caps.get("loan")
    if cap_loan is not None:
        room = max(cap_loan - held.on_loan, ZERO)
        if amount > room:
            amount = room
        result.add(
            _("单笔贷款上限"),
            _("上限 %(cap)s 元，本贷款已获 %(held)s 元，尚可 %(room)s 元")
            % {"cap": yuan(cap_loan), "held": yuan(held.on_loan), "room": yuan(room)},
            amount,
        )
    cap_year = caps.get("enterprise_year")
    if cap_year is not None:
        room = max(cap_year - held.by_enterprise_this_year, ZERO)
        if amount > room:
            amount = room
        result.add(
            _("企业年度上限"),
            _("上限 %(cap)s 元，本年度已获 %(held)s 元，尚可 %(room)s 元")
            % {
                "cap": yuan(cap_year),
                "held": yuan(held.by_enterprise_this_year),
                "room": yuan(room),
            },
            amount,
        )
    final = amount.quantize(FEN, rounding=ROUND_HALF_UP)
    result.add(
        _("四舍五入到分"),
        _("%(exact)s 元 → %(final)s 元") % {"exact": yuan(amount, 4), "final": yuan(final)},
        final,
    )
    result.amount = final
    if final == 0 and not result.blocked:
        result.blocked = _("按政策计算的金额为零")
    return result


def interest_subsidy(
    params: p.InterestParams,
    loan: LoanFacts,
    period: tuple[date, date],
    programme_period: tuple[date, date],
    *,
    interest_paid: Decimal | None,
    lpr: LprFact | None = None,
    held: Held = Held(),
) -> Result:
    """贴息: principal × subsidy rate × days ÷ basis, at most the interest
    actually paid in the period, then the caps."""
    result = Result()
    basis = p.DAY_COUNTS[params.day_count]
    with localcontext(EXACT):
        first, last, days = counted_days(period, loan, programme_period)
        result.add(
            _("贴息天数"),
            _("申请期间 %(a)s 至 %(b)s，落在贷款存续期和政策期内的为 %(f)s 至 %(l)s，共 %(n)s 天")
            % {"a": period[0], "b": period[1], "f": first, "l": last, "n": days}
            if days
            else _("申请期间 %(a)s 至 %(b)s 不在贷款存续期或政策期内")
            % {"a": period[0], "b": period[1]},
            Decimal(days),
        )
        if params.method == p.FIXED:
            rate = params.rate
            result.add(_("贴息利率"), _("固定贴息年利率 %(r)s") % {"r": pct(rate)}, rate)
        elif params.method == p.LPR_SHARE:
            if lpr is None:
                result.blocked = _("放款日 %(d)s 没有可用的 LPR 报价") % {"d": loan.loan_date}
                result.add(_("贴息利率"), result.blocked)
                return result
            rate = lpr.rate * params.lpr_share / HUNDRED
            tenor = _("1 年期") if lpr.tenor == "1y" else _("5 年期以上")
            result.add(
                _("贴息利率"),
                _("放款日 %(d)s 适用的%(t)s LPR（%(p)s 公布）%(lpr)s × %(s)s = %(r)s")
                % {
                    "d": loan.loan_date,
                    "t": tenor,
                    "p": lpr.published_on,
                    "lpr": pct(lpr.rate),
                    "s": pct(params.lpr_share),
                    "r": pct(rate),
                },
                rate,
            )
            if lpr.stale:
                result.add(
                    _("提示"),
                    _("最近一期 LPR 为 %(p)s 公布，如已有新报价请平台管理员补录")
                    % {"p": lpr.published_on},
                )
        else:
            rate = max(loan.rate - params.floor, ZERO)
            result.add(
                _("贴息利率"),
                _("实际利率 %(a)s − 基准 %(f)s = %(r)s")
                % {"a": pct(loan.rate), "f": pct(params.floor), "r": pct(rate)},
                rate,
            )
        if rate > loan.rate:
            result.add(
                _("贴息利率"),
                _("不超过贷款实际利率 %(a)s，按 %(a)s 计") % {"a": pct(loan.rate)},
                loan.rate,
            )
            rate = loan.rate
        principal = loan.principal
        if params.principal_cap is not None and principal > params.principal_cap:
            principal = params.principal_cap
            result.add(
                _("计息本金"),
                _("贷款 %(p)s 元，按政策最多计 %(c)s 元")
                % {"p": yuan(loan.principal), "c": yuan(params.principal_cap)},
                principal,
            )
        amount = principal * rate / HUNDRED * days / basis
        result.add(
            _("按公式计算"),
            _("本金 × 贴息利率 × 天数 ÷ %(b)s = %(p)s × %(r)s × %(d)s ÷ %(b)s = %(a)s 元")
            % {"b": basis, "p": yuan(principal), "r": pct(rate), "d": days, "a": yuan(amount, 4)},
            amount,
        )
        if interest_paid is None:
            result.estimate = True
            result.add(_("实付利息"), _("待贷款银行确认期间内实际支付的利息，当前为测算值"))
        elif amount > interest_paid:
            amount = interest_paid
            result.add(
                _("实付利息"),
                _("不超过期间内实际支付的利息 %(i)s 元") % {"i": yuan(interest_paid)},
                amount,
            )
        return _finish(
            result,
            amount,
            held,
            {"loan": params.cap_per_loan, "enterprise_year": params.cap_per_enterprise_year},
        )


def guarantee_fee_subsidy(
    params: p.GuaranteeFeeParams,
    loan: LoanFacts,
    period: tuple[date, date],
    programme_period: tuple[date, date],
    *,
    fee_paid: Decimal | None,
    held: Held = Held(),
) -> Result:
    """担保费补贴: percentage points of the guaranteed amount a year, or a
    share of the fee actually paid; never more than the fee paid."""
    result = Result()
    fee_rate = loan.guarantee_fee_rate
    if fee_rate is None:
        result.blocked = _("贷款未登记担保费率")
        result.add(_("担保费率"), result.blocked)
        return result
    if fee_rate > params.fee_rate_ceiling:
        result.blocked = _("担保费率 %(r)s 高于政策上限 %(c)s，不予补贴") % {
            "r": pct(fee_rate),
            "c": pct(params.fee_rate_ceiling),
        }
        result.add(_("担保费率"), result.blocked, fee_rate)
        return result
    result.add(
        _("担保费率"),
        _("担保费率 %(r)s，不高于政策上限 %(c)s")
        % {"r": pct(fee_rate), "c": pct(params.fee_rate_ceiling)},
        fee_rate,
    )
    basis = p.DAY_COUNTS[params.day_count]
    with localcontext(EXACT):
        first, last, days = counted_days(period, loan, programme_period)
        result.add(
            _("补贴天数"),
            _("%(f)s 至 %(l)s，共 %(n)s 天") % {"f": first, "l": last, "n": days},
            Decimal(days),
        )
        if params.method == p.POINTS:
            amount = loan.principal * params.points / HUNDRED * days / basis
            result.add(
                _("按公式计算"),
                _("担保金额 × 补贴费率 × 天数 ÷ %(b)s = %(p)s × %(r)s × %(d)s ÷ %(b)s = %(a)s 元")
                % {
                    "b": basis,
                    "p": yuan(loan.principal),
                    "r": pct(params.points),
                    "d": days,
                    "a": yuan(amount, 4),
                },
                amount,
            )
        else:
            if fee_paid is None:
                result.estimate = True
                # Estimate the fee from the rate until the paid fee is confirmed.
                base = loan.principal * fee_rate / HUNDRED * days / basis
                result.add(
                    _("担保费"),
                    _("待确认实付担保费，按费率测算：%(p)s × %(r)s × %(d)s ÷ %(b)s = %(a)s 元")
                    % {
                        "p": yuan(loan.principal),
                        "r": pct(fee_rate),
                        "d": days,
                        "b": basis,
                        "a": yuan(base, 4),
                    },
                    base,
                )
            else:
                base = fee_paid
            amount = base * params.share / HUNDRED
            result.add(
                _("按公式计算"),
                _("担保费 × 补贴比例 = %(f)s × %(s)s = %(a)s 元")
                % {"f": yuan(base, 4), "s": pct(params.share), "a": yuan(amount, 4)},
                amount,
            )
        if fee_paid is None:
            result.estimate = True
        elif amount > fee_paid:
            amount = fee_paid
            result.add(
                _("实付担保费"),
                _("不超过实际支付的担保费 %(f)s 元") % {"f": yuan(fee_paid)},
                amount,
            )
        return _finish(
            result,
            amount,
            held,
            {"loan": params.cap_per_loan, "enterprise_year": params.cap_per_enterprise_year},
        )


def award(
    params: p.AwardParams,
    item_code: str,
    *,
    loan: LoanFacts | None = None,
    held: Held = Held(),
) -> Result:
    """奖励: the item's fixed sum, or a share of the loan's principal up to
    the item's cap; then the enterprise's annual cap."""
    result = Result()
    item = params.item(item_code)
    if item is None:
        result.blocked = _("没有该奖励事项：%(c)s") % {"c": item_code}
        result.add(_("奖励事项"), result.blocked)
        return result
    with localcontext(EXACT):
        if item.amount is not None:
            amount = item.amount
            result.add(
                _("奖励标准"), _("%(l)s：%(a)s 元") % {"l": item.label, "a": yuan(amount)}, amount
            )
        else:
            if loan is None:
                result.blocked = _("该奖励按贷款金额计算，需选择贷款")
                result.add(_("奖励标准"), result.blocked)
                return result
            amount = loan.principal * item.rate / HUNDRED
            result.add(
                _("奖励标准"),
                _("%(l)s：贷款金额 × %(r)s = %(p)s × %(r)s = %(a)s 元")
                % {
                    "l": item.label,
                    "r": pct(item.rate),
                    "p": yuan(loan.principal),
                    "a": yuan(amount, 4),
                },
                amount,
            )
            if item.cap is not None and amount > item.cap:
                amount = item.cap
                result.add(_("单项上限"), _("最多 %(c)s 元") % {"c": yuan(item.cap)}, amount)
        return _finish(result, amount, held, {"enterprise_year": params.cap_per_enterprise_year})


def bridge_fee(params: p.BridgeParams, amount: Decimal, drawn_on: date, repaid_on: date) -> Result:
    """转贷应急使用费: amount × daily rate × days used (at least one day)."""
    result = Result()
    with localcontext(EXACT):
        days = max((repaid_on - drawn_on).days, 1)
        result.add(
            _("占用天数"),
            _("%(a)s 出款，%(b)s 归还，占用 %(n)s 天（不足一天按一天）")
            % {"a": drawn_on, "b": repaid_on, "n": days},
            Decimal(days),
        )
        if days > params.max_days:
            result.add(
                _("逾期"),
                _("超过最长占用天数 %(m)s 天，逾期 %(o)s 天")
                % {"m": params.max_days, "o": days - params.max_days},
                Decimal(days - params.max_days),
            )
        fee = amount * params.daily_fee_rate / HUNDRED * days
        result.add(
            _("按公式计算"),
            _("转贷金额 × 日费率 × 天数 = %(p)s × %(r)s × %(d)s = %(f)s 元")
            % {"p": yuan(amount), "r": pct(params.daily_fee_rate), "d": days, "f": yuan(fee, 4)},
            fee,
        )
        final = fee.quantize(FEN, rounding=ROUND_HALF_UP)
        result.add(
            _("四舍五入到分"),
            _("%(e)s 元 → %(f)s 元") % {"e": yuan(fee, 4), "f": yuan(final)},
            final,
        )
        result.amount = final
        return result


def compensation(
    params: p.RiskPoolParams,
    loss: Decimal,
    *,
    share: Decimal | None = None,
    pool_balance: Decimal,
    held_on_loan: Decimal = ZERO,
) -> Result:
    """风险补偿: loss × the pool's share, capped per loan and by the pool's
    balance (a pool never pays what it does not hold)."""
    result = Result()
    share = params.share if share is None else share
    with localcontext(EXACT):
        amount = loss * share / HUNDRED
        result.add(
            _("按公式计算"),
            _("损失金额 × 补偿比例 = %(l)s × %(s)s = %(a)s 元")
            % {"l": yuan(loss), "s": pct(share), "a": yuan(amount, 4)},
            amount,
        )
        if params.cap_per_loan is not None:
            room = max(params.cap_per_loan - held_on_loan, ZERO)
            if amount > room:
                amount = room
            result.add(
                _("单笔贷款上限"),
                _("上限 %(c)s 元，本贷款已获补偿 %(h)s 元")
                % {"c": yuan(params.cap_per_loan), "h": yuan(held_on_loan)},
                amount,
            )
        if amount > pool_balance:
            amount = max(pool_balance, ZERO)
            result.add(
                _("资金池余额"), _("以资金池余额 %(b)s 元为限") % {"b": yuan(pool_balance)}, amount
            )
        final = amount.quantize(FEN, rounding=ROUND_HALF_UP)
        result.add(
            _("四舍五入到分"),
            _("%(e)s 元 → %(f)s 元") % {"e": yuan(amount, 4), "f": yuan(final)},
            final,
        )
        result.amount = final
        if final == 0:
            result.blocked = _("按政策计算的补偿金额为零")
        return result


def recovery_back(claim_compensation: Decimal, claim_loss: Decimal, recovered: Decimal) -> Result:
    """A recovery flows back into the pool in the ratio the pool bore the loss."""
    result = Result()
    with localcontext(EXACT):
        ratio = claim_compensation / claim_loss if claim_loss else ZERO
        amount = recovered * ratio
        result.add(
            _("按公式计算"),
            _("回收金额 × 代偿占损失比例 = %(r)s × (%(c)s ÷ %(l)s) = %(a)s 元")
            % {
                "r": yuan(recovered),
                "c": yuan(claim_compensation),
                "l": yuan(claim_loss),
                "a": yuan(amount, 4),
            },
            amount,
        )
        final = amount.quantize(FEN, rounding=ROUND_HALF_UP)
        result.add(
            _("四舍五入到分"),
            _("%(e)s 元 → %(f)s 元") % {"e": yuan(amount, 4), "f": yuan(final)},
            final,
        )
        result.amount = final
        return result
