"""转贷应急 from the request to the repayment, every refusal on the way
(nothing written), the fee to the fen, days outstanding and overdue, the
hourly reminder, and — on PostgreSQL — 30 draws racing for a pool that
holds exactly N of them."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from chanrong.core import periodic
from chanrong.core.errors import Conflict, NotAllowed, ValidationFailed
from chanrong.core.models import AuditEntry, Notification
from chanrong.policy import services, tasks
from chanrong.policy.models import BridgeDraw, BridgeState, Pool, PoolMovement
from chanrong.policy.services import bridge, pools

from .conftest import make_loan
from .poolkit import (
    ASKED,
    BRIDGE_PARAMS,
    DRAWN,
    approved_draw,
    confirmed_loan,
    make_bridge,
    renewal_of,
)

pytestmark = pytest.mark.django_db


def _snapshot(programme):
    pool = Pool.objects.get(programme=programme)
    return (
        pool.capital,
        pool.outstanding,
        pool.fee_income,
        PoolMovement.objects.filter(pool=pool).count(),
        BridgeDraw.objects.count(),
        AuditEntry.objects.count(),
        Notification.objects.count(),
    )


def test_whole_path_from_request_to_repayment(policy_world):
    pw = policy_world
    programme = make_bridge(pw, capital="10000000")
    loan = confirmed_loan(pw)
    ent, bank, admin = pw.user("ent_user"), pw.user("bank_staff"), pw.user("fin_admin")

    draw = services.request_draw(
        ent,
        programme,
        loan,
        {"amount": "1,234,567.89", "commitment_no": "JSNS-XD-2027-008"},
        today=ASKED,
    )
    assert draw.state == BridgeState.REQUESTED
    assert draw.commitment_confirmed_at is None
    # The bank is asked to confirm its commitment; approval waits for it.
    assert Notification.objects.filter(recipient=bank, verb="policy.bridge.commitment").exists()
    with pytest.raises(Conflict) as refused:
        services.approve_draw(admin, draw)
    assert refused.value.code == "commitment_unconfirmed"
    with pytest.raises(NotAllowed):
        services.confirm_commitment(pw.user("bank2_staff"), draw)
    draw = services.confirm_commitment(bank, draw)
    assert draw.commitment_confirmed_by == bank

    draw = services.approve_draw(admin, draw)
    assert draw.state == BridgeState.APPROVED
    draw = services.draw_funds(admin, draw, drawn_on=DRAWN, today=DRAWN)
    assert draw.state == BridgeState.DRAWN
    assert (draw.drawn_on, draw.due_on) == (DRAWN, DRAWN + timedelta(days=30))
    pool = Pool.objects.get(programme=programme)
    assert pool.outstanding == Decimal("1234567.89")
    assert pool.balance == Decimal("8765432.11")

    timing = bridge.timing(draw, today=date(2027, 1, 15))
    assert (timing.days, timing.overdue) == (7, False)

    renewed = renewal_of(pw, loan, on=date(2027, 1, 15))
    draw = services.repay_draw(
        admin, draw, renewed, repaid_on="2027-01-15", today=date(2027, 1, 15)
    )
    assert draw.state == BridgeState.REPAID
    assert draw.renewed_loan == renewed
    # 1,234,567.89 × 0.015 % × 7 days = 1,296.2962845 → 1,296.30 (half-up, once)
    assert draw.fee == Decimal("1296.30")
    assert draw.calculation["amount"] == "1296.30"
    assert [line["label"] for line in draw.calculation["lines"]] == [
        "占用天数",
        "按公式计算",
        "四舍五入到分",
    ]
    pool.refresh_from_db()
    assert (pool.outstanding, pool.fee_income) == (0, Decimal("1296.30"))
    assert pool.balance == Decimal("10000000.00")
    kinds = list(pool.movements.order_by("pk").values_list("kind", "amount", "balance_after"))
    assert kinds == [
        ("capital", Decimal("10000000.00"), Decimal("10000000.00")),
        ("draw", Decimal("1234567.89"), Decimal("8765432.11")),
        ("repay", Decimal("1234567.89"), Decimal("10000000.00")),
        ("fee", Decimal("1296.30"), Decimal("10000000.00")),
    ]
    actions = set(
        AuditEntry.objects.filter(object_type="policy.bridgedraw").values_list("action", flat=True)
    )
    assert {
        "policy.bridge.request",
        "policy.bridge.confirm_commitment",
        "policy.bridge.approve",
        "policy.bridge.draw",
        "policy.bridge.repay",
    } <= actions
    assert AuditEntry.objects.filter(action="policy.pool.capital").count() == 1
    assert Notification.objects.filter(recipient=ent, verb="policy.bridge.repay").exists()
    assert bridge.timing(draw, today=date(2027, 3, 1)).days == 7


def test_a_bank_files_for_its_borrower_and_its_commitment_counts_at_once(policy_world):
    pw = policy_world
    programme = make_bridge(pw)
    draw = services.request_draw(
        pw.user("bank_staff"),
        programme,
        confirmed_loan(pw),
        {"amount": "500000", "commitment_no": "XD-1"},
        today=ASKED,
    )
    assert draw.commitment_confirmed_at is not None
    assert draw.enterprise == pw.world.ent
    ent = pw.user("ent_user")
    assert Notification.objects.filter(recipient=ent, verb="policy.bridge.request").exists()
    assert services.approve_draw(pw.user("fin_admin"), draw).state == BridgeState.APPROVED


def test_request_refusals_write_nothing(policy_world):
    pw = policy_world
    programme = make_bridge(pw)
    loan = confirmed_loan(pw)
    ent = pw.user("ent_user")
    good = {"amount": "1000000", "commitment_no": "XD-1"}
    draft = make_bridge(pw, name="草稿中的转贷资金", publish=False)
    picky = make_bridge(pw, name="仅限微型企业的转贷资金", eligibility={"sizes": ["micro"]})
    unconfirmed = make_loan(pw, no="JS-UNCONFIRMED")
    before = _snapshot(programme)

    def refused(exc_type, actor, data, *, on=ASKED, target=loan, prog=programme):
        with pytest.raises(exc_type) as info:
            services.request_draw(actor, prog, target, data, today=on)
        assert _snapshot(programme) == before
        return info.value

    # someone else's loan, another bank, a government user
    assert refused(NotAllowed, pw.user("ent2_user"), good).status == 403
    assert refused(NotAllowed, pw.user("bank2_staff"), good).status == 403
    assert refused(NotAllowed, pw.user("fin_admin"), good).status == 403
    # field by field
    error = refused(ValidationFailed, ent, {"amount": "", "commitment_no": ""})
    assert {e.field for e in error.errors} == {"amount", "commitment_no"}
    for amount in ("-5", "0", "abc", "NaN", "1.001", "1e30", True):
        error = refused(ValidationFailed, ent, {**good, "amount": amount})
        assert [e.field for e in error.errors] == ["amount"], amount
    error = refused(ValidationFailed, ent, {**good, "amount": "5000000.01"})
    assert "到期贷款金额" in error.errors[0].message
    error = refused(ValidationFailed, ent, {**good, "amount": "3000000.01"})
    assert "单笔最多" in error.errors[0].message
    error = refused(ValidationFailed, ent, {**good, "commitment_no": "x" * 65})
    assert error.errors[0].field == "commitment_no"
    # maturing too late (more than 30 days away) or already past
    error = refused(ValidationFailed, ent, good, on=date(2026, 12, 1))
    assert error.errors[0].field == "loan"
    assert refused(ValidationFailed, ent, good, on=date(2027, 1, 11)).errors[0].field == "loan"
    # an unconfirmed loan
    assert refused(Conflict, ent, good, target=unconfirmed).code == "loan_unconfirmed"
    # outside the programme's period, or a programme still in draft
    assert refused(Conflict, ent, good, on=date(2028, 1, 5)).code == "programme_not_open"
    assert refused(Conflict, ent, good, prog=draft).code == "programme_not_open"
    # conditions not met: only micro enterprises
    error = refused(ValidationFailed, ent, good, prog=picky)
    assert error.errors and all(e.field == "eligibility" for e in error.errors)


def test_one_live_draw_per_loan(policy_world):
    pw = policy_world
    programme = make_bridge(pw)
    loan = confirmed_loan(pw)
    first = approved_draw(pw, programme, loan, "1000000")
    with pytest.raises(Conflict) as refused:
        services.request_draw(
            pw.user("ent_user"),
            programme,
            loan,
            {"amount": "1000", "commitment_no": "XD-2"},
            today=ASKED,
        )
    assert refused.value.code == "duplicate_draw"
    services.reject_draw(pw.user("fin_admin"), first, "材料不全")
    again = services.request_draw(
        pw.user("ent_user"),
        programme,
        loan,
        {"amount": "1000", "commitment_no": "XD-2"},
        today=ASKED,
    )
    assert again.state == BridgeState.REQUESTED


def test_draw_refused_when_the_pool_cannot_cover_it(policy_world):
    pw = policy_world
    programme = make_bridge(pw, capital="2500000")
    first = approved_draw(pw, programme, confirmed_loan(pw, "L1"), "2000000")
    second = approved_draw(pw, programme, confirmed_loan(pw, "L2"), "600000")
    admin = pw.user("fin_admin")
    services.draw_funds(admin, first, drawn_on=DRAWN, today=DRAWN)
    before = _snapshot(programme)
    with pytest.raises(Conflict) as refused:
        services.draw_funds(admin, second, drawn_on=DRAWN, today=DRAWN)
    assert refused.value.status == 409
    assert "资金池余额不足" in refused.value.message
    assert _snapshot(programme) == before
    second.refresh_from_db()
    assert second.state == BridgeState.APPROVED
    # More capital, and it goes through.
    services.add_capital(admin, programme, "100000.00")
    assert services.draw_funds(admin, second, today=DRAWN).state == BridgeState.DRAWN
    assert Pool.objects.get(programme=programme).balance == 0


def test_transition_and_actor_refusals(policy_world):
    pw = policy_world
    programme = make_bridge(pw)
    loan = confirmed_loan(pw)
    draw = services.request_draw(
        pw.user("bank_staff"),
        programme,
        loan,
        {"amount": "10000", "commitment_no": "X"},
        today=ASKED,
    )
    before = _snapshot(programme)
    for actor in ("ent_user", "bank_staff", "gov_jiangsu", "fin_staff"):
        with pytest.raises(NotAllowed):
            services.approve_draw(pw.user(actor), draw)
    with pytest.raises(Conflict):  # not approved yet
        services.draw_funds(pw.user("fin_admin"), draw, today=DRAWN)
    with pytest.raises(Conflict):
        services.repay_draw(pw.user("fin_admin"), draw, renewal_of(pw, loan), today=DRAWN)
    with pytest.raises(ValidationFailed):
        services.reject_draw(pw.user("fin_admin"), draw, "  ")
    with pytest.raises(NotAllowed):  # only the enterprise withdraws
        services.withdraw_draw(pw.user("bank_staff"), draw)
    assert _snapshot(programme)[:5] == before[:5]
    draw = services.withdraw_draw(pw.user("ent_user"), draw, "企业已自筹资金")
    assert draw.state == BridgeState.WITHDRAWN
    with pytest.raises(Conflict):
        services.approve_draw(pw.user("fin_admin"), draw)


def test_draw_and_repay_input_refusals(policy_world):
    pw = policy_world
    programme = make_bridge(pw)
    loan = confirmed_loan(pw)
    draw = approved_draw(pw, programme, loan)
    admin = pw.user("fin_admin")
    before = _snapshot(programme)
    for bad in ("2027-13-01", "tomorrow", "2027-01-09"):  # the last is after "today"
        with pytest.raises(ValidationFailed) as refused:
            services.draw_funds(admin, draw, drawn_on=bad, today=DRAWN)
        assert refused.value.errors[0].field == "drawn_on"
    with pytest.raises(NotAllowed):
        services.draw_funds(pw.user("bank_staff"), draw, today=DRAWN)
    assert _snapshot(programme) == before
    draw = services.draw_funds(admin, draw, today=DRAWN)
    before = _snapshot(programme)
    other = make_loan(pw, pw.world.ent2, no="ENT2", confirmed_at="2027-01-01T00:00:00+08:00")
    cases = [
        (None, {}, "renewed_loan"),
        (loan, {}, "renewed_loan"),  # the maturing loan itself
        (other, {}, "renewed_loan"),  # another enterprise's
        (make_loan(pw, no="UNCONF", loan_date=DRAWN), {}, "renewed_loan"),
        (renewal_of(pw, loan, no="EARLY", on=date(2027, 1, 2)), {}, "renewed_loan"),
        (renewal_of(pw, loan), {"repaid_on": "2027-01-07"}, "repaid_on"),  # before the draw
    ]
    for renewed, extra, field in cases:
        with pytest.raises(ValidationFailed) as refused:
            services.repay_draw(admin, draw, renewed, today=DRAWN, **extra)
        assert field in {e.field for e in refused.value.errors}, renewed
    with pytest.raises(NotAllowed):
        services.repay_draw(pw.user("ent_user"), draw, renewal_of(pw, loan, no="R2"), today=DRAWN)
    assert _snapshot(programme)[:5] == before[:5]


def test_a_renewed_loan_repays_one_draw_only(policy_world):
    pw = policy_world
    programme = make_bridge(pw)
    loan1, loan2 = confirmed_loan(pw, "L1"), confirmed_loan(pw, "L2")
    admin = pw.user("fin_admin")
    first = services.draw_funds(admin, approved_draw(pw, programme, loan1, "1000"), today=DRAWN)
    second = services.draw_funds(admin, approved_draw(pw, programme, loan2, "1000"), today=DRAWN)
    renewed = renewal_of(pw, loan1)
    services.repay_draw(admin, first, renewed, today=DRAWN)
    with pytest.raises(Conflict) as refused:
        services.repay_draw(admin, second, renewed, today=DRAWN)
    assert refused.value.code == "renewed_loan_used"


def test_overdue_fee_and_reminders(policy_world):
    pw = policy_world
    programme = make_bridge(pw)
    loan = confirmed_loan(pw)
    admin = pw.user("fin_admin")
    draw = services.draw_funds(admin, approved_draw(pw, programme, loan, "2000000"), today=DRAWN)
    due = draw.due_on
    assert bridge.timing(draw, today=due).overdue is False
    assert services.notify_overdue(today=due) == 0
    late = due + timedelta(days=3)
    timing = bridge.timing(draw, today=late)
    assert (timing.days, timing.overdue_days) == (33, 3)
    # The hourly job tells the agency and the enterprise once a day.
    assert services.notify_overdue(today=late) == 1
    assert services.notify_overdue(today=late) == 0
    told = Notification.objects.filter(verb="policy.bridge.overdue")
    assert set(told.values_list("recipient__username", flat=True)) == {
        "fin_admin",
        "fin_staff",
        "ent_user",
    }
    assert services.notify_overdue(today=late + timedelta(days=1)) == 1
    # Repaid 35 days after the draw: 2,000,000 × 0.015 % × 35 = 10,500.00, overdue 5 days.
    repaid = DRAWN + timedelta(days=35)
    draw = services.repay_draw(admin, draw, renewal_of(pw, loan), repaid_on=repaid, today=repaid)
    assert draw.fee == Decimal("10500.00")
    assert "逾期" in [line["label"] for line in draw.calculation["lines"]]
    assert bridge.timing(draw, today=repaid + timedelta(days=9)).overdue is False
    assert services.notify_overdue(today=repaid + timedelta(days=1)) == 0


def test_same_day_repayment_costs_one_day(policy_world):
    pw = policy_world
    programme = make_bridge(pw, params={**BRIDGE_PARAMS, "daily_fee_rate": "0.0333"})
    loan = confirmed_loan(pw)
    admin = pw.user("fin_admin")
    draw = services.draw_funds(admin, approved_draw(pw, programme, loan, "333333.33"), today=DRAWN)
    draw = services.repay_draw(admin, draw, renewal_of(pw, loan), today=DRAWN)
    # 333,333.33 × 0.0333 % × 1 = 110.99999889 → 111.00
    assert draw.fee == Decimal("111.00")


def test_capital_refusals(policy_world):
    pw = policy_world
    programme = make_bridge(pw, capital=None, publish=False)
    admin = pw.user("fin_admin")
    with pytest.raises(Conflict) as refused:
        services.publish_programme(admin, programme)
    assert refused.value.code == "no_capital"
    for actor in ("fin_staff", "gov_jiangsu", "bank_staff", "ent_user"):
        with pytest.raises(NotAllowed):
            services.add_capital(pw.user(actor), programme, "1000")
    for amount in ("", "0", "-1", "x", "0.001"):
        with pytest.raises(ValidationFailed):
            services.add_capital(admin, programme, amount)
    with pytest.raises(ValidationFailed):
        services.add_capital(admin, programme, "1000", on="2999-01-01")
    assert PoolMovement.objects.count() == 0
    services.add_capital(admin, programme, "5000000", note="县财政首期注资")
    assert services.publish_programme(admin, programme).state == "published"


def test_ledger_runs_in_date_order(policy_world):
    pw = policy_world
    programme = make_bridge(pw, capital="1000000", on=date(2026, 11, 1))
    admin = pw.user("fin_admin")
    draw = services.draw_funds(
        admin, approved_draw(pw, programme, confirmed_loan(pw), "400000"), today=DRAWN
    )
    services.add_capital(admin, programme, "500000", on=date(2026, 12, 1))
    rows = pools.ledger(programme.pool)
    assert [(r.movement.kind, r.effect, r.running) for r in rows] == [
        ("capital", Decimal("1000000.00"), Decimal("1000000.00")),
        ("capital", Decimal("500000.00"), Decimal("1500000.00")),
        ("draw", Decimal("-400000.00"), Decimal("1100000.00")),
    ]
    assert draw.drawn_on == DRAWN
    option = pools.chart_option(rows)
    assert option["series"][0]["data"] == [
        ["2026-11-01", 100.0],
        ["2026-12-01", 150.0],
        ["2027-01-08", 110.0],
    ]
    carried = pools.chart_option(rows, until=date(2027, 2, 1))["series"][0]["data"]
    assert carried[-1] == ["2027-02-01", 110.0]


# --- PostgreSQL: 30 draws racing for a pool that fits exactly N -----------------------------


def _race(calls):
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=60)
            outcomes[index] = call()
        except Exception as exc:  # noqa: BLE001 - the outcome is what we check
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


@pytest.mark.postgres(
    "SQLite serialises every writer on the whole file; only PostgreSQL's row "
    "locks (SELECT … FOR UPDATE on the pool) show the race"
)
@pytest.mark.django_db(transaction=True)
@pytest.mark.many_connections
def test_thirty_concurrent_draws_never_overdraw_the_pool(policy_world):
    pw = policy_world
    fits = 11
    amount = Decimal("123456.78")
    programme = make_bridge(pw, capital=str(amount * fits + Decimal("123456.77")))
    draws = [
        approved_draw(pw, programme, confirmed_loan(pw, f"RACE-{i:02d}"), str(amount))
        for i in range(30)
    ]
    admin = pw.user("fin_admin")
    outcomes = _race([lambda d=d: services.draw_funds(admin, d, today=DRAWN) for d in draws])
    won = [o for o in outcomes if isinstance(o, BridgeDraw)]
    lost = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(won) == fits and len(lost) == 30 - fits, outcomes
    assert {o.code for o in lost} == {"pool_exhausted"}
    assert all(o.status == 409 for o in lost)
    pool = Pool.objects.get(programme=programme)
    assert pool.outstanding == amount * fits
    assert pool.balance == Decimal("123456.77")
    assert BridgeDraw.objects.filter(state=BridgeState.DRAWN).count() == fits
    assert BridgeDraw.objects.filter(state=BridgeState.APPROVED).count() == 30 - fits
    movements = PoolMovement.objects.filter(pool=pool, kind="draw")
    assert movements.count() == fits
    # Each movement's balance is what the pool held right after it: never below zero,
    # each draw taking exactly its amount.
    after = sorted((m.balance_after for m in movements), reverse=True)
    assert after[-1] == Decimal("123456.77") and min(after) >= 0
    assert [a - b for a, b in zip(after, after[1:], strict=False)] == [amount] * (fits - 1)


def test_the_hourly_job_reminds_about_draws_overdue_today(policy_world):
    pw = policy_world
    job = {j.name: j for j in periodic.jobs()}["chanrong.policy.tasks.remind_overdue_bridge_draws"]
    assert job.every == timedelta(hours=1)
    today = timezone.localdate()
    programme = make_bridge(
        pw, starts_on=str(today - timedelta(days=400)), ends_on=str(today + timedelta(days=400))
    )
    loan = confirmed_loan(
        pw, loan_date=today - timedelta(days=300), maturity_date=today - timedelta(days=38)
    )
    draw = services.request_draw(
        pw.user("bank_staff"),
        programme,
        loan,
        {"amount": "1000", "commitment_no": "XD"},
        today=today - timedelta(days=40),
    )
    draw = services.approve_draw(pw.user("fin_admin"), draw)
    services.draw_funds(pw.user("fin_admin"), draw, today=today - timedelta(days=38))
    assert tasks.remind_overdue_bridge_draws.call() == 1
    assert tasks.remind_overdue_bridge_draws.call() == 0  # once a day
    assert Notification.objects.filter(
        recipient=pw.user("ent_user"), verb="policy.bridge.overdue"
    ).exists()
