"""The loan book's pages as people use them: a bank's staff report on its
loan from the loan's page (errors beside the fields, nothing written), the
borrower and the agency read it, another bank gets 404; 风险监测 sums what
each one sees, with 不良率 as a ratio of balances."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from chanrong.risk.models import LoanAccount
from chanrong.risk.services import loanbook, monitoring, repayments

from .conftest import reported

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_bank_reports_from_the_loan_page(world):
    loan = reported(world)
    page = client_for(world.user("bank_staff"))
    url = f"/risk/loans/{loan.pk}/"
    shown = page.get(url)
    assert shown.status_code == 200 and 'data-testid="form-status"' in shown.text
    today = timezone.localdate().isoformat()
    refused = page.post(
        url + "status/", {"as_of": today, "classification": "substandard", "days_overdue": "95"}
    )
    assert refused.status_code == 422
    assert 'id="status-overdue_amount-error"' in refused.text
    loan.refresh_from_db()
    assert loan.classification == "normal"
    done = page.post(
        url + "status/",
        {
            "as_of": today,
            "classification": "substandard",
            "days_overdue": "95",
            "overdue_amount": "100000",
        },
    )
    assert done.status_code == 302
    loan.refresh_from_db()
    assert loan.classification == "substandard"
    assert "由关注下调" not in page.get(url).text and "由正常下调" in page.get(url).text
    too_much = page.post(url + "repayment/", {"paid_on": today, "principal": "9999999"})
    assert too_much.status_code == 422 and 'id="repayment-principal-error"' in too_much.text
    assert page.post(url + "nonsense/", {}).status_code == 404


def test_readers_see_but_do_not_report_and_other_banks_get_404(world):
    loan = reported(world)
    url = f"/risk/loans/{loan.pk}/"
    today = timezone.localdate().isoformat()
    for name in ("ent_user", "gov_jiashan"):
        page = client_for(world.user(name))
        shown = page.get(url)
        assert shown.status_code == 200 and 'data-testid="form-status"' not in shown.text
        assert (
            page.post(url + "status/", {"as_of": today, "classification": "loss"}).status_code
            == 403
        )
    for name in ("bank2_staff", "ent2_user", "gov_jiangsu"):
        page = client_for(world.user(name))
        assert page.get(url).status_code == 404
        assert (
            page.post(url + "status/", {"as_of": today, "classification": "loss"}).status_code
            == 404
        )
    assert LoanAccount.objects.get().classification == "normal"
    listed = client_for(world.user("bank2_staff")).get("/risk/loans/")
    assert listed.status_code == 200 and loan.reference not in listed.text
    assert (
        loan.reference
        in client_for(world.user("gov_jiashan")).get("/risk/loans/?classification=").text
    )


def test_monitoring_sums_balances_by_definition(world):
    staff = world.user("bank_staff")
    today = timezone.localdate()
    good = reported(world, contract_no="M-1", principal="3000000")
    bad = reported(world, contract_no="M-2", principal="1000000", uscc=world.ent2.uscc)
    done = reported(world, contract_no="M-3", principal="500000")
    repayments.record_repayment(staff, good, {"paid_on": today, "principal": "1000000"})
    loanbook.report_status(
        staff,
        bad,
        {
            "as_of": today,
            "classification": "doubtful",
            "days_overdue": 200,
            "overdue_amount": "1000000",
        },
    )
    repayments.record_repayment(
        staff, done, {"paid_on": today, "principal": "500000"}
    )  # settled: not exposure
    row = monitoring.summary(LoanAccount.objects.visible_to(world.user("gov_jiashan")))
    assert (row.loans, row.balance, row.non_performing) == (
        2,
        Decimal("3000000"),
        Decimal("1000000"),
    )
    assert row.npl_ratio == Decimal("33.33") and row.overdue == Decimal("1000000")
    by_bank = monitoring.breakdown(LoanAccount.objects.all(), "institution")
    assert [(r.label, r.balance) for r in by_bank] == [(world.bank.name, Decimal("3000000"))]
    top = monitoring.concentration(LoanAccount.objects.all(), n=1)
    assert top.share == Decimal("66.67") and top.top[0].label == world.ent.name
    assert (
        monitoring.summary(LoanAccount.objects.visible_to(world.user("gov_jiangsu"))).npl_ratio
        is None
    )
    page = client_for(world.user("gov_jiashan")).get("/risk/")
    assert page.status_code == 200 and "33.33%" in page.text
    assert client_for(world.user("ent_user")).get("/risk/").status_code == 302
