"""Building blocks for the pool tests: a 转贷应急 fund and a 风险补偿 pool of
嘉善县财政局, built through the services as a clerk would build them, and
the days the tests pretend it is (every service takes `today=`)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from chanrong.policy import services
from chanrong.policy.models import BridgeDraw, Loan, Programme

from .conftest import PolicyWorld, make_loan, make_programme

BRIDGE_PARAMS = {"daily_fee_rate": "0.015", "max_days": "30", "max_amount": "3000000"}
RISK_PARAMS = {"share": "50", "cap_per_loan": "200000"}

#: The loans of make_loan mature on 2027-01-10; the fund is asked a few days before.
ASKED = date(2027, 1, 5)
DRAWN = date(2027, 1, 8)


def make_pool(
    pw: PolicyWorld,
    kind: str,
    params: dict,
    capital: Decimal | str | None,
    *,
    publish: bool = True,
    on: date | None = None,
    **extra,
) -> Programme:
    name = extra.pop("name", "嘉善县转贷应急资金" if kind == "bridge" else "嘉善县风险补偿资金池")
    programme = make_programme(pw, kind, params, name=name, publish=False, **extra)
    if capital is not None:
        services.add_capital(pw.user("fin_admin"), programme, str(capital), on=on)
    if publish:
        services.publish_programme(pw.user("fin_admin"), programme)
    programme.refresh_from_db()
    return programme


def make_bridge(pw: PolicyWorld, capital="10000000", **extra) -> Programme:
    return make_pool(pw, "bridge", extra.pop("params", BRIDGE_PARAMS), capital, **extra)


def make_riskpool(pw: PolicyWorld, capital="1000000", **extra) -> Programme:
    return make_pool(pw, "risk_pool", extra.pop("params", RISK_PARAMS), capital, **extra)


def confirmed_loan(pw: PolicyWorld, no: str = "JS-2026-001", **fields) -> Loan:
    fields.setdefault("confirmed_at", "2026-01-10T10:00:00+08:00")
    return make_loan(pw, no=no, **fields)


def renewal_of(pw: PolicyWorld, loan: Loan, *, no: str | None = None, on: date = DRAWN) -> Loan:
    """The renewed loan the bank grants after the fund repaid `loan`."""
    return make_loan(
        pw,
        loan.enterprise,
        no=no or f"{loan.contract_no}-R",
        principal=loan.principal,
        loan_date=on,
        maturity_date=date(on.year + 1, on.month, on.day),
        confirmed_at="2027-01-08T10:00:00+08:00",
    )


def approved_draw(
    pw: PolicyWorld, programme: Programme, loan: Loan, amount: str = "2000000"
) -> BridgeDraw:
    """A draw the bank filed on the enterprise's behalf (commitment confirmed
    at once) and the agency approved."""
    draw = services.request_draw(
        pw.user("bank_staff"),
        programme,
        loan,
        {"amount": amount, "commitment_no": f"XD-{loan.contract_no}"},
        today=ASKED,
    )
    return services.approve_draw(pw.user("fin_admin"), draw)
