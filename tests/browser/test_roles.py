"""Each demo role signs in with a real browser, sees its own menu, and signs out."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.urls import NoReverseMatch, reverse

from tests.conftest import PASSWORD
from tests.nav_expectations import NAV

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROLES = [
    "admin",
    "gov_national",
    "gov_zhejiang",
    "gov_jiashan",
    "bank_manager",
    "bank_staff",
    "bank2_staff",
    "ent_user",
    "ent2_user",
]
EXPECTED_NAV = NAV
# Entries whose pages belong to other parts of the platform appear once their URL exists.
OPTIONAL_URLS = {"tokens": "accounts:tokens", "audit": "core:audit"}
VENDOR_HTMX = Path(__file__).resolve().parents[2] / "chanrong/static/vendor/htmx/htmx.min.js"


def _installed(key: str) -> bool:
    try:
        reverse(OPTIONAL_URLS[key])
    except NoReverseMatch:
        return False
    return True


def expected_nav(username: str) -> list[str]:
    return [k for k in EXPECTED_NAV[username] if k not in OPTIONAL_URLS or _installed(k)]


def _filter_by_region_with_htmx(page, base_url: str) -> None:
    """The 省 → 市 → 区县 selects refill themselves, and the results follow."""
    page.goto(f"{base_url}/enterprises/")
    page.select_option("#id_province", "330000")
    page.wait_for_selector("#id_city option[value='330400']", state="attached")
    page.select_option("#id_city", "330400")
    page.wait_for_selector("#id_county option[value='330421']", state="attached")
    page.select_option("#id_county", "330421")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_url("**/enterprises/?*county=330421*")
    rows = page.locator("[data-testid=enterprise-table] tbody tr")
    assert rows.count() == 2
    page.goto(f"{base_url}/")


def test_every_role_sees_its_menu_and_can_sign_out(world, live_server, browser):
    own_host = urlsplit(live_server.url).netloc
    foreign_requests: list[str] = []

    context = browser.new_context(locale="zh-CN")

    def only_local(route):
        host = urlsplit(route.request.url).netloc
        if route.request.url.startswith(("data:", "blob:")) or host == own_host:
            route.continue_()
        else:
            foreign_requests.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        for username in ROLES:
            page.goto(f"{live_server.url}/accounts/login/")
            assert page.locator("html").get_attribute("lang") == "zh-hans"
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", PASSWORD)
            page.click("form[action$='/accounts/login/'] button[type=submit]")
            page.wait_for_selector("nav.side-nav [data-nav]")

            keys = page.eval_on_selector_all(
                "nav.side-nav [data-nav]", "els => els.map(e => e.dataset.nav)"
            )
            assert keys == expected_nav(username), username
            current = page.eval_on_selector_all(
                "nav.side-nav [aria-current=page]", "els => els.map(e => e.dataset.nav)"
            )
            assert current == ["home"], username
            assert world.user(username).username in page.inner_text("[data-testid=current-user]")
            if VENDOR_HTMX.exists():
                # htmx is a deferred script: the menu can be in the DOM before it
                # has run. Deferred scripts have run when DOMContentLoaded fires;
                # wait for that (not wait_for_function, whose polling evaluates a
                # string in the page, which the CSP refuses once the first check fails).
                page.wait_for_load_state("domcontentloaded")
                assert page.evaluate("typeof window.htmx") == "object", username
                if username == "gov_zhejiang":
                    _filter_by_region_with_htmx(page, live_server.url)

            page.click("[data-action=logout]")
            page.wait_for_selector("input[name=username]")
            assert "/accounts/login/" in page.url
            assert page.locator("nav.side-nav").count() == 0
    finally:
        context.close()
    assert foreign_requests == []
