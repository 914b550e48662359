"""风险补偿 from the registration to the recovery: who may do what, every
refusal (nothing written), and the compensation and recovery figures to the fen."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from chanrong.core.errors import Conflict, NotAllowed, ValidationFailed
from chanrong.core.models import AuditEntry, Notification
from chanrong.policy import services
from chanrong.policy.models import (
    ClaimState,
    LossClaim,
    Pool,
    PoolMovement,
    PoolRegistration,
)
from chanrong.policy.services import riskpool

from .conftest import make_loan
from .poolkit import confirmed_loan, make_bridge, make_riskpool

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 1)


def _snapshot(programme):
    pool = Pool.objects.get(programme=programme)
    return (
        pool.capital,
        pool.paid_out,
        pool.recovered,
        PoolMovement.objects.filter(pool=pool).count(),
        PoolRegistration.objects.count(),
        LossClaim.objects.count(),
        list(LossClaim.objects.order_by("pk").values_list("state", "recovered", "compensation")),
        AuditEntry.objects.count(),
        Notification.objects.count(),
    )


def _registered(pw, programme, no="JS-2026-001", **loan):
    return services.register_in_pool(
        pw.user("bank_staff"), programme, confirmed_loan(pw, no, **loan), today=TODAY
    )


def test_whole_path_registration_claim_payment_recoveries(policy_world):
    pw = policy_world
    programme = make_riskpool(
        pw, capital="1000000", params={"share": "50", "cap_per_loan": "400000"}
    )
    bank, admin = pw.user("bank_staff"), pw.user("fin_admin")
    loan = confirmed_loan(pw)

    registration = services.register_in_pool(bank, programme, loan, today=TODAY)
    assert (registration.share, registration.registered_on) == (Decimal("50"), TODAY)
    assert Notification.objects.filter(recipient=admin, verb="policy.pool.register").exists()

    claim = services.file_claim(bank, registration, {"loss": "333,333.33"}, today=date(2026, 9, 1))
    assert claim.state == ClaimState.CLAIMED
    assert claim.calculation["estimate"] is True
    assert claim.calculation["amount"] == "166666.67"

    claim = services.pay_claim(admin, claim, paid_on="2026-09-10", today=date(2026, 9, 10))
    assert claim.state == ClaimState.PAID
    # 333,333.33 × 50 % = 166,666.665 → 166,666.67 (half-up, once)
    assert claim.compensation == Decimal("166666.67")
    assert claim.calculation["estimate"] is False
    labels = [line["label"] for line in claim.calculation["lines"]]
    assert labels == ["按公式计算", "单笔贷款上限", "四舍五入到分"]
    pool = Pool.objects.get(programme=programme)
    assert (pool.paid_out, pool.balance) == (Decimal("166666.67"), Decimal("833333.33"))
    assert Notification.objects.filter(recipient=bank, verb="policy.claim.pay").exists()

    # Recoveries flow back in the ratio the pool bore the loss, computed on the
    # cumulative total so the pool never gets back more than it paid.
    claim = services.report_recovery(
        bank, claim, "100000", on="2026-10-01", today=date(2026, 10, 1)
    )
    # 100,000 × (166,666.67 ÷ 333,333.33) = 50,000.00015 → 50,000.00
    assert riskpool.returned_to_pool(claim) == Decimal("50000.00")
    claim = services.report_recovery(bank, claim, "233333.33", today=date(2026, 11, 1))
    # all 333,333.33 recovered: 166,666.67 in all, 116,666.67 this time
    assert claim.recovered == Decimal("333333.33")
    assert riskpool.returned_to_pool(claim) == Decimal("166666.67")
    second = claim.calculation["recoveries"][1]
    assert second["amount"] == "116666.67"
    assert second["lines"][-1]["label"] == "扣除此前已回流"
    pool.refresh_from_db()
    assert (pool.recovered, pool.balance) == (Decimal("166666.67"), Decimal("1000000.00"))
    movements = list(pool.movements.order_by("pk").values_list("kind", "amount", "balance_after"))
    assert movements == [
        ("capital", Decimal("1000000.00"), Decimal("1000000.00")),
        ("compensate", Decimal("166666.67"), Decimal("833333.33")),
        ("recover", Decimal("50000.00"), Decimal("883333.33")),
        ("recover", Decimal("116666.67"), Decimal("1000000.00")),
    ]
    # Nothing more can be recovered than was lost.
    before = _snapshot(programme)
    with pytest.raises(ValidationFailed) as refused:
        services.report_recovery(bank, claim, "0.01", today=date(2026, 11, 2))
    assert refused.value.errors[0].field == "amount"
    assert _snapshot(programme) == before
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {
        "policy.pool.register",
        "policy.claim.file",
        "policy.claim.pay",
        "policy.claim.recover",
    } <= actions


def test_registration_refusals_write_nothing(policy_world):
    pw = policy_world
    programme = make_riskpool(pw)
    picky = make_riskpool(pw, name="短期贷款风险池", eligibility={"term_max_months": 6})
    bridge_fund = make_bridge(pw)
    draft = make_riskpool(pw, name="草稿风险池", publish=False)
    loan = confirmed_loan(pw)
    unconfirmed = make_loan(pw, no="UNCONF")
    before = _snapshot(programme)

    def refused(exc_type, actor, target=loan, prog=programme, on=TODAY):
        with pytest.raises(exc_type) as info:
            services.register_in_pool(pw.user(actor), prog, target, today=on)
        assert _snapshot(programme) == before
        return info.value

    for actor in ("bank2_staff", "ent_user", "fin_admin"):  # only the lender
        assert refused(NotAllowed, actor).status == 403
    assert refused(Conflict, "bank_staff", target=unconfirmed).code == "loan_unconfirmed"
    assert refused(Conflict, "bank_staff", prog=draft).code == "programme_not_open"
    assert refused(Conflict, "bank_staff", prog=bridge_fund).code == "wrong_programme_kind"
    assert refused(Conflict, "bank_staff", on=date(2028, 6, 1)).code == "programme_not_open"
    error = refused(ValidationFailed, "bank_staff", prog=picky)
    assert error.status == 422 and error.errors[0].field == "eligibility"
    services.register_in_pool(pw.user("bank_staff"), programme, loan, today=TODAY)
    before = _snapshot(programme)
    assert refused(Conflict, "bank_staff").code == "duplicate_registration"


def test_claim_refusals_write_nothing(policy_world):
    pw = policy_world
    programme = make_riskpool(pw)
    registration = _registered(pw, programme)
    bank = pw.user("bank_staff")
    before = _snapshot(programme)
    for actor in ("bank2_staff", "ent_user", "fin_admin"):
        with pytest.raises(NotAllowed):
            services.file_claim(pw.user(actor), registration, {"loss": "1000"})
    for loss in ("", "0", "-3", "abc", "1.234", "5000000.01"):
        with pytest.raises(ValidationFailed) as refused:
            services.file_claim(bank, registration, {"loss": loss})
        assert refused.value.errors[0].field == "loss", loss
    assert _snapshot(programme) == before
    claim = services.file_claim(bank, registration, {"loss": "100000"})
    before = _snapshot(programme)
    with pytest.raises(Conflict) as refused:  # one open claim per loan at a time
        services.file_claim(bank, registration, {"loss": "1000"})
    assert refused.value.code == "claim_open"
    # Only the agency pays or rejects; the bank reports recoveries on paid claims only.
    for actor in ("bank_staff", "fin_staff", "gov_jiangsu", "ent_user"):
        with pytest.raises(NotAllowed):
            services.pay_claim(pw.user(actor), claim)
        with pytest.raises(NotAllowed):
            services.reject_claim(pw.user(actor), claim, "不符合")
    with pytest.raises(Conflict) as refused:
        services.report_recovery(bank, claim, "100")
    assert refused.value.code == "claim_not_paid"
    with pytest.raises(NotAllowed):
        services.report_recovery(pw.user("bank2_staff"), claim, "100")
    with pytest.raises(ValidationFailed):
        services.reject_claim(pw.user("fin_admin"), claim, "")
    with pytest.raises(ValidationFailed):
        services.pay_claim(pw.user("fin_admin"), claim, paid_on="2999-01-01")
    assert _snapshot(programme) == before
    claim = services.reject_claim(pw.user("fin_admin"), claim, "损失未经法院判决确认")
    assert (claim.state, claim.reason) == (ClaimState.REJECTED, "损失未经法院判决确认")
    assert Notification.objects.filter(recipient=bank, verb="policy.claim.reject").exists()
    with pytest.raises(Conflict):
        services.pay_claim(pw.user("fin_admin"), claim)
    # Rejected, the loan may claim again.
    assert services.file_claim(bank, registration, {"loss": "1000"}).state == ClaimState.CLAIMED


def test_cap_per_loan_counts_what_the_loan_already_got(policy_world):
    pw = policy_world
    programme = make_riskpool(
        pw, capital="5000000", params={"share": "60", "cap_per_loan": "200000"}
    )
    registration = _registered(pw, programme)
    bank, admin = pw.user("bank_staff"), pw.user("fin_admin")
    first = services.pay_claim(admin, services.file_claim(bank, registration, {"loss": "300000"}))
    assert first.compensation == Decimal("180000.00")  # 300,000 × 60 %
    second = services.file_claim(bank, registration, {"loss": "100000"})
    assert second.calculation["amount"] == "20000.00"
    second = services.pay_claim(admin, second)
    assert second.compensation == Decimal("20000.00")  # 60,000, capped: 200,000 − 180,000
    third = services.file_claim(bank, registration, {"loss": "50000"})
    before = _snapshot(programme)
    with pytest.raises(Conflict) as refused:
        services.pay_claim(admin, third)
    assert refused.value.code == "cap_reached"
    assert _snapshot(programme) == before


def test_the_pool_pays_at_most_its_balance(policy_world):
    pw = policy_world
    programme = make_riskpool(pw, capital="120000.50", params={"share": "50"})
    bank, admin = pw.user("bank_staff"), pw.user("fin_admin")
    first = _registered(pw, programme, "L1")
    second = _registered(pw, programme, "L2")
    claim = services.pay_claim(admin, services.file_claim(bank, first, {"loss": "1000000"}))
    # 500,000 due, the pool holds 120,000.50
    assert claim.compensation == Decimal("120000.50")
    assert "资金池余额" in [line["label"] for line in claim.calculation["lines"]]
    pool = Pool.objects.get(programme=programme)
    assert pool.balance == 0
    other = services.file_claim(bank, second, {"loss": "10000"})
    before = _snapshot(programme)
    with pytest.raises(Conflict) as refused:
        services.pay_claim(admin, other)
    assert (refused.value.code, refused.value.message) == ("pool_exhausted", "资金池余额不足")
    assert _snapshot(programme) == before
    # A recovery refills it; the waiting claim is then paid from it.
    services.report_recovery(bank, claim, "200000")  # × 120,000.50 ÷ 1,000,000 = 24,000.10
    pool.refresh_from_db()
    assert pool.balance == Decimal("24000.10")
    assert services.pay_claim(admin, other).compensation == Decimal("5000.00")


def test_visibility_of_claims(policy_world):
    pw = policy_world
    programme = make_riskpool(pw)
    registration = _registered(pw, programme)
    claim = services.file_claim(pw.user("bank_staff"), registration, {"loss": "1000"})
    assert list(riskpool.visible_claims(pw.user("bank_staff"))) == [claim]
    assert list(riskpool.visible_claims(pw.user("fin_staff"))) == [claim]
    assert list(riskpool.visible_claims(pw.user("ent_user"))) == [claim]  # its own loan
    assert list(riskpool.visible_claims(pw.user("bank2_staff"))) == []
    assert list(riskpool.visible_claims(pw.user("ent2_user"))) == []
    assert list(riskpool.visible_claims(pw.user("gov_jiangsu"))) == []
