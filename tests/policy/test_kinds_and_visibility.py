"""The other application kinds, 免申即享 confirmation, withdrawal, and who sees what."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from chanrong.core.errors import Conflict, NotAllowed, ValidationFailed
from chanrong.policy import services
from chanrong.policy.models import (
    Application,
    ApplicationState,
    BudgetYear,
    EnterpriseYear,
    Programme,
)

from .conftest import make_loan, make_programme

pytestmark = pytest.mark.django_db

AWARDS = {
    "items": [
        {"code": "neeq", "label": "新三板挂牌", "amount": "300000"},
        {
            "code": "first_loan",
            "label": "首贷奖励",
            "recipient": "institution",
            "rate": "0.5",
            "cap": "20000",
        },
    ],
    "cap_per_enterprise_year": "400000",
}


def test_guarantee_fee_subsidy_on_a_guaranteed_loan(policy_world):
    pw = policy_world
    programme = make_programme(
        pw,
        "guarantee_fee",
        {"method": "share", "share": "50", "fee_rate_ceiling": "1"},
        name="担保费补贴",
        requires_bank_confirmation=False,
    )
    cheap = make_loan(pw, guarantee_fee_rate=Decimal("0.8"))
    app = services.apply(
        pw.user("ent_user"),
        programme,
        {"period_start": "2026-01-10", "period_end": "2026-11-30", "paid_cost": "32000"},
        loan=cheap,
    )
    assert app.amount == Decimal("16000.00")
    dear = make_loan(pw, no="JS-2026-009", guarantee_fee_rate=Decimal("1.5"))
    with pytest.raises(ValidationFailed) as exc:
        services.apply(
            pw.user("ent_user"),
            programme,
            {"period_start": "2026-01-10", "period_end": "2026-11-30", "paid_cost": "1"},
            loan=dear,
        )
    assert "高于政策上限" in exc.value.errors[0].message


def test_awards_to_an_enterprise_and_to_a_bank(policy_world):
    pw = policy_world
    programme = make_programme(
        pw, "award", AWARDS, name="上市挂牌与首贷奖励", requires_bank_confirmation=False
    )
    app = services.apply(pw.user("ent_user"), programme, {"award_item": "neeq"}, loan=None)
    assert app.amount == Decimal("300000.00") and app.loan is None
    with pytest.raises(Conflict):
        services.apply(pw.user("ent_user"), programme, {"award_item": "neeq"}, loan=None)
    with pytest.raises(ValidationFailed):
        services.apply(
            pw.user("ent_user"), programme, {"award_item": "first_loan"}, loan=make_loan(pw)
        )
    bank_award = services.apply(
        pw.user("bank_staff"),
        programme,
        {"award_item": "first_loan"},
        loan=make_loan(pw, no="JS-2026-010"),
    )
    # 5,000,000 × 0.5 % = 25,000, capped at 20,000
    assert (
        bank_award.amount == Decimal("20000.00") and bank_award.institution_id == pw.world.bank.pk
    )
    with pytest.raises(NotAllowed):
        services.apply(
            pw.user("bank2_staff"),
            programme,
            {"award_item": "first_loan"},
            loan=make_loan(pw, no="X-1"),
        )


def test_proposed_application_is_confirmed_by_the_enterprise(policy_world):
    pw = policy_world
    programme = make_programme(pw)
    loan = make_loan(pw)
    app = Application.objects.create(
        programme=programme,
        enterprise=pw.world.ent,
        institution=pw.world.bank,
        loan=loan,
        year=2026,
        period_start=date(2026, 1, 10),
        period_end=date(2026, 6, 30),
        state=ApplicationState.PROPOSED,
        auto_built=True,
    )
    with pytest.raises(NotAllowed):
        services.confirm(pw.user("ent2_user"), app)
    app = services.confirm(pw.user("ent_user"), app)
    assert app.state == ApplicationState.BANK_PENDING


def test_withdrawal_during_notice_releases_the_commitment(policy_world):
    pw = policy_world
    programme = make_programme(pw, requires_bank_confirmation=False)
    app = services.apply(
        pw.user("ent_user"),
        programme,
        {"period_start": "2026-01-10", "period_end": "2026-06-30", "paid_cost": "90000"},
        loan=make_loan(pw),
    )
    services.verify(pw.user("gov_jiashan"), app)
    app = services.approve(pw.user("fin_admin"), app)
    with pytest.raises(ValidationFailed):
        services.withdraw(pw.user("ent_user"), app, "")
    with pytest.raises(NotAllowed):
        services.withdraw(pw.user("ent2_user"), app, "不想要了")
    services.withdraw(pw.user("ent_user"), app, "企业已获其他支持")
    assert BudgetYear.objects.get(programme=programme, year=2026).committed == 0
    assert EnterpriseYear.objects.get(programme=programme, enterprise=pw.world.ent).committed == 0
    # A withdrawn application frees the loan and period for a new one.
    again = services.apply(
        pw.user("ent_user"),
        programme,
        {"period_start": "2026-01-10", "period_end": "2026-06-30", "paid_cost": "90000"},
        loan=app.loan,
    )
    assert again.state == ApplicationState.SUBMITTED


def test_enterprise_annual_cap_holds_across_loans(policy_world):
    pw = policy_world
    params = {"method": "fixed", "rate": "2", "cap_per_enterprise_year": "50000"}
    programme = make_programme(pw, params=params, requires_bank_confirmation=False)
    period = {"period_start": "2026-01-10", "period_end": "2026-11-30", "paid_cost": "999999"}
    first = services.apply(pw.user("ent_user"), programme, period, loan=make_loan(pw))
    second = services.apply(
        pw.user("ent_user"), programme, period, loan=make_loan(pw, no="JS-2026-002")
    )
    for app in (first, second):
        services.verify(pw.user("gov_jiashan"), app)
    first = services.approve(pw.user("fin_admin"), first)
    assert first.amount == Decimal("50000.00")
    with pytest.raises(Conflict) as exc:
        services.approve(pw.user("fin_admin"), second)
    assert exc.value.code == "cap_reached"


def test_visibility(policy_world):
    pw = policy_world
    draft = make_programme(pw, publish=False, name="草稿政策")
    live = make_programme(pw, name="已发布政策")
    app = services.apply(
        pw.user("ent_user"),
        live,
        {"period_start": "2026-01-10", "period_end": "2026-06-30"},
        loan=make_loan(pw),
    )

    def seen(name):
        return set(Programme.objects.visible_to(pw.user(name)).values_list("pk", flat=True))  # noqa: E731

    assert seen("ent_user") == {live.pk}
    assert seen("gov_jiashan") == {draft.pk, live.pk}
    assert seen("gov_jiangsu") == {live.pk}

    def apps(name):
        return set(Application.objects.visible_to(pw.user(name)).values_list("pk", flat=True))  # noqa: E731

    assert apps("ent_user") == {app.pk}
    assert apps("ent2_user") == set()
    assert apps("bank_staff") == {app.pk}
    assert apps("bank2_staff") == set()
    assert apps("fin_staff") == {app.pk}
    assert apps("gov_jiangsu") == set()


def test_published_programme_parameters_are_frozen_and_budget_kept(policy_world):
    pw = policy_world
    programme = make_programme(pw, requires_bank_confirmation=False)
    with pytest.raises(Conflict):
        services.update_programme(pw.user("fin_admin"), programme, {"name": "改名"})
    with pytest.raises(ValidationFailed):
        services.set_appropriation(pw.user("fin_admin"), programme, 2026, Decimal("-1"))
    app = services.apply(
        pw.user("ent_user"),
        programme,
        {"period_start": "2026-01-10", "period_end": "2026-06-30", "paid_cost": "90000"},
        loan=make_loan(pw),
    )
    services.verify(pw.user("gov_jiashan"), app)
    app = services.approve(pw.user("fin_admin"), app)
    with pytest.raises(Conflict):
        services.set_appropriation(pw.user("fin_admin"), programme, 2026, app.amount - 1)
    services.set_appropriation(pw.user("fin_admin"), programme, 2026, app.amount)


def test_a_built_application_goes_to_the_bank_even_when_the_programme_skips_it(policy_world):
    pw = policy_world
    programme = make_programme(pw, requires_bank_confirmation=False)
    app = Application.objects.create(
        programme=programme,
        enterprise=pw.world.ent,
        institution=pw.world.bank,
        loan=make_loan(pw),
        year=2026,
        period_start=date(2026, 1, 10),
        period_end=date(2026, 6, 30),
        state=ApplicationState.PROPOSED,
        auto_built=True,
    )
    app = services.confirm(pw.user("ent_user"), app)
    assert app.state == ApplicationState.BANK_PENDING


def test_the_five_project_classes_are_the_registrys():
    from chanrong.policy.rules import PROJECT_CLASS_LABELS
    from chanrong.registry.models import ProjectClass

    assert set(PROJECT_CLASS_LABELS) == set(ProjectClass.values)


def test_a_programme_is_for_its_own_region_by_default(policy_world):

    pw = policy_world
    programme = make_programme(pw)  # eligibility names no region
    outsider = services.evaluate(programme, pw.world.ent_js)
    assert not outsider.eligible
    assert any("嘉善" in m for m in outsider.messages)
    assert services.evaluate(programme, pw.world.ent).eligible
