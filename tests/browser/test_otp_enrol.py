"""A government admin, for whom the second factor is mandatory, enrols in a
real browser with a TOTP code computed here (as a phone app would), keeps
the recovery codes, signs out, and signs in again with a fresh code."""

from __future__ import annotations

import base64

import pytest
from django_otp.oath import TOTP

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def code_from_secret(secret: str, steps_ahead: int = 0) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    totp = TOTP(key)
    totp.time = totp.time + steps_ahead * totp.step
    return f"{totp.token():06d}"


def sign_in(page, base_url: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", "gov_jiashan")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action$='/accounts/login/'] button[type=submit]")


def test_gov_admin_enrols_then_signs_in_with_a_code(world, live_server, browser, settings):
    settings.CHANRONG_OTP_REQUIRED_ROLES = ["gov_admin"]
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, live_server.url)
        # Forced to enrolment before anything else.
        page.wait_for_url("**/accounts/otp/enrol/**")
        assert page.locator("[data-testid=otp-qr] svg").count() == 1
        secret = page.inner_text("[data-testid=otp-secret]").strip()
        page.goto(f"{live_server.url}/enterprises/")
        page.wait_for_url("**/accounts/otp/enrol/**")

        page.fill("input[name=token]", code_from_secret(secret))
        page.click("[data-testid=otp-enrol-form] button[type=submit]")
        codes = page.locator("[data-testid=recovery-codes] li")
        codes.first.wait_for()
        assert codes.count() == 10
        page.click("text=我已保存，继续")
        page.wait_for_selector("nav.side-nav [data-nav]")

        page.click("[data-action=logout]")
        page.wait_for_url("**/accounts/login/**")

        sign_in(page, live_server.url)
        page.wait_for_url("**/accounts/otp/**")
        assert "enrol" not in page.url
        # The enrolment spent the current step's code: the next one is valid too
        # (django-otp accepts one step of drift), as a phone would show it.
        page.fill("input[name=token]", code_from_secret(secret, 1))
        page.click("[data-testid=otp-verify-form] button[type=submit]")
        page.wait_for_selector("nav.side-nav [data-nav]")
        assert "gov_jiashan" in page.inner_text("[data-testid=current-user]")
    finally:
        context.close()
