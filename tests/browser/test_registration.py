"""An enterprise registers on a phone (390 px wide): the county picked from
the province, the status link kept; the county's clerk approves it and the
new account signs in."""

from __future__ import annotations

import pytest

from chanrong.accounts.models import User
from chanrong.core.codes import make_uscc
from tests.conftest import JIASHAN, PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STRONG = "Zhuce-mima-2026!"


def test_enterprise_registers_on_a_phone_and_the_clerk_approves(browser, live_server, world):
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = phone.new_page()
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.click("[data-testid=register-links] a[href$='/register/enterprise/']")
        page.fill("input[name=uscc]", make_uscc("91330421MA2B00001"))
        page.fill("input[name=name]", "嘉善云帆智能装备有限公司")
        page.select_option("select[name=province]", "33")
        page.wait_for_selector(
            f"select[name=region_code] option[value='{JIASHAN}']", state="attached"
        )
        page.select_option("select[name=region_code]", JIASHAN)
        page.select_option("select[name=industry_code]", "C34")
        page.fill("input[name=contact_name]", "王晓明")
        page.fill("input[name=contact_phone]", "13857300001")
        page.fill("input[name=contact_email]", "wang@example.com")
        page.fill("input[name=username]", "yunfan_wang")
        page.fill("input[name=password]", STRONG)
        page.fill("input[name=password2]", STRONG)
        page.check("input[name=consent]")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.click("[data-action=submit-registration]")
        page.wait_for_selector("[data-testid=registration-submitted]")
        status_url = page.get_attribute("[data-testid=status-link]", "href")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        phone.close()

    desk = browser.new_context(locale="zh-CN")
    page = desk.new_page()
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", "gov_jiashan_staff")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action$='/accounts/login/'] button[type=submit]")
        page.goto(f"{live_server.url}/accounts/registrations/")
        page.click("[data-testid=registration-queue] a")
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("[data-action=approve-registration]")
        page.wait_for_selector("[data-testid=registration-state][data-state=approved]")
        page.goto(f"{live_server.url}{status_url}")
        assert page.get_attribute("[data-testid=registration-state]", "data-state") == "approved"
    finally:
        desk.close()
    user = User.objects.get(username="yunfan_wang")
    assert user.enterprise.uscc == make_uscc("91330421MA2B00001")
