"""In a real browser: a county clerk invites two enterprises to an event by
typing part of their names into the search picker and picking from the list
(the mouse for one, the keyboard for the other)."""

from __future__ import annotations

from datetime import date

import pytest

from chanrong.events.models import Event, EventKind
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_clerk_invites_two_enterprises_by_typing_their_names(world, live_server, browser):
    event = Event.objects.create(
        kind=EventKind.MATCHMAKING,
        title="银企对接会",
        date=date(2025, 5, 20),
        place="嘉善",
        region_id="330421",
        organiser=world.gov_jiashan,
    )
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", "gov_jiashan")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action$='/accounts/login/'] button[type=submit]")
        page.wait_for_selector("[data-testid=current-user]")

        page.goto(f"{live_server.url}/events/{event.pk}/")
        page.wait_for_load_state("domcontentloaded")
        box = page.locator("#inv-enterprises")
        box.click()
        box.press_sequentially("精工")
        option = page.locator(f"#inv-enterprises_results [data-key='{world.ent.uscc}']")
        option.wait_for()
        assert world.ent_js.name not in page.inner_text("#inv-enterprises_results")
        option.click()
        chip = page.locator(f"[data-picker=enterprises] .picker__chip[data-key='{world.ent.uscc}']")
        chip.wait_for()
        assert world.ent.name in chip.inner_text()

        box.press_sequentially("新材料")
        page.locator(f"#inv-enterprises_results [data-key='{world.ent2.uscc}']").wait_for()
        box.press("ArrowDown")
        box.press("Enter")  # picks; does not submit the form
        page.locator(f".picker__chip[data-key='{world.ent2.uscc}']").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 391

        page.click("form[action$='/invite/'] button[type=submit]")
        page.wait_for_selector("ul.messages")
        invited = set(event.invitations.values_list("enterprise__name", flat=True))
        assert invited == {world.ent.name, world.ent2.name}
    finally:
        context.close()
