"""Signing in through the login form, as a person does (no second factor:
the test users' roles do not require one unless a test turns it on)."""

from __future__ import annotations

from tests.conftest import PASSWORD


def login(page, base: str, username: str, password: str = PASSWORD) -> None:
    """Sign `username` in on a fresh session (earlier cookies cleared)."""
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form[action$='/accounts/login/'] button[type=submit]")
    page.wait_for_load_state()
