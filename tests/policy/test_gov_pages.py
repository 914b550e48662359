"""The government pages of the policy app through Django's test client:
programme management (create → appropriation → publish through the forms,
field errors by field), the review list and the application page's buttons
(初审, 复核, 公示期满, 拨付, 驳回, 异议处理, 银行确认, 撤回), the budget
ledger and its Excel export — and what each role may see (404 otherwise)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from chanrong.core.models import AuditEntry
from chanrong.policy import services
from chanrong.policy.models import (
    ApplicationState,
    BudgetYear,
    LedgerEntry,
    Programme,
    ProgrammeState,
)

from .conftest import make_loan, make_programme

pytestmark = pytest.mark.django_db

FIXED = {"method": "fixed", "rate": "1.5", "day_count": "act360", "cap_per_loan": "200000"}
PERIOD = {"period_start": "2026-01-10", "period_end": "2026-06-30", "paid_cost": "90000"}
CREATE = {
    "kind": "interest",
    "name": "嘉善县制造业贷款贴息（2026）",
    "basis": "善财企〔2026〕7号",
    "starts_on": "2026-01-01",
    "ends_on": "2026-12-31",
    "notice_days": "5",
    "requires_bank_confirmation": "on",
    "summary": "对制造业企业新增贷款按固定利率贴息",
    "params-method": "fixed",
    "params-rate": "1.5",
    "params-lpr_tenor": "1y",
    "params-day_count": "act360",
    "params-cap_per_loan": "200000",
    "params-cap_per_enterprise_year": "500000",
    "eligibility-regions": "330421",
    "eligibility-sizes": ["small", "medium"],
    "eligibility-exclude_blacklisted": "on",
    "eligibility-loan_kinds": ["debt"],
    "eligibility-term_min_months": "6",
    "eligibility-term_max_months": "36",
}


@pytest.fixture
def client_for(policy_world):
    def make(username: str) -> Client:
        client = Client()
        client.force_login(policy_world.user(username))
        return client

    return make


def html(response) -> str:
    return response.content.decode()


def field_error(page: str, field_id: str) -> str:
    """The text of the error shown beside the control `field_id` ("" if none)."""
    match = re.search(rf'id="{re.escape(field_id)}_error">(.*?)</div>', page, re.S)
    return re.sub(r"<[^>]+>", "", match.group(1)).strip() if match else ""


def messages_of(page: str) -> str:
    match = re.search(r'<ul class="messages"[^>]*>(.*?)</ul>', page, re.S)
    return re.sub(r"<[^>]+>", " ", match.group(1)) if match else ""


def submitted_application(pw, programme=None, *, no="JS-2026-001", **loan_fields):
    programme = programme or make_programme(pw, params=FIXED, requires_bank_confirmation=False)
    loan = make_loan(pw, no=no, **loan_fields)
    return services.apply(pw.user("ent_user"), programme, PERIOD, loan=loan)


# --- who sees what ------------------------------------------------------------------------------


def test_management_pages_for_officials_of_the_region_only(policy_world, client_for):
    pw = policy_world
    programme = make_programme(pw, params=FIXED, publish=False)
    pages = [
        reverse("policy:gov_programmes"),
        reverse("policy:gov_programme", args=[programme.pk]),
        reverse("policy:gov_ledger", args=[programme.pk]),
        reverse("policy:gov_applications"),
    ]
    for username in ("fin_admin", "fin_staff", "gov_jiashan", "gov_zhejiang", "admin"):
        client = client_for(username)
        for url in pages:
            assert client.get(url).status_code == 200, (username, url)
    listing = html(client_for("fin_staff").get(pages[0]))
    assert programme.name in listing
    # Staff see the programme but may not create one; the admin may.
    assert 'data-action="new-programme"' not in listing
    assert 'data-action="new-programme"' in html(client_for("fin_admin").get(pages[0]))
    assert client_for("fin_staff").get(reverse("policy:gov_programme_new")).status_code == 403
    assert (
        client_for("fin_staff")
        .get(reverse("policy:gov_programme_edit", args=[programme.pk]))
        .status_code
        == 403
    )
    # Outside the region subtree, or not government: 404.
    for username in ("gov_jiangsu",):
        client = client_for(username)
        assert programme.name not in html(client.get(pages[0]))
        for url in pages[1:3]:
            assert client.get(url).status_code == 404, (username, url)
    for username in ("ent_user", "bank_staff"):
        client = client_for(username)
        for url in pages:
            assert client.get(url).status_code == 404, (username, url)


def test_application_page_for_applicant_lender_and_reviewers_404_for_others(
    policy_world, client_for
):
    pw = policy_world
    app = submitted_application(pw)
    url = reverse("policy:application", args=[app.pk])
    for username in ("ent_user", "bank_staff", "fin_admin", "gov_jiashan", "admin"):
        assert client_for(username).get(url).status_code == 200, username
    for username in ("ent2_user", "bank2_staff", "gov_jiangsu"):
        assert client_for(username).get(url).status_code == 404, username
    assert Client().get(url).status_code == 302  # to the login page
    page = html(client_for("fin_admin").get(url))
    assert pw.world.ent.name in page
    assert "JS-2026-001" in page  # the loan
    assert "2026-01-10 — 2026-06-30" in page  # the claimed period
    assert 'data-testid="calculation"' in page
    for line in app.calculation["lines"]:
        assert line["label"] in page
    # The applicant and the bank see no review buttons; 初审 is for officials.
    assert 'data-action="verify"' in page
    assert 'data-action="verify"' not in html(client_for("ent_user").get(url))
    assert 'data-action="withdraw"' in html(client_for("ent_user").get(url))
    assert 'data-action="verify"' not in html(client_for("bank_staff").get(url))


# --- programme management through the forms -------------------------------------------------------


def test_create_set_appropriation_and_publish_through_the_forms(policy_world, client_for):
    client = client_for("fin_admin")
    new = reverse("policy:gov_programme_new")
    assert 'name="params-rate"' in html(client.get(f"{new}?kind=interest"))
    response = client.post(f"{new}?kind=interest", CREATE)
    programme = Programme.objects.get(name=CREATE["name"])
    detail = reverse("policy:gov_programme", args=[programme.pk])
    assert response.status_code == 302 and response["Location"] == detail
    assert programme.state == ProgrammeState.DRAFT
    assert programme.agency == policy_world.finance_bureau
    assert programme.params["rate"] == "1.5"
    assert programme.params["cap_per_enterprise_year"] == "500000"
    assert programme.eligibility["sizes"] == ["small", "medium"]
    assert programme.eligibility["regions"] == ["330421"]
    assert programme.eligibility["term_max_months"] == "36"
    page = html(client.get(detail))
    assert "小型、中型企业" in page  # the conditions in plain Chinese (rules.describe)

    # Publishing before any appropriation: a 409, shown as a message on the page.
    response = client.post(
        reverse("policy:gov_programme_action", args=[programme.pk, "publish"]), follow=True
    )
    assert response.status_code == 200
    assert "请先安排年度预算" in messages_of(html(response))
    programme.refresh_from_db()
    assert programme.state == ProgrammeState.DRAFT

    budget = reverse("policy:gov_programme_budget", args=[programme.pk])
    response = client.post(budget, {"year": "2026", "appropriation": "3000000"})
    assert response.status_code == 302
    assert BudgetYear.objects.get(programme=programme, year=2026).appropriation == 3000000
    # A year outside the programme's period, a negative amount: errors by field.
    page = html(client.post(budget, {"year": "2030", "appropriation": "100"}))
    assert "年度不在政策期内" in field_error(page, "id_year")
    page = html(client.post(budget, {"year": "2026", "appropriation": "-5"}))
    assert "不能为负数" in field_error(page, "id_appropriation")
    assert BudgetYear.objects.get(programme=programme, year=2026).appropriation == 3000000

    # Edit the draft: the kind is fixed, the values come back in the form.
    edit = reverse("policy:gov_programme_edit", args=[programme.pk])
    form = html(client.get(edit))
    assert 'name="kind"' not in form
    assert 'value="500000"' in form
    changed = {k: v for k, v in CREATE.items() if k != "kind"} | {"params-rate": "2"}
    assert client.post(edit, changed).status_code == 302
    programme.refresh_from_db()
    assert programme.params["rate"] == "2"

    response = client.post(
        reverse("policy:gov_programme_action", args=[programme.pk, "publish"]), follow=True
    )
    assert "政策已发布" in messages_of(html(response))
    programme.refresh_from_db()
    assert programme.state == ProgrammeState.PUBLISHED
    # Published: no more editing; closing is the next button.
    assert client.get(edit).status_code == 302
    assert 'data-action="close"' in html(client.get(detail))
    assert 'data-action="edit-programme"' not in html(client.get(detail))
    client.post(reverse("policy:gov_programme_action", args=[programme.pk, "close"]))
    programme.refresh_from_db()
    assert programme.state == ProgrammeState.CLOSED


@pytest.mark.parametrize(
    ("changes", "field_id", "message"),
    [
        ({"params-cap_per_loan": "-100"}, "id_params-cap_per_loan", "不能为负数"),
        ({"params-rate": "120"}, "id_params-rate", "不能超过 100%"),
        ({"params-rate": "abc"}, "id_params-rate", "应为数字"),
        (
            {"starts_on": "2026-12-31", "ends_on": "2026-01-01"},
            "id_ends_on",
            "结束日期早于开始日期",
        ),
        ({"ends_on": "2026-02-30"}, "id_ends_on", "日期格式"),
        ({"name": ""}, "id_name", "必填"),
        (
            {"eligibility-term_min_months": "24", "eligibility-term_max_months": "12"},
            "id_eligibility-term_max_months",
            "最长期限不能短于最短期限",
        ),
        (
            {"eligibility-loan_date_from": "2026-06-01", "eligibility-loan_date_to": "2026-01-01"},
            "id_eligibility-loan_date_to",
            "结束早于开始",
        ),
        ({"eligibility-regions": "999999"}, "id_eligibility-regions", "不在您的管辖范围内"),
        ({"eligibility-regions": "330400"}, "id_eligibility-regions", "不在您的管辖范围内"),
        ({"eligibility-regions": "嘉善"}, "id_eligibility-regions", "请从列表中选择地区"),
        ({"eligibility-amount_min": "NaN"}, "id_eligibility-amount_min", "应为数字"),
        (
            {"params-cap_per_enterprise_year": "Infinity"},
            "id_params-cap_per_enterprise_year",
            "应为数字",
        ),
        ({"notice_days": "90"}, "id_notice_days", "公示期"),
    ],
)
def test_bad_input_shows_the_error_beside_the_field_and_writes_nothing(
    policy_world, client_for, changes, field_id, message
):
    client = client_for("fin_admin")
    response = client.post(f"{reverse('policy:gov_programme_new')}?kind=interest", CREATE | changes)
    assert response.status_code == 200
    page = html(response)
    assert message in field_error(page, field_id)
    assert 'id="form-errors"' in page
    assert not Programme.objects.exists()


def test_the_region_picker_takes_several_regions_of_the_agency(policy_world, client_for):
    client = client_for("fin_admin")
    new = f"{reverse('policy:gov_programme_new')}?kind=interest"
    assert 'data-picker="regions"' in html(client.get(new))
    # Chips post one hidden input each; the plain input takes keys separated by 、 too.
    response = client.post(new, CREATE | {"eligibility-regions": ["330421", "330421、330421"]})
    assert response.status_code == 302
    programme = Programme.objects.get(name=CREATE["name"])
    assert programme.eligibility["regions"] == ["330421"]
    edit = html(client.get(reverse("policy:gov_programme_edit", args=[programme.pk])))
    assert "嘉善县" in edit  # the picked region shown by name


def test_every_kind_has_its_own_parameter_fields(policy_world, client_for):
    client = client_for("fin_admin")
    params = reverse("policy:gov_programme_params")
    expected = {
        "interest": ["params-method", "params-lpr_share", "params-floor", "params-principal_cap"],
        "guarantee_fee": ["params-fee_rate_ceiling", "params-points", "params-share"],
        "bridge": ["params-daily_fee_rate", "params-max_days", "params-max_amount"],
        "risk_pool": ["params-share", "params-cap_per_loan"],
        "award": ["items-0-code", "items-0-amount", "items-0-rate", "items-TOTAL_FORMS"],
    }
    for kind, names in expected.items():
        page = html(client.get(f"{params}?kind={kind}"))
        assert f'data-kind="{kind}"' in page
        for name in names:
            assert f'name="{name}"' in page, (kind, name)
    assert 'name="params-rate"' not in html(client.get(f"{params}?kind=bridge"))


def test_a_bridge_fund_with_bad_parameters(policy_world, client_for):
    client = client_for("fin_admin")
    data = {k: v for k, v in CREATE.items() if not k.startswith("params-")} | {
        "kind": "bridge",
        "name": "转贷应急资金",
        "params-daily_fee_rate": "2",
        "params-max_days": "120",
    }
    page = html(client.post(f"{reverse('policy:gov_programme_new')}?kind=bridge", data))
    assert "不能超过 1%" in field_error(page, "id_params-daily_fee_rate")
    assert "90 天" in field_error(page, "id_params-max_days")
    assert not Programme.objects.exists()


def test_award_table_rows_added_by_the_clerk_and_errors_by_row(policy_world, client_for):
    client = client_for("fin_admin")
    url = f"{reverse('policy:gov_programme_new')}?kind=award"
    base = {k: v for k, v in CREATE.items() if not k.startswith("params-")} | {
        "kind": "award",
        "name": "上市挂牌奖励",
        "items-TOTAL_FORMS": "1",
        "items-INITIAL_FORMS": "0",
        "items-0-code": "neeq",
        "items-0-label": "新三板挂牌",
        "items-0-recipient": "enterprise",
        "items-0-amount": "300000",
    }
    # "添加奖励事项": one more row, nothing saved.
    page = html(client.post(url, base | {"add_item": "1"}))
    assert 'name="items-1-code"' in page
    assert 'name="items-TOTAL_FORMS" value="2"' in page
    assert not Programme.objects.exists()
    # A duplicate code and a row with both a sum and a rate: errors on those rows.
    rows = base | {
        "items-TOTAL_FORMS": "3",
        "items-1-code": "neeq",
        "items-1-label": "重复",
        "items-1-amount": "1",
        "items-2-code": "first_loan",
        "items-2-label": "首贷奖励",
        "items-2-recipient": "institution",
        "items-2-amount": "100",
        "items-2-rate": "0.5",
    }
    page = html(client.post(url, rows))
    assert "重复" in field_error(page, "id_items-1-code")
    assert "只能填一项" in field_error(page, "id_items-2-rate")
    assert not Programme.objects.exists()
    # A blank row is left out; a deleted row too.
    good = base | {
        "items-TOTAL_FORMS": "3",
        "items-1-code": "first_loan",
        "items-1-label": "首贷奖励",
        "items-1-recipient": "institution",
        "items-1-rate": "0.5",
        "items-1-cap": "20000",
        "items-2-code": "gone",
        "items-2-label": "删掉的",
        "items-2-amount": "5",
        "items-2-DELETE": "on",
    }
    assert client.post(url, good).status_code == 302
    programme = Programme.objects.get(name="上市挂牌奖励")
    assert [i["code"] for i in programme.params["items"]] == ["neeq", "first_loan"]
    assert programme.params["items"][1]["recipient"] == "institution"
    page = html(client.get(reverse("policy:gov_programme_edit", args=[programme.pk])))
    assert 'name="items-1-code"' in page and 'value="first_loan"' in page


def test_a_national_agency_cannot_create_and_sees_why(policy_world, client_for):
    # 工信部 has no region: the service refuses; the form says so instead of a 500.
    client = client_for("gov_national")
    response = client.post(f"{reverse('policy:gov_programme_new')}?kind=interest", CREATE)
    assert response.status_code == 200
    assert "国家级部门" in html(response)
    assert not Programme.objects.exists()


# --- review through the buttons ---------------------------------------------------------------


def act(client, app, action, data=None, *, follow=True):
    return client.post(
        reverse("policy:application_action", args=[app.pk, action]), data or {}, follow=follow
    )


def test_review_path_through_the_buttons(policy_world, client_for):
    pw = policy_world
    app = submitted_application(pw)
    url = reverse("policy:application", args=[app.pk])
    jingxin, fin_admin, fin_staff = (
        client_for("gov_jiashan"),
        client_for("fin_admin"),
        client_for("fin_staff"),
    )
    # 经信 does the 初审 and then has no 复核 button (财政 only); 财政 does.
    assert "初审通过" in messages_of(html(act(jingxin, app, "verify")))
    app.refresh_from_db()
    assert app.state == ApplicationState.VERIFIED and app.verified_by == pw.user("gov_jiashan")
    assert 'data-action="approve"' not in html(jingxin.get(url))
    assert 'data-action="approve"' in html(fin_admin.get(url))
    assert act(jingxin, app, "approve", follow=False).status_code == 403
    page = html(act(fin_admin, app, "approve"))
    assert "进入公示" in messages_of(page)
    app.refresh_from_db()
    assert app.state == ApplicationState.NOTICE
    assert "公示中" in page
    budget = BudgetYear.objects.get(programme=app.programme, year=2026)
    assert budget.committed == app.amount > 0

    # An objection during the 公示 blocks 公示期满 until it is handled.
    services.raise_objection(app, {"name": "张三", "contact": "138", "text": "该企业不符合条件"})
    page = html(fin_staff.get(url))
    assert "张*" in page and "张三" not in page and 'data-testid="objection-form"' in page
    assert "张三" not in html(
        client_for("ent_user").get(url)
    )  # the objector's details: officials only
    objection = app.objections.get()
    handle = reverse("policy:objection_handle", args=[objection.pk])
    prefix = f"obj{objection.pk}"
    page = html(fin_staff.post(handle, {f"{prefix}-decision": "dismiss"}))
    assert "请填写处理意见" in field_error(page, f"id_{prefix}-resolution")
    response = fin_staff.post(
        handle,
        {f"{prefix}-decision": "dismiss", f"{prefix}-resolution": "经核实符合条件"},
        follow=True,
    )
    assert "异议不成立" in messages_of(html(response))
    objection.refresh_from_db()
    assert objection.handled_by == pw.user("fin_staff")
    # 公示期满 before the end of the notice: a message, nothing changes.
    page = html(act(fin_admin, app, "conclude"))
    assert "期满后方可办理" in messages_of(page)
    app.refresh_from_db()
    assert app.state == ApplicationState.NOTICE

    services.close_notices(today=app.notice_ends_on + timedelta(days=1))
    app.refresh_from_db()
    assert app.state == ApplicationState.APPROVED
    # 拨付 without a voucher number: the error beside the field, nothing paid.
    page = html(act(fin_staff, app, "pay", {"voucher_no": "", "paid_on": ""}))
    assert "请填写拨付凭证号" in field_error(page, "id_voucher_no")
    app.refresh_from_db()
    assert app.state == ApplicationState.APPROVED
    page = html(act(fin_staff, app, "pay", {"voucher_no": "GK-2026-0088", "paid_on": "2026-11-30"}))
    assert "已拨付" in messages_of(page)
    app.refresh_from_db()
    assert (app.state, app.voucher_no, app.paid_on) == (
        ApplicationState.PAID,
        "GK-2026-0088",
        date(2026, 11, 30),
    )
    budget.refresh_from_db()
    assert (budget.committed, budget.paid) == (0, app.amount)
    # The history shows every step, from the audit log.
    page = html(client_for("ent_user").get(url))
    history = re.search(r'data-testid="history">(.*?)</ol>', page, re.S).group(1)
    for label in ("提交申请", "初审通过", "复核通过并公示", "收到公示异议", "公示期满", "拨付"):
        assert label in history, label
    assert "GK-2026-0088" in page
    assert 'data-testid="actions"' not in page  # nothing left to do


def test_reject_needs_a_reason_and_releases_the_commitment(policy_world, client_for):
    pw = policy_world
    app = submitted_application(pw)
    services.verify(pw.user("gov_jiashan"), app)
    services.approve(pw.user("fin_admin"), app)
    client = client_for("fin_staff")
    page = html(act(client, app, "reject", {"reason": ""}))
    assert "请说明原因" in field_error(page, "id_reason")
    page = html(act(client, app, "reject", {"reason": "贷款用途与申报不符"}))
    assert "已驳回" in messages_of(page)
    app.refresh_from_db()
    assert (app.state, app.reason) == (ApplicationState.REJECTED, "贷款用途与申报不符")
    budget = BudgetYear.objects.get(programme=app.programme, year=2026)
    assert budget.committed == 0
    kinds = list(LedgerEntry.objects.filter(budget=budget).values_list("kind", flat=True))
    assert kinds == ["appropriate", "commit", "release"]


def test_budget_exhausted_is_a_message_on_the_page_not_an_error_page(policy_world, client_for):
    pw = policy_world
    programme = make_programme(
        pw, params=FIXED, appropriation=Decimal("1000"), requires_bank_confirmation=False
    )
    app = submitted_application(pw, programme)
    assert app.amount > 1000
    services.verify(pw.user("gov_jiashan"), app)
    client = client_for("fin_admin")
    response = act(client, app, "approve", follow=False)
    assert response.status_code == 302
    assert response["Location"] == reverse("policy:application", args=[app.pk])
    page = html(client.get(response["Location"]))
    assert "预算不足" in messages_of(page)
    app.refresh_from_db()
    assert app.state == ApplicationState.VERIFIED
    assert BudgetYear.objects.get(programme=programme).committed == 0
    assert not LedgerEntry.objects.filter(application=app).exists()


def test_bank_confirms_the_paid_interest_and_the_enterprise_withdraws(policy_world, client_for):
    pw = policy_world
    programme = make_programme(pw, params=FIXED)  # needs the bank's confirmation
    loan = make_loan(pw)
    app = services.apply(
        pw.user("ent_user"),
        programme,
        {"period_start": "2026-01-10", "period_end": "2026-06-30"},
        loan=loan,
    )
    assert app.state == ApplicationState.BANK_PENDING
    url = reverse("policy:application", args=[app.pk])
    bank = client_for("bank_staff")
    page = html(bank.get(url))
    assert 'data-testid="bank-confirm-form"' in page
    assert "预估" in page
    assert act(client_for("bank2_staff"), app, "bank_confirm", follow=False).status_code == 404
    page = html(act(bank, app, "bank_confirm", {"paid_cost": "-3"}))
    assert "应为非负金额" in field_error(page, "id_paid_cost")
    page = html(act(bank, app, "bank_confirm", {"paid_cost": "80000"}))
    assert "申请进入初审" in messages_of(page)
    app.refresh_from_db()
    assert (app.state, app.paid_cost) == (ApplicationState.SUBMITTED, Decimal("80000"))
    # The enterprise withdraws, with a reason.
    ent = client_for("ent_user")
    page = html(act(ent, app, "withdraw", {"reason": ""}))
    assert "请说明原因" in field_error(page, "id_reason")
    act(ent, app, "withdraw", {"reason": "已获其他政策支持"})
    app.refresh_from_db()
    assert app.state == ApplicationState.WITHDRAWN
    # Unknown actions are 404; the state machine refuses a second withdrawal as a message.
    assert act(ent, app, "explode", follow=False).status_code == 404
    page = html(act(ent, app, "withdraw", {"reason": "再撤一次"}))
    assert "已撤回" in messages_of(page)


# --- lists and the ledger -------------------------------------------------------------------------


def test_review_list_filters_counts_and_pages(policy_world, client_for):
    pw = policy_world
    programme = make_programme(pw, params=FIXED, requires_bank_confirmation=False)
    apps = [submitted_application(pw, programme, no=f"JS-2026-{n:03d}") for n in range(1, 23)]
    services.verify(pw.user("gov_jiashan"), apps[0])
    client = client_for("fin_admin")
    url = reverse("policy:gov_applications")
    page = html(client.get(url))
    assert page.count("data-application=") == 20
    assert 'rel="next"' in page
    page2 = html(client.get(f"{url}?page=2"))
    assert page2.count("data-application=") == 2
    page = html(client.get(f"{url}?state=verified&programme={programme.pk}&year=2026"))
    assert page.count("data-application=") == 1
    assert f'data-application="{apps[0].pk}"' in page
    assert "待财政复核</span> 1" in page and "待初审</span> 21" in page
    assert html(client.get(f"{url}?state=todo")).count("data-application=") == 20
    # A bad filter value is ignored, never a 500.
    assert client.get(f"{url}?state=nonsense&year=abc&programme=x&page=zz").status_code == 200
    # Another region sees none of them.
    assert "data-application=" not in html(client_for("gov_jiangsu").get(url))


def test_ledger_page_and_its_audited_excel_export(policy_world, client_for):
    pw = policy_world
    programme = make_programme(pw, params=FIXED, requires_bank_confirmation=False)
    first = submitted_application(pw, programme)
    second = submitted_application(pw, programme, no="JS-2026-002")
    for app in (first, second):
        services.verify(pw.user("gov_jiashan"), app)
        services.approve(pw.user("fin_admin"), app)
    services.reject(pw.user("fin_staff"), second, "材料不全")
    client = client_for("fin_admin")
    page = html(client.get(reverse("policy:gov_ledger", args=[programme.pk])))
    assert page.count("data-entry=") == 4  # appropriate, commit, commit, release
    available = Decimal("10000000") - first.amount
    assert f"{available:,.2f}" in page
    assert 'data-chart="ledger-chart"' in page and "vendor/echarts/echarts.min.js" in page
    export = reverse("core:export", args=["policy_ledger"])
    response = client.get(f"{export}?programme={programme.pk}&year=2026")
    assert response.status_code == 200
    book = load_workbook(BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][:4] == ("年度", "时间", "类型", "金额（元）")
    assert [r[2] for r in rows[1:5]] == ["预算安排", "承诺", "承诺", "释放"]
    assert rows[4][9] == pytest.approx(float(available))
    entry = AuditEntry.objects.filter(action="policy.ledger.export").get()
    assert entry.object_id == str(programme.pk) and entry.changes["rows"] == 4
    # Another region's official, or a bad programme id: 404, and no audit entry.
    assert client_for("gov_jiangsu").get(f"{export}?programme={programme.pk}").status_code == 404
    assert client.get(f"{export}?programme=abc").status_code == 404
    assert AuditEntry.objects.filter(action="policy.ledger.export").count() == 1
    assert (
        client_for("ent_user").get(reverse("policy:gov_ledger", args=[programme.pk])).status_code
        == 404
    )


def test_nav_has_the_policy_entry_for_government_users(policy_world, client_for):
    page = html(client_for("fin_staff").get("/"))
    nav = re.search(r'<nav class="side-nav".*?</nav>', page, re.S).group(0)
    assert 'data-nav="policy"' in nav
    assert reverse("policy:gov_programmes") in nav
    ent_nav = re.search(
        r'<nav class="side-nav".*?</nav>', html(client_for("ent_user").get("/")), re.S
    )
    assert 'data-nav="policy"' not in ent_nav.group(0)


def test_an_upheld_objection_rejects_the_application_and_releases_the_budget(
    policy_world, client_for
):
    pw = policy_world
    app = submitted_application(pw)
    app = services.verify(pw.user("gov_jiashan"), app)
    app = services.approve(pw.user("fin_admin"), app)
    objection = services.raise_objection(
        app, {"name": "李四", "contact": "139", "text": "贷款实际用于房地产"}
    )
    prefix = f"obj{objection.pk}"
    client = client_for("gov_jiashan")
    response = client.post(
        reverse("policy:objection_handle", args=[objection.pk]),
        {f"{prefix}-decision": "uphold", f"{prefix}-resolution": "经核实贷款用途不符"},
        follow=True,
    )
    assert "异议成立" in messages_of(html(response))
    app.refresh_from_db()
    assert app.state == ApplicationState.REJECTED
    assert "经核实贷款用途不符" in app.reason
    assert BudgetYear.objects.get(programme=app.programme, year=2026).committed == 0
    # Someone who cannot see the application cannot reach its objection either.
    other = client_for("gov_jiangsu").post(
        reverse("policy:objection_handle", args=[objection.pk]),
        {f"{prefix}-decision": "dismiss", f"{prefix}-resolution": "x"},
    )
    assert other.status_code == 404
