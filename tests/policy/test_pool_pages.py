"""The pool pages over HTTP: what the agency, a bank and an enterprise each
see, the actions each may take through the forms, refusals shown on the
page with nothing written, and 404 / 403 for what is not theirs.

Dates are relative to today (the pages count days outstanding up to today)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from chanrong.policy import services
from chanrong.policy.models import (
    BridgeDraw,
    BridgeState,
    ClaimState,
    LossClaim,
    Pool,
    PoolMovement,
)

from .conftest import make_loan
from .poolkit import BRIDGE_PARAMS, make_pool

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _period():
    today = timezone.localdate()
    return {
        "starts_on": str(today - timedelta(days=400)),
        "ends_on": str(today + timedelta(days=400)),
    }


def _loan(pw, no, *, matures_in: int, enterprise=None, confirmed=True, **fields):
    today = timezone.localdate()
    values = {
        "loan_date": today - timedelta(days=300),
        "maturity_date": today + timedelta(days=matures_in),
    }
    if confirmed:
        values["confirmed_at"] = timezone.now()
    values.update(fields)
    return make_loan(pw, enterprise, no=no, **values)


@pytest.fixture
def bridge_world(policy_world):
    """A fund of 3,000,000 with one draw overdue (drawn 38 days ago, 30 days
    allowed), one waiting for the bank's commitment and one approved."""
    pw = policy_world
    today = timezone.localdate()
    programme = make_pool(
        pw, "bridge", BRIDGE_PARAMS, "3000000", on=today - timedelta(days=60), **_period()
    )
    overdue_loan = _loan(pw, "OVERDUE", matures_in=-38)
    bank, admin = pw.user("bank_staff"), pw.user("fin_admin")
    overdue = services.request_draw(
        bank,
        programme,
        overdue_loan,
        {"amount": "1000000", "commitment_no": "XD-OLD"},
        today=today - timedelta(days=40),
    )
    overdue = services.approve_draw(admin, overdue)
    overdue = services.draw_funds(admin, overdue, today=today - timedelta(days=38))
    pending = services.request_draw(
        pw.user("ent_user"),
        programme,
        _loan(pw, "PENDING", matures_in=5),
        {"amount": "800000", "commitment_no": "XD-NEW"},
    )
    approved = services.request_draw(
        bank,
        programme,
        _loan(pw, "BIG", matures_in=10, enterprise=pw.world.ent2),
        {"amount": "2500000", "commitment_no": "XD-BIG"},
    )
    approved = services.approve_draw(admin, approved)
    return pw, programme, overdue, pending, approved


def test_agency_sees_its_pools_figures_movements_and_chart(bridge_world):
    pw, programme, overdue, pending, approved = bridge_world
    client = _client(pw.user("fin_staff"))
    index = client.get(reverse("policy:pools"))
    assert index.status_code == 200
    html = index.content.decode()
    row = re.search(rf'<tr data-pool="{programme.pk}"[^>]*>.*?</tr>', html, re.S).group(0)
    assert 'class="row--overdue"' in row and "1 笔逾期" in row
    assert '<td class="num" data-field="balance">200.00</td>' in row  # 万元

    page = client.get(reverse("policy:pool", args=[programme.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-field="balance">200.00<' in html
    assert 'data-field="outstanding">100.00<' in html
    assert "vendor/echarts/echarts.min.js" in html
    option = json.loads(
        re.search(
            r'<script id="pool-chart" type="application/json">(.*?)</script>', html, re.S
        ).group(1)
    )
    # the balance in 万元 at each day something moved, carried on to today
    points = option["series"][0]["data"]
    assert [point[1] for point in points] == [300.0, 200.0, 200.0]
    assert points[-1][0] == str(timezone.localdate())
    running = re.findall(r'data-field="running">([^<]+)<', html)
    assert running == ["3,000,000.00", "2,000,000.00"]
    draw_row = re.search(rf'<tr data-draw="{overdue.pk}"[^>]*>', html).group(0)
    assert 'class="row--overdue"' in draw_row and 'data-overdue="8"' in draw_row
    assert "逾期 8 天" in html
    assert 'data-field="commitment-pending"' in html  # the enterprise's request waits for its bank
    # staff see, only the agency's administrator acts
    assert 'data-testid="capital-form"' not in html
    admin_html = (
        _client(pw.user("fin_admin"))
        .get(reverse("policy:pool", args=[programme.pk]))
        .content.decode()
    )
    assert 'data-testid="capital-form"' in admin_html
    assert f'data-action="draw" data-draw="{approved.pk}"' in admin_html


def test_capital_through_the_form(bridge_world):
    pw, programme, *_ = bridge_world
    client = _client(pw.user("fin_admin"))
    url = reverse("policy:pool_capital", args=[programme.pk])
    count = PoolMovement.objects.count()
    page = client.post(url, {"amount": "12.345", "on": "", "note": ""})
    assert page.status_code == 200
    assert "最多保留两位小数" in page.content.decode()
    assert PoolMovement.objects.count() == count
    assert _client(pw.user("fin_staff")).post(url, {"amount": "100"}).status_code == 403
    assert _client(pw.user("ent_user")).post(url, {"amount": "100"}).status_code == 404
    assert PoolMovement.objects.count() == count
    page = client.post(url, {"amount": "500,000", "note": "追加注资"}, follow=True)
    assert "已注资" in page.content.decode()
    assert Pool.objects.get(programme=programme).capital == Decimal("3500000.00")


def test_draw_refused_on_the_page_when_the_pool_is_short(bridge_world):
    pw, programme, overdue, pending, approved = bridge_world
    client = _client(pw.user("fin_admin"))
    url = reverse("policy:pool_draw_action", args=[approved.pk, "draw"])
    page = client.post(url, {"drawn_on": ""}, follow=True)
    assert "资金池余额不足" in page.content.decode()
    approved.refresh_from_db()
    assert approved.state == BridgeState.APPROVED
    assert Pool.objects.get(programme=programme).outstanding == Decimal("1000000.00")


def test_enterprise_requests_and_the_bank_confirms_on_the_page(bridge_world):
    pw, programme, overdue, pending, approved = bridge_world
    ent = _client(pw.user("ent_user"))
    home = ent.get(reverse("policy:pools")).content.decode()
    assert f'data-draw="{overdue.pk}"' in home and f'data-draw="{pending.pk}"' in home
    assert f'data-draw="{approved.pk}"' not in home  # another enterprise's
    assert "逾期 8 天" in home
    url = reverse("policy:pool_draw_new", args=[programme.pk])
    form = ent.get(url)
    assert form.status_code == 200
    loan = _loan(pw, "SOON", matures_in=7)
    count = BridgeDraw.objects.count()
    page = ent.post(url, {"loan": loan.pk, "amount": "6000000", "commitment_no": "XD-9"})
    assert page.status_code == 200 and "不能超过到期贷款金额" in page.content.decode()
    page = ent.post(url, {"loan": 999999, "amount": "100", "commitment_no": "XD-9"})
    assert page.status_code == 200 and BridgeDraw.objects.count() == count
    page = ent.post(url, {"loan": loan.pk, "amount": "300000", "commitment_no": "XD-9"})
    assert page.status_code == 302
    draw = BridgeDraw.objects.get(loan=loan)
    assert page["Location"] == reverse("policy:pool_draw", args=[draw.pk])

    bank = _client(pw.user("bank_staff"))
    bank_home = bank.get(reverse("policy:pools")).content.decode()
    assert f'data-action="confirm-commitment" data-draw="{draw.pk}"' in bank_home
    assert (
        _client(pw.user("bank2_staff")).get(reverse("policy:pool_draw", args=[draw.pk])).status_code
        == 404
    )
    page = bank.post(reverse("policy:pool_draw_action", args=[draw.pk, "confirm"]), follow=True)
    assert "已确认续贷承诺" in page.content.decode()
    draw.refresh_from_db()
    assert draw.commitment_confirmed_at is not None
    # The bank may not approve; the agency does.
    assert (
        bank.post(reverse("policy:pool_draw_action", args=[draw.pk, "approve"])).status_code == 403
    )
    admin = _client(pw.user("fin_admin"))
    admin.post(reverse("policy:pool_draw_action", args=[draw.pk, "approve"]))
    draw.refresh_from_db()
    assert draw.state == BridgeState.APPROVED


def test_agency_repays_with_the_renewed_loan(bridge_world):
    pw, programme, overdue, *_ = bridge_world
    admin = _client(pw.user("fin_admin"))
    url = reverse("policy:pool_draw_action", args=[overdue.pk, "repay"])
    page = admin.post(url, {"renewed_loan": "", "repaid_on": ""})
    assert page.status_code == 200 and 'data-testid="repay-form"' in page.content.decode()
    early = _loan(pw, "EARLY", matures_in=300, loan_date=overdue.drawn_on - timedelta(days=1))
    page = admin.post(url, {"renewed_loan": early.pk, "repaid_on": ""})
    assert "续贷放款日期不能早于转贷出款日" in page.content.decode()
    overdue.refresh_from_db()
    assert overdue.state == BridgeState.DRAWN
    renewed = _loan(pw, "RENEWED", matures_in=330, loan_date=timezone.localdate())
    page = admin.post(url, {"renewed_loan": renewed.pk, "repaid_on": ""}, follow=True)
    html = page.content.decode()
    assert "已登记归还" in html
    # 1,000,000 × 0.015 % × 38 days = 5,700.00, 8 days overdue
    assert 'data-field="fee">5,700.00' in html
    assert 'data-testid="fee-calculation"' in html and "超过最长占用天数 30 天，逾期 8 天" in html


def test_reject_and_withdraw_forms(bridge_world):
    pw, programme, overdue, pending, approved = bridge_world
    admin = _client(pw.user("fin_admin"))
    url = reverse("policy:pool_draw_action", args=[approved.pk, "reject"])
    page = admin.post(url, {"reason": ""})
    assert page.status_code == 200 and 'data-testid="reject-form"' in page.content.decode()
    admin.post(url, {"reason": "续贷承诺书与贷款合同不符"})
    approved.refresh_from_db()
    assert (approved.state, approved.reason) == (BridgeState.REJECTED, "续贷承诺书与贷款合同不符")
    ent = _client(pw.user("ent_user"))
    assert (
        ent.post(reverse("policy:pool_draw_action", args=[pending.pk, "nonsense"])).status_code
        == 404
    )
    ent.post(reverse("policy:pool_draw_action", args=[pending.pk, "withdraw"]), {"reason": ""})
    pending.refresh_from_db()
    assert pending.state == BridgeState.WITHDRAWN


def test_pages_closed_to_others(bridge_world):
    pw, programme, overdue, *_ = bridge_world
    pool_url = reverse("policy:pool", args=[programme.pk])
    for name in ("ent_user", "bank_staff", "gov_jiangsu"):
        assert _client(pw.user(name)).get(pool_url).status_code == 404
    assert (
        _client(pw.user("ent2_user"))
        .get(reverse("policy:pool_draw", args=[overdue.pk]))
        .status_code
        == 404
    )
    assert Client().get(reverse("policy:pools")).status_code == 302  # to the login page


@pytest.fixture
def risk_world(policy_world):
    pw = policy_world
    programme = make_pool(
        pw, "risk_pool", {"share": "40", "cap_per_loan": "300000"}, "2000000", **_period()
    )
    return pw, programme


def test_risk_pool_through_the_pages(risk_world):
    pw, programme = risk_world
    bank = _client(pw.user("bank_staff"))
    home = bank.get(reverse("policy:pools")).content.decode()
    register_url = reverse("policy:pool_register", args=[programme.pk])
    assert register_url in home
    loan = _loan(pw, "RISK-1", matures_in=200)
    assert bank.get(register_url).status_code == 200
    page = bank.post(register_url, {"loan": loan.pk})
    assert page.status_code == 302
    registration = programme.registrations.get()
    page = bank.post(register_url, {"loan": loan.pk})  # no longer offered: a field error
    assert page.status_code == 200 and programme.registrations.count() == 1

    claim_url = reverse("policy:pool_claim_new", args=[registration.pk])
    assert _client(pw.user("bank2_staff")).get(claim_url).status_code == 404
    assert _client(pw.user("ent_user")).get(claim_url).status_code == 403
    page = bank.post(claim_url, {"loss": "-1"})
    assert page.status_code == 200 and LossClaim.objects.count() == 0
    page = bank.post(claim_url, {"loss": "123456.78"})
    claim = LossClaim.objects.get()
    assert page["Location"] == reverse("policy:pool_claim", args=[claim.pk])
    detail = bank.get(page["Location"]).content.decode()
    assert 'data-testid="compensation-calculation"' in detail
    assert 'data-testid="pay-form"' not in detail  # the bank does not pay

    admin = _client(pw.user("fin_admin"))
    pool_html = admin.get(reverse("policy:pool", args=[programme.pk])).content.decode()
    assert (
        f'data-claim="{claim.pk}"' in pool_html
        and f'data-registration="{registration.pk}"' in pool_html
    )
    page = admin.post(
        reverse("policy:pool_claim_action", args=[claim.pk, "pay"]), {"paid_on": ""}, follow=True
    )
    html = page.content.decode()
    # 123,456.78 × 40 % = 49,382.712 → 49,382.71
    assert "已代偿 49,382.71 元" in html
    assert 'data-field="compensation">49,382.71' in html
    assert '<td class="num">49,382.7120</td>' in html  # the exact step, grouped
    claim.refresh_from_db()
    assert claim.state == ClaimState.PAID

    recover_url = reverse("policy:pool_claim_action", args=[claim.pk, "recover"])
    assert admin.post(recover_url, {"amount": "100"}).status_code == 403
    page = bank.post(recover_url, {"amount": "200000", "on": ""})
    assert page.status_code == 200 and "不能超过损失金额" in page.content.decode()
    page = bank.post(recover_url, {"amount": "10000", "on": ""}, follow=True)
    html = page.content.decode()
    # 10,000 × 49,382.71 ÷ 123,456.78 = 3,999.9999… → 4,000.00
    assert 'data-field="returned">4,000.00' in html
    assert 'data-testid="recovery-calculation"' in html
    assert "3999.9999" not in html  # long exact values are shown to four decimals
    assert Pool.objects.get(programme=programme).balance == Decimal("1954617.29")
    movements = admin.get(reverse("policy:pool", args=[programme.pk])).content.decode()
    assert re.findall(r'data-field="running">([^<]+)<', movements) == [
        "2,000,000.00",
        "1,950,617.29",
        "1,954,617.29",
    ]
