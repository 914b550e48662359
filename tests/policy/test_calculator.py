"""The calculator on its own: plain facts in, an amount and its lines out."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from chanrong.policy import calculator as calc
from chanrong.policy import params as pm

LOAN = calc.LoanFacts(
    principal=Decimal("5000000"),
    rate=Decimal("3.45"),
    loan_date=date(2026, 1, 10),
    maturity_date=date(2027, 1, 10),
    guarantee_fee_rate=Decimal("0.8"),
)
WINDOW = (date(2025, 1, 1), date(2027, 12, 31))


def interest(**data):
    return pm.parse("interest", data)


def test_fixed_rate_act360_days_clipped_to_loan_life():
    params = interest(method="fixed", rate="2", day_count="act360")
    result = calc.interest_subsidy(
        params, LOAN, (date(2026, 1, 1), date(2026, 6, 30)), WINDOW, interest_paid=Decimal("90000")
    )
    # 2026-01-10 .. 2026-06-30 = 172 days; 5,000,000 × 2% × 172 / 360 = 47,777.777…
    assert result.lines[0].value == 172
    assert result.amount == Decimal("47777.78")
    assert "5,000,000.00 × 2% × 172 ÷ 360" in result.lines[2].detail
    assert result.lines[-1].label == "四舍五入到分"


def test_act365_and_half_up_rounding_only_at_the_end():
    params = interest(method="fixed", rate="1.5", day_count="act365")
    result = calc.interest_subsidy(
        params, LOAN, (date(2026, 2, 1), date(2026, 2, 28)), WINDOW, interest_paid=Decimal("99999")
    )
    # 5,000,000 × 1.5% × 28 / 365 = 5753.4246575… → 5753.42
    assert result.amount == Decimal("5753.42")


def test_lpr_share_uses_the_quote_given_and_names_it():
    params = interest(method="lpr_share", lpr_share="50", lpr_tenor="1y")
    lpr = calc.LprFact("1y", date(2025, 12, 22), Decimal("3.00"))
    result = calc.interest_subsidy(
        params, LOAN, (date(2026, 1, 10), date(2026, 1, 19)), WINDOW, interest_paid=None, lpr=lpr
    )
    assert result.lines[1].value == Decimal("1.5")
    assert "2025-12-22" in result.lines[1].detail
    assert result.estimate  # interest paid not confirmed yet
    # 5,000,000 × 1.5% × 10 / 360 = 2083.333…
    assert result.amount == Decimal("2083.33")


def test_above_floor_and_never_above_actual_rate():
    params = interest(method="above_floor", floor="2.5")
    result = calc.interest_subsidy(
        params, LOAN, (date(2026, 1, 10), date(2026, 1, 19)), WINDOW, interest_paid=Decimal("1e9")
    )
    assert result.lines[1].value == Decimal("0.95")
    high = interest(method="fixed", rate="5")
    capped = calc.interest_subsidy(
        high, LOAN, (date(2026, 1, 10), date(2026, 1, 19)), WINDOW, interest_paid=Decimal("1e9")
    )
    assert any(line.value == Decimal("3.45") and "不超过" in line.detail for line in capped.lines)


def test_interest_paid_and_caps_bound_the_amount():
    params = interest(
        method="fixed", rate="2", cap_per_loan="30000", cap_per_enterprise_year="40000"
    )
    period = (date(2026, 1, 10), date(2026, 12, 31))
    paid_small = calc.interest_subsidy(
        params, LOAN, period, WINDOW, interest_paid=Decimal("12345.675")
    )
    assert paid_small.amount == Decimal("12345.68")
    by_loan = calc.interest_subsidy(params, LOAN, period, WINDOW, interest_paid=Decimal("1e9"))
    assert by_loan.amount == Decimal("30000.00")
    held = calc.Held(on_loan=Decimal("0"), by_enterprise_this_year=Decimal("35000"))
    by_year = calc.interest_subsidy(
        params, LOAN, period, WINDOW, interest_paid=Decimal("1e9"), held=held
    )
    assert by_year.amount == Decimal("5000.00")
    full = calc.Held(on_loan=Decimal("30000"))
    none_left = calc.interest_subsidy(
        params, LOAN, period, WINDOW, interest_paid=Decimal("1e9"), held=full
    )
    assert none_left.amount == 0 and none_left.blocked


def test_period_outside_the_programme_counts_no_days():
    params = interest(method="fixed", rate="2")
    result = calc.interest_subsidy(
        params,
        LOAN,
        (date(2026, 3, 1), date(2026, 3, 31)),
        (date(2026, 4, 1), date(2026, 12, 31)),
        interest_paid=Decimal("1e9"),
    )
    assert result.amount == 0 and result.lines[0].value == 0


def test_guarantee_fee_points_and_share_and_ceiling():
    points = pm.parse(
        "guarantee_fee", {"method": "points", "points": "0.5", "fee_rate_ceiling": "1"}
    )
    period = (date(2026, 1, 10), date(2026, 4, 9))  # 90 days
    result = calc.guarantee_fee_subsidy(points, LOAN, period, WINDOW, fee_paid=Decimal("10000"))
    assert result.amount == Decimal("6250.00")  # 5,000,000 × 0.5% × 90 / 360
    share = pm.parse("guarantee_fee", {"method": "share", "share": "50", "fee_rate_ceiling": "1"})
    assert calc.guarantee_fee_subsidy(
        share, LOAN, period, WINDOW, fee_paid=Decimal("8000.01")
    ).amount == Decimal("4000.01")
    strict = pm.parse(
        "guarantee_fee", {"method": "share", "share": "50", "fee_rate_ceiling": "0.5"}
    )
    refused = calc.guarantee_fee_subsidy(strict, LOAN, period, WINDOW, fee_paid=Decimal("8000"))
    assert refused.amount == 0 and "高于政策上限" in refused.blocked


def test_award_fixed_and_rate_with_cap():
    params = pm.parse(
        "award",
        {
            "items": [
                {"code": "neeq", "label": "新三板挂牌", "amount": "500000"},
                {
                    "code": "first_loan",
                    "label": "首贷奖励",
                    "recipient": "institution",
                    "rate": "1",
                    "cap": "20000",
                },
            ]
        },
    )
    assert calc.award(params, "neeq").amount == Decimal("500000.00")
    assert calc.award(params, "first_loan", loan=LOAN).amount == Decimal("20000.00")
    assert calc.award(params, "nothing").blocked


def test_bridge_fee_and_compensation_and_recovery():
    bridge = pm.parse("bridge", {"daily_fee_rate": "0.02", "max_days": "15"})
    fee = calc.bridge_fee(bridge, Decimal("3000000"), date(2026, 3, 1), date(2026, 3, 18))
    assert fee.amount == Decimal("10200.00")  # 3,000,000 × 0.02% × 17
    assert any(line.label == "逾期" for line in fee.lines)
    pool = pm.parse("risk_pool", {"share": "40", "cap_per_loan": "1000000"})
    comp = calc.compensation(pool, Decimal("3000000"), pool_balance=Decimal("800000"))
    assert comp.amount == Decimal("800000.00")
    back = calc.recovery_back(Decimal("800000"), Decimal("3000000"), Decimal("300000"))
    assert back.amount == Decimal("80000.00")


@pytest.mark.parametrize(
    ("kind", "data", "field"),
    [
        ("interest", {"method": "fixed", "rate": "-1"}, "params.rate"),
        ("interest", {"method": "fixed", "rate": "150"}, "params.rate"),
        ("interest", {"method": "lpr_share"}, "params.lpr_share"),
        ("interest", {"method": "fixed", "rate": "2", "cap_per_loan": "-5"}, "params.cap_per_loan"),
        (
            "interest",
            {"method": "fixed", "rate": "2", "cap_per_loan": "9", "cap_per_enterprise_year": "5"},
            "params.cap_per_loan",
        ),
        ("interest", {"method": "magic"}, "params.method"),
        (
            "guarantee_fee",
            {"method": "points", "points": "2", "fee_rate_ceiling": "1"},
            "params.points",
        ),
        ("bridge", {"daily_fee_rate": "0.02", "max_days": "0"}, "params.max_days"),
        ("risk_pool", {"share": "120"}, "params.share"),
        ("award", {"items": []}, "params.items"),
        (
            "award",
            {"items": [{"code": "a", "label": "A", "amount": "1", "rate": "1"}]},
            "params.items.0.rate",
        ),
    ],
)
def test_contradictory_parameters_are_refused_by_field(kind, data, field):
    from chanrong.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as exc:
        pm.parse(kind, data)
    assert field in [e.field for e in exc.value.errors]
