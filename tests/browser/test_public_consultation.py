"""An anonymous visitor on a phone (390 px wide) opens the public side,
asks a question and sees the confirmation; nothing is wider than the
screen."""

from __future__ import annotations

import pytest

from chanrong.content.models import Consultation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_anonymous_visitor_asks_on_a_phone(browser, live_server, refdata_loaded):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/public/")
        page.click("[data-action=ask]")
        page.wait_for_selector("[data-testid=ask-form]")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.fill("input[name=subject]", "贴息政策咨询")
        page.fill("textarea[name=question]", "请问去年的贷款能否申请今年的贴息？需要哪些材料？")
        page.fill("input[name=name]", "张小明")
        page.fill("input[name=phone]", "13800001234")
        page.click("[data-action=submit]")
        page.wait_for_selector("[data-testid=asked]")
        created = Consultation.objects.get()
        assert f"您的留言编号为 {created.pk}" in page.inner_text("[data-testid=asked]")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
