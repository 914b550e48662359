"""The enterprise's main path on a phone (390 × 844): sign in, read the to-do
list, publish a demand through the menu and the form (confirming the dialog),
see it dispatched, open its policies and start an application — and no page
scrolls sideways."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from chanrong.demands.models import Demand, DemandState
from tests.conftest import PASSWORD
from tests.demands.conftest import bank_products  # noqa: F401 (fixture)
from tests.policy.conftest import policy_world  # noqa: F401 (fixture)
from tests.policy.pagekit import disbursed_demand, programme

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
# Elements reaching past the right edge that the page itself would scroll to:
# anything inside an element that scrolls or clips sideways is left out.
OVERFLOWING = """() => {
  const clips = (el) => ['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(el).overflowX);
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.right <= window.innerWidth + 1) continue;
    let up = el.parentElement, clipped = false;
    while (up && up !== document.body) { if (clips(up)) { clipped = true; break; } up = up.parentElement; }
    if (!clipped) out.push(el.tagName.toLowerCase() + '.' + el.className);
  }
  return out.slice(0, 5);
}"""


def assert_fits(page, what: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], (what, width)
    assert page.evaluate(OVERFLOWING) == [], what


def test_enterprise_main_path_fits_a_phone(
    policy_world,  # noqa: F811 (the fixtures imported above)
    bank_products,  # noqa: F811
    live_server,
    browser,
):
    prog = programme(policy_world)
    loan = disbursed_demand(policy_world)
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
        assert_fits(page, "login")
        page.fill("input[name=username]", "ent_user")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action$='/accounts/login/'] button[type=submit]")
        page.wait_for_selector("[data-testid=todos] [data-todo]")
        assert_fits(page, "home")
        # The menu sits above the content and scrolls sideways on its own.
        nav = page.locator("nav.side-nav").bounding_box()
        assert nav is not None and nav["width"] <= PHONE["width"]

        page.click("nav.side-nav [data-nav=demands]")
        page.wait_for_url("**/demands/")
        assert_fits(page, "demand list")
        page.goto(f"{live_server.url}/demands/new/")
        page.wait_for_selector("[data-testid=demand-form]")
        assert_fits(page, "demand form")
        form = page.locator("[data-testid=demand-form]").bounding_box()
        assert form is not None and form["x"] + form["width"] <= PHONE["width"]
        page.select_option("#id_kind", "debt")
        page.fill("#id_amount_wan", "200万")
        page.fill("#id_term_months", "12")
        page.fill("#id_purpose", "手机上发布的设备采购贷款")
        page.click("[data-testid=demand-form] button[type=submit]")
        page.wait_for_selector("[data-action=publish]")
        assert_fits(page, "draft demand")

        page.once("dialog", lambda dialog: dialog.accept())
        page.click("[data-action=publish]")
        page.wait_for_selector("[data-testid=dispatch-table] tr[data-dispatch]")
        assert_fits(page, "dispatched demand")
        demand = Demand.objects.get(purpose="手机上发布的设备采购贷款")
        assert demand.state == DemandState.DISPATCHED
        assert page.locator("[data-testid=dispatch-table] tr[data-dispatch]").count() == 2

        page.click("nav.side-nav [data-nav=policy_mine]")
        page.wait_for_selector("[data-testid=qualified]")
        assert_fits(page, "my policies")
        # Applying starts from a table of the platform's loans, wider than the
        # phone: it scrolls inside its wrapper, its hidden "操作" header too.
        page.click(f"[data-testid=qualified] li[data-programme='{prog.pk}'] [data-action=apply]")
        page.wait_for_selector(f"[data-testid=platform-loans] tr[data-demand='{loan.pk}']")
        assert_fits(page, "policy application")
        page.click("nav.side-nav [data-nav=policy_public]")
        page.wait_for_url("**/policy/")
        assert_fits(page, "policies")
    finally:
        context.close()
    assert foreign == []
