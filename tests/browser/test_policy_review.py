"""A 财政 clerk, in a real browser, finds an application that 经信 has
passed at 初审, approves it (财政复核) and sees it in 公示 — on the
application's page, in the review list and on the public 公示 page."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.urls import NoReverseMatch, reverse

from chanrong.policy import services
from chanrong.policy.models import Application, ApplicationState, BudgetYear
from tests.conftest import PASSWORD
from tests.policy.conftest import make_loan, make_programme, policy_world  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIXED = {"method": "fixed", "rate": "1.5", "day_count": "act360"}


@pytest.fixture
def verified_application(policy_world):  # noqa: F811
    pw = policy_world
    programme = make_programme(
        pw, params=FIXED, requires_bank_confirmation=False, name="嘉善县制造业贷款贴息"
    )
    application = services.apply(
        pw.user("ent_user"),
        programme,
        {"period_start": "2026-01-10", "period_end": "2026-06-30", "paid_cost": "90000"},
        loan=make_loan(pw),
    )
    return services.verify(pw.user("gov_jiashan"), application)


def _public_notices_url() -> str | None:
    try:
        return reverse("policy:notices")
    except NoReverseMatch:
        return None


def test_finance_clerk_approves_and_sees_it_in_notice(
    policy_world,  # noqa: F811
    verified_application,
    live_server,
    browser,
):
    application = verified_application
    enterprise = policy_world.world.ent.name
    own_host = urlsplit(live_server.url).netloc
    foreign: list[str] = []
    context = browser.new_context(locale="zh-CN")

    def only_local(route):
        host = urlsplit(route.request.url).netloc
        if route.request.url.startswith(("data:", "blob:")) or host == own_host:
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", "fin_admin")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action$='/accounts/login/'] button[type=submit]")
        page.click("nav.side-nav [data-nav=policy]")
        page.wait_for_selector("[data-testid=policy-tabs]")
        page.click("[data-testid=policy-tabs] >> text=申请审核")
        page.wait_for_selector("[data-testid=review-filters]")
        page.select_option("#id_state", "verified")
        page.click("[data-testid=review-filters] button[type=submit]")
        page.wait_for_url("**/policy/gov/applications/?*state=verified*")
        row = page.locator(f"[data-application='{application.pk}']")
        assert row.count() == 1
        assert "待财政复核" in row.inner_text()
        row.locator("th a").click()
        page.wait_for_selector("[data-testid=calculation]")
        assert enterprise in page.inner_text("[data-field=applicant]")
        # 初审 was 经信's; this clerk may do the 复核.
        assert page.locator("[data-action=verify]").count() == 0
        page.once("dialog", lambda dialog: dialog.accept())  # 复核通过并公示 asks first
        page.click("[data-action=approve]")
        page.wait_for_selector("ul.messages")
        assert "进入公示" in page.inner_text("ul.messages")
        assert page.inner_text("[data-testid=application-state]") == "公示中"
        assert page.locator("[data-field=notice]").count() == 1
        assert page.locator("[data-action=approve]").count() == 0

        page.goto(f"{live_server.url}{reverse('policy:gov_applications')}?state=notice")
        assert page.locator(f"[data-application='{application.pk}']").count() == 1
        notices = _public_notices_url()
        if notices:
            page.goto(f"{live_server.url}{notices}")
            assert enterprise in page.inner_text("main")
    finally:
        context.close()
    assert foreign == []
    application = Application.objects.get(pk=application.pk)
    assert application.state == ApplicationState.NOTICE
    assert application.approved_by == policy_world.user("fin_admin")
    assert BudgetYear.objects.get(programme=application.programme).committed == application.amount
