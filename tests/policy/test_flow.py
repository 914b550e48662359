"""An application from the loan to the payment, and every refusal on the way."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from chanrong.core.errors import Conflict, NotAllowed, ValidationFailed
from chanrong.core.models import AuditEntry
from chanrong.policy import services
from chanrong.policy.models import (
    Application,
    ApplicationState,
    BudgetYear,
    EnterpriseYear,
    LedgerEntry,
)

from .conftest import make_loan, make_programme

pytestmark = pytest.mark.django_db

PERIOD = {"period_start": "2026-01-10", "period_end": "2026-06-30"}


def test_whole_path_with_bank_confirmation(policy_world):
    pw = policy_world
    programme = make_programme(pw)
    loan = make_loan(pw)
    app = services.apply(pw.user("ent_user"), programme, PERIOD, loan=loan)
    assert app.state == ApplicationState.BANK_PENDING
    assert app.calculation["estimate"] is True
    # Only the lending bank confirms; another bank may not.
    with pytest.raises(NotAllowed):
        services.bank_confirm(pw.user("bank2_staff"), app, "80000")
    app = services.bank_confirm(pw.user("bank_staff"), app, "80000")
    assert app.state == ApplicationState.SUBMITTED
    # LPR 1y in force on 2026-01-10 (3.00 % since 2025-05) × 50 % = 1.5 %;
    # 2026-01-10 .. 06-30 = 172 days: 5,000,000 × 1.5 % × 172 / 360 = 35,833.33
    assert app.amount == Decimal("35833.33")
    app = services.verify(pw.user("gov_jiashan"), app)
    assert app.state == ApplicationState.VERIFIED
    app = services.approve(pw.user("fin_admin"), app, today=date(2026, 7, 6))
    assert app.state == ApplicationState.NOTICE
    assert app.notice_ends_on > date(2026, 7, 6)
    budget = BudgetYear.objects.get(programme=programme, year=2026)
    assert budget.committed == Decimal("35833.33")
    with pytest.raises(Conflict):
        services.conclude(pw.user("fin_admin"), app, today=app.notice_ends_on)
    assert services.close_notices(today=date(2026, 8, 1)) == 1
    app.refresh_from_db()
    assert app.state == ApplicationState.APPROVED
    with pytest.raises(ValidationFailed):
        services.pay(pw.user("fin_admin"), app, "")
    app = services.pay(pw.user("fin_staff"), app, "GK-2026-0001", "2026-08-02")
    assert app.state == ApplicationState.PAID
    budget.refresh_from_db()
    assert (budget.committed, budget.paid) == (0, Decimal("35833.33"))
    held = EnterpriseYear.objects.get(programme=programme, year=2026, enterprise=pw.world.ent)
    assert held.paid == Decimal("35833.33")
    kinds = list(LedgerEntry.objects.filter(budget=budget).values_list("kind", flat=True))
    assert kinds == ["appropriate", "commit", "pay"]
    verbs = set(
        AuditEntry.objects.filter(object_type="policy.application").values_list("action", flat=True)
    )
    assert {
        "policy.application.submit",
        "policy.application.approve",
        "policy.application.pay",
    } <= verbs


def test_four_eyes_and_actor_checks(policy_world):
    pw = policy_world
    programme = make_programme(pw, requires_bank_confirmation=False)
    app = services.apply(
        pw.user("ent_user"), programme, {**PERIOD, "paid_cost": "90000"}, loan=make_loan(pw)
    )
    assert app.state == ApplicationState.SUBMITTED
    with pytest.raises(NotAllowed):
        services.verify(pw.user("bank_staff"), app)
    with pytest.raises(NotAllowed):
        services.verify(pw.user("gov_jiangsu"), app)
    app = services.verify(pw.user("fin_admin"), app)
    with pytest.raises(NotAllowed):
        services.approve(pw.user("fin_admin"), app)  # the same person did the 初审
    with pytest.raises(NotAllowed):
        services.approve(pw.user("gov_jiashan"), app)  # 经信 cannot do 财政复核
    app = services.approve(pw.user("fin_staff"), app)
    assert app.state == ApplicationState.NOTICE


def test_duplicate_and_overlapping_applications_are_409_and_write_nothing(policy_world):
    pw = policy_world
    programme = make_programme(pw)
    loan = make_loan(pw)
    services.apply(pw.user("ent_user"), programme, PERIOD, loan=loan)
    before = Application.objects.count()
    with pytest.raises(Conflict):
        services.apply(
            pw.user("ent_user"),
            programme,
            {"period_start": "2026-03-01", "period_end": "2026-03-31"},
            loan=loan,
        )
    assert Application.objects.count() == before


def test_ineligible_loan_is_refused_with_every_reason(policy_world):
    pw = policy_world
    programme = make_programme(
        pw,
        eligibility={"sizes": ["micro"], "loan_date_from": "2026-02-01", "term_max_months": 6},
    )
    loan = make_loan(pw)
    with pytest.raises(ValidationFailed) as exc:
        services.apply(pw.user("ent_user"), programme, PERIOD, loan=loan)
    messages = [e.message for e in exc.value.errors]
    assert any("微型" in m for m in messages)
    assert any("2026-02-01" in m for m in messages)
    assert any("6 个月" in m for m in messages)
    assert not Application.objects.exists()


def test_someone_elses_loan_and_bad_periods(policy_world):
    pw = policy_world
    programme = make_programme(pw)
    loan = make_loan(pw)
    with pytest.raises(NotAllowed):
        services.apply(pw.user("ent2_user"), programme, PERIOD, loan=loan)
    with pytest.raises(ValidationFailed) as exc:
        services.apply(
            pw.user("ent_user"),
            programme,
            {"period_start": "2026-06-30", "period_end": "2026-01-01"},
            loan=loan,
        )
    assert exc.value.errors[0].field == "period_end"
    with pytest.raises(ValidationFailed):
        services.apply(
            pw.user("ent_user"),
            programme,
            {"period_start": "2025-12-01", "period_end": "2026-01-31"},
            loan=loan,
        )


def test_budget_never_overrun_and_release_on_rejection(policy_world):
    pw = policy_world
    programme = make_programme(pw, appropriation=Decimal("50000"), requires_bank_confirmation=False)
    first = services.apply(
        pw.user("ent_user"), programme, {**PERIOD, "paid_cost": "90000"}, loan=make_loan(pw)
    )
    second = services.apply(
        pw.user("ent2_user"),
        programme,
        {**PERIOD, "paid_cost": "90000"},
        loan=make_loan(pw, pw.world.ent2, no="JS-2026-002"),
    )
    for app in (first, second):
        services.verify(pw.user("gov_jiashan"), app)
    services.approve(pw.user("fin_admin"), first)
    with pytest.raises(Conflict) as exc:
        services.approve(pw.user("fin_admin"), second)
    assert exc.value.code == "budget_exhausted"
    second.refresh_from_db()
    assert second.state == ApplicationState.VERIFIED
    first.refresh_from_db()
    services.reject(pw.user("fin_admin"), first, "材料不实")
    budget = BudgetYear.objects.get(programme=programme, year=2026)
    assert budget.committed == 0
    second.refresh_from_db()
    services.approve(pw.user("fin_admin"), second)


def test_objection_upheld_rejects_and_releases(policy_world):
    pw = policy_world
    programme = make_programme(pw, requires_bank_confirmation=False)
    app = services.apply(
        pw.user("ent_user"), programme, {**PERIOD, "paid_cost": "90000"}, loan=make_loan(pw)
    )
    services.verify(pw.user("gov_jiashan"), app)
    app = services.approve(pw.user("fin_admin"), app)
    with pytest.raises(ValidationFailed):
        services.raise_objection(app, {"name": "", "contact": "", "text": ""})
    objection = services.raise_objection(
        app, {"name": "张三", "contact": "13800000000", "text": "该企业贷款实为借新还旧"}
    )
    assert services.close_notices(today=date(2030, 1, 1)) == 0
    services.handle_objection(pw.user("gov_jiashan"), objection, "经核实属实", uphold=True)
    app.refresh_from_db()
    assert app.state == ApplicationState.REJECTED
    assert BudgetYear.objects.get(programme=programme, year=2026).committed == 0


def test_programme_validation_by_field(policy_world):
    pw = policy_world
    with pytest.raises(ValidationFailed) as exc:
        services.create_programme(
            pw.user("fin_admin"),
            {
                "kind": "interest",
                "name": "x",
                "basis": "y",
                "starts_on": "2026-12-31",
                "ends_on": "2026-01-01",
                "params": {"method": "fixed", "rate": "120", "cap_per_loan": "-1"},
                "eligibility": {"term_min_months": 12, "term_max_months": 6},
            },
        )
    fields = {e.field for e in exc.value.errors}
    assert {
        "ends_on",
        "params.rate",
        "params.cap_per_loan",
        "eligibility.term_max_months",
    } <= fields
    with pytest.raises(NotAllowed):
        services.create_programme(pw.user("bank_manager"), {"kind": "interest"})
