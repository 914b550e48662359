"""In a real browser on a phone-sized screen: an enterprise picks its
disbursed platform loan, types the period and the interest it paid, watches
the calculation appear line by line (htmx, no reload), and submits."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.conftest import PASSWORD
from tests.policy.conftest import policy_world  # noqa: F401 (fixture)
from tests.policy.pagekit import disbursed_demand, last_year, programme

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def test_enterprise_applies_on_a_phone_and_sees_the_calculation(
    policy_world,  # noqa: F811 (the fixture imported above)
    live_server,
    browser,
):
    pw = policy_world
    prog = programme(pw)
    demand = disbursed_demand(pw)
    own_host = urlsplit(live_server.url).netloc
    foreign: list[str] = []

    context = browser.new_context(
        locale="zh-CN", viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )

    def only_local(route):
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlsplit(url).netloc == own_host:
            route.continue_()
        else:
            foreign.append(url)
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", "ent_user")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action$='/accounts/login/'] button[type=submit]")
        page.wait_for_selector("[data-testid=current-user]")

        page.goto(f"{live_server.url}/policy/mine/")
        page.click(f"[data-testid=qualified] li[data-programme='{prog.pk}'] [data-action=apply]")
        page.wait_for_selector("[data-testid=platform-loans]")
        page.click(f"tr[data-demand='{demand.pk}'] [data-action=use-demand]")
        page.wait_for_selector("[data-testid=loan-facts]")
        assert "3,000,000.00" in page.inner_text("[data-testid=loan-facts]")
        # Deferred htmx has run by DOMContentLoaded (wait_for_function would poll
        # by evaluating a string in the page, which the CSP refuses).
        page.wait_for_load_state("domcontentloaded")
        assert page.evaluate("typeof window.htmx") == "object"
        # Without JavaScript a 试算 button posts the form; with htmx it is hidden.
        assert not page.is_visible("[data-action=preview]")

        y = last_year()
        page.fill("#id_period_start", f"{y}-01-10")
        page.fill("#id_period_end", f"{y}-06-30")
        page.fill("#id_paid_cost", "60000")
        page.locator("#id_paid_cost").dispatch_event("change")
        page.wait_for_selector("#preview [data-testid=calculation]")
        lines = page.inner_text("#preview [data-testid=calculation]")
        assert "按公式计算" in lines and "四舍五入到分" in lines
        amount = page.inner_text("#preview [data-testid=calc-amount]")
        assert amount not in ("", "0.00", "—")
        # Nothing is wider than the phone: the page does not scroll sideways.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"] + 1, width

        # Submitting is irreversible: the browser asks first, saying so. "No" keeps the form.
        asked: list[str] = []

        def answer(accept: bool):
            def handle(dialog):
                asked.append(dialog.message)
                dialog.accept() if accept else dialog.dismiss()

            return handle

        page.once("dialog", answer(False))
        page.click("[data-action=submit-application]")
        assert asked and "不能再修改" in asked[0]
        assert page.locator("[data-action=submit-application]").count() == 1
        page.once("dialog", answer(True))
        page.click("[data-action=submit-application]")
        page.wait_for_selector("[data-testid=attachment-form]")
        assert "/materials/" in page.url
        assert amount in page.inner_text("[data-testid=calc-amount]")
    finally:
        context.close()
    assert foreign == []
