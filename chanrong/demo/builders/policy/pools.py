"""The 风险补偿 and 转贷应急 pools, through their services."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from chanrong.core.errors import ServiceError
from chanrong.policy.models import (
    BridgeDraw,
    Loan,
)
from chanrong.policy.services import bridge, riskpool

from ..base import workdays_before
from .common import FINANCE_ADMIN, _after, _at
from .loans import _eligible, _off_platform
from .world import World

# --- the pools, through their services ---------------------------------------------------


def _pools(world: World) -> None:
    _risk_pool(world)
    _bridge(world)


def _pool_loans(world: World, key: str) -> list[Loan]:
    programme = world.programmes[key]
    return [
        loan
        for loan in sorted(world.loans, key=lambda loan: (loan.loan_date, loan.contract_no))
        if loan.confirmed_at is not None
        and loan.institution_id in world.bank_users
        and loan.loan_date >= programme.starts_on
        and _eligible(world, key, loan.enterprise_id, loan)
    ]


def _risk_pool(world: World) -> None:
    rng = world.rng
    today = world.today
    programme = world.programmes["risk_pool"]
    admin = world.user(FINANCE_ADMIN)
    cap = min(60, max(10, round(40 * world.ctx.scale)))
    registrations = []
    for loan in _pool_loans(world, "risk_pool"):
        if len(registrations) >= cap:
            break
        day = loan.loan_date + timedelta(days=rng.randint(3, 30))
        if day >= today or rng.random() < 0.3:
            continue
        actor = world.bank_users[loan.institution_id]
        try:
            registration = riskpool.register(actor, programme, loan, today=day)
        except ServiceError:
            continue
        registrations.append((registration, day))
    # Losses on about one in eight, at least four; the oldest first.
    losers = [r for r in registrations if (today - r[1]).days > 150]
    count = min(len(losers), max(4, round(len(registrations) / 8)))
    for n, (registration, day) in enumerate(rng.sample(losers, count) if losers else []):
        loan = registration.loan
        actor = world.bank_users[loan.institution_id]
        # The loss shows four months to a year after registration, and the
        # first one of these is still waiting for review at the build day.
        age = (today - day).days
        if n == 0:
            claimed = workdays_before(today, rng.randint(2, 6))
        else:
            claimed = day + timedelta(days=rng.randint(120, max(121, min(365, age - 40))))
        if claimed >= today:
            continue
        loss = (loan.principal * Decimal(rng.randint(30, 80)) / 100).quantize(Decimal(1))
        try:
            claim = riskpool.file_claim(actor, registration, {"loss": loss}, today=claimed)
        except ServiceError:
            continue
        paid_on = _after(claimed, rng.randint(5, 20))
        if n == 0 or paid_on >= today:
            continue  # waiting for review
        if n == 1:
            riskpool.reject_claim(admin, claim, "贷款发放时借款人已列入失信黑名单，不符合补偿条件")
            continue
        try:
            claim = riskpool.pay_claim(admin, claim, paid_on=paid_on, today=paid_on)
        except ServiceError:
            continue
        back_on = paid_on + timedelta(days=rng.randint(60, 240))
        if n % 2 == 0 and back_on < today:
            recovered = (claim.loss * Decimal(rng.randint(10, 40)) / 100).quantize(Decimal(1))
            riskpool.report_recovery(actor, claim, recovered, on=back_on, today=back_on)


def _bridge(world: World) -> None:
    """Draws on loans maturing in the history: requested by the bank a few
    days before maturity, approved, drawn on the maturity day, repaid from
    the renewed loan days later (a few past the 15 days, the last ones still out)."""
    rng = world.rng
    today = world.today
    programme = world.programmes["bridge"]
    admin = world.user(FINANCE_ADMIN)
    limit = programme.starts_on + timedelta(days=20)
    candidates = [
        loan
        for loan in _pool_loans(world, "bridge")
        if limit <= loan.maturity_date <= today + timedelta(days=10)
        and loan.principal <= Decimal("10000000")
    ]
    cap = min(40, max(8, round(24 * world.ctx.scale)))
    chosen = sorted(
        rng.sample(candidates, min(cap, len(candidates))),
        key=lambda loan: (loan.maturity_date, loan.contract_no),
    )
    draws = []
    renewed = []
    for n, loan in enumerate(chosen):
        requested = loan.maturity_date - timedelta(days=rng.randint(3, 10))
        if requested >= today:
            continue
        actor = world.bank_users[loan.institution_id]
        try:
            draw = bridge.request_draw(
                actor,
                programme,
                loan,
                {"amount": loan.principal, "commitment_no": f"XDCN-{loan.contract_no}"},
                today=requested,
            )
        except ServiceError:
            continue
        stamps = {"requested": _at(rng, requested)}
        draws.append((draw, stamps))
        if n % 17 == 5:
            bridge.reject(admin, draw, "续贷承诺书未加盖贷款银行公章，请补正后重新申请")
            continue
        approved = _after(requested, rng.randint(1, 2))
        if approved >= today:
            continue
        draw = bridge.approve(admin, draw)
        drawn = max(loan.maturity_date, approved)
        if drawn >= today:
            continue
        try:
            draw = bridge.draw_funds(admin, draw, drawn_on=drawn, today=drawn)
        except ServiceError:
            continue
        days = rng.randint(18, 25) if n % 11 == 3 else rng.randint(2, 12)
        repaid = drawn + timedelta(days=days)
        if repaid >= today:
            continue  # still out (overdue once past the 15 days)
        new_loan = _off_platform(
            world,
            loan.enterprise_id,
            loan.institution,
            repaid,
            principal=loan.principal,
            term=12,
            purpose="续贷：" + (loan.purpose or "流动资金")[:40],
        )
        new_loan.save()
        renewed.append(new_loan)
        bridge.repay(admin, draw, new_loan, repaid_on=repaid, today=repaid)
    world.loans.extend(renewed)
    for draw, stamps in draws:
        BridgeDraw.objects.filter(pk=draw.pk).update(
            requested_at=stamps["requested"],
            commitment_confirmed_at=stamps["requested"],
        )
