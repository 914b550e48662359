"""互联互通 in a real browser (issue 19 part 1): a government user of the
parent deployment opens 统计分析 from the menu and sees what a child
platform reported, beside the platform's own figure and marked with its
source deployment, batch and date; the ministry opens 试点进展与评估 and
sees the pilot's reported figure beside its own completion."""

from __future__ import annotations

import pytest

from chanrong.exchange.models import Peer, PeerRole
from chanrong.exchange.services import envelope, identity, inbox
from tests.browser.login import login
from tests.exchange.conftest import JIASHAN, Child
from tests.exchange.test_received_beside import YEAR, _indicators

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_government_user_sees_a_received_figure_with_its_source(world, live_server, browser):
    me = identity.ensure(name="嘉兴市产融合作平台", region_code="330400")
    child = Child(str(me.deployment_id))
    Peer.objects.create(
        role=PeerRole.CHILD,
        deployment_id=child.deployment_id,
        name="嘉善县产融合作平台",
        region_code=JIASHAN,
        public_key=envelope.public_text(child.key),
    )
    inbox.receive(child.body(child.batch()))  # financing_stats, 2 loans
    inbox.receive(child.body(_indicators(child, f"{YEAR}-10", "150000000.00", "6")))

    page = browser.new_page(locale="zh-CN")  # the strings asserted are the Chinese sources
    try:
        login(page, live_server.url, "gov_zhejiang")
        page.goto(f"{live_server.url}/")
        page.click("a[href='/insights/']")
        page.wait_for_load_state()
        panel = page.locator("[data-testid=received-panel]")
        panel.wait_for()
        row = panel.locator("tr[data-received-key='platform.financing_amount']")
        assert row.count() == 1
        text = row.inner_text()
        assert "嘉善县" in text and "15000" in text  # 万元
        assert "来源：嘉善县产融合作平台，批次 #2" in text
        # The 按地区 row that stands for 嘉兴市 says it is received, with its source.
        region = page.locator("[data-testid=by-region] tr[data-received='330400']")
        assert "下级平台报送" in region.inner_text()
        assert "来源：嘉善县产融合作平台" in region.inner_text()
        # The batch is one click away.
        row.locator("a", has_text="查看批次").click()
        page.wait_for_load_state()
        assert "/exchange/inbound/" in page.url
    finally:
        page.close()
