"""The 财政 administrator, in a real browser, opens the 转贷应急 fund: the
balance chart is drawn by ECharts from the platform's own static files (no
request leaves the server), the overdue draw is highlighted, and an approved
draw is paid out from the list."""

from __future__ import annotations

import os
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from chanrong.policy import services
from chanrong.policy.models import BridgeDraw, BridgeState, Pool
from tests.conftest import PASSWORD
from tests.policy.conftest import make_loan, policy_world  # noqa: F401
from tests.policy.poolkit import BRIDGE_PARAMS, make_pool

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

#: Set to a directory to keep screenshots of the pages (for a human to look at).
SHOTS = os.environ.get("CHANRONG_SHOTS_DIR")


@pytest.fixture
def fund(policy_world):  # noqa: F811
    pw = policy_world
    today = timezone.localdate()
    programme = make_pool(
        pw,
        "bridge",
        BRIDGE_PARAMS,
        "3000000",
        on=today - timedelta(days=60),
        starts_on=str(today - timedelta(days=400)),
        ends_on=str(today + timedelta(days=400)),
    )
    bank, admin = pw.user("bank_staff"), pw.user("fin_admin")

    def loan(no, matures_in):
        return make_loan(
            pw,
            no=no,
            loan_date=today - timedelta(days=300),
            maturity_date=today + timedelta(days=matures_in),
            confirmed_at=timezone.now(),
        )

    late = services.request_draw(
        bank,
        programme,
        loan("LATE", -38),
        {"amount": "1000000", "commitment_no": "XD-LATE"},
        today=today - timedelta(days=40),
    )
    late = services.draw_funds(
        admin, services.approve_draw(admin, late), today=today - timedelta(days=38)
    )
    waiting = services.request_draw(
        bank, programme, loan("NEXT", 6), {"amount": "500000", "commitment_no": "XD-NEXT"}
    )
    waiting = services.approve_draw(admin, waiting)
    return programme, late, waiting


def test_agency_sees_the_chart_and_pays_out_a_draw(fund, live_server, browser):
    programme, late, waiting = fund
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
        page.goto(f"{live_server.url}{reverse('policy:pools')}")
        row = page.locator(f"[data-pool='{programme.pk}']")
        assert "1 笔逾期" in row.inner_text()
        row.locator("th a").click()
        page.wait_for_selector("[data-chart=pool-chart] svg")  # ECharts drew it
        assert page.inner_text("[data-field=balance]") == "200.00"
        overdue = page.locator(f"tr[data-draw='{late.pk}']")
        assert "row--overdue" in overdue.get_attribute("class")
        assert "逾期 8 天" in overdue.inner_text()
        if SHOTS:
            page.screenshot(path=os.path.join(SHOTS, "pool.png"), full_page=True)
        page.once("dialog", lambda dialog: dialog.accept())  # 出款 asks first
        page.click(f"[data-action=draw][data-draw='{waiting.pk}']")
        page.wait_for_selector("ul.messages")
        assert "已出款" in page.inner_text("ul.messages")
        assert page.inner_text("[data-field=state]") == "使用中"
        if SHOTS:
            page.screenshot(path=os.path.join(SHOTS, "draw.png"), full_page=True)
    finally:
        context.close()
    assert foreign == []
    assert BridgeDraw.objects.get(pk=waiting.pk).state == BridgeState.DRAWN
    assert Pool.objects.get(programme=programme).balance == 1500000
