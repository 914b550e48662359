"""供应链金融 in a real browser: a supplier registers a receivable (one
增值税发票 and one 数电票, the second row added with htmx), the core
enterprise confirms it from its inbox, and the bank the supplier authorised
finances it; a second attempt on the fully financed receivable shows the
conflict as a message on the form. No request leaves the server."""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from chanrong.supplychain.models import Financing, Receivable, ReceivableState
from tests.browser.login import login
from tests.supplychain.conftest import sc  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

#: Set to a directory to keep screenshots of the pages (for a human to look at).
SHOTS = os.environ.get("CHANRONG_SHOTS_DIR")


def test_register_confirm_finance(sc, live_server, browser):  # noqa: F811
    base = live_server.url
    own_host = urlsplit(base).netloc
    foreign: list[str] = []
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})

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
    today = timezone.localdate()
    try:
        # The supplier, on a phone-sized screen, from the menu to the form.
        login(page, base, "ent_user")
        page.click(f"nav a[href='{reverse('supplychain:home')}']")
        page.click("[data-testid=sc-home-enterprise] ~ .page-head__actions [data-action=register]")
        page.fill("input[name=debtor_uscc]", sc.core.uscc)
        page.fill("input[name=contract_no]", "HT-BROWSER-1")
        page.fill("input[name=amount]", "500000")
        page.fill("input[name=issued_on]", str(today - timedelta(days=5)))
        page.fill("input[name=due_on]", str(today + timedelta(days=60)))
        page.fill("input[name=invoice-0-code]", "3300261130")
        page.fill("input[name=invoice-0-number]", "00001234")
        page.evaluate("window.stillHere = true")
        for n in (3, 4, 5):  # three rows on the page, then more through htmx
            page.click("[data-action=add-invoice-row]")
            page.wait_for_selector(f"input[name=invoice-{n}-number]")
        assert page.evaluate("window.stillHere === true")  # no reload: htmx added them
        assert page.input_value("#invoice-row-count") == "6"
        page.fill("input[name=invoice-5-number]", "26332000000099990001")
        if SHOTS:
            page.screenshot(path=os.path.join(SHOTS, "sc-register.png"), full_page=True)
        page.click("[data-action=register-receivable]")
        page.wait_for_selector("ul.messages")
        assert "等待债务人确权" in page.inner_text("ul.messages")
        receivable = Receivable.objects.get(contract_no="HT-BROWSER-1")
        assert receivable.invoices.count() == 2

        # The core enterprise confirms it in full from its inbox.
        login(page, base, "core_user")
        page.goto(f"{base}{reverse('supplychain:inbox')}")
        page.once("dialog", lambda dialog: dialog.accept())  # 确权 asks first
        page.click(f"[data-receivable='{receivable.pk}'] [data-action=confirm]")
        page.wait_for_selector("ul.messages")
        assert "已确权" in page.inner_text("ul.messages")
        receivable.refresh_from_db()
        assert receivable.state == ReceivableState.CONFIRMED

        # The bank finances it from its list.
        login(page, base, "bank_staff")
        page.goto(f"{base}{reverse('supplychain:bank')}")
        page.click(f"[data-testid=offered] tr[data-receivable='{receivable.pk}'] th a")
        page.click("[data-action=finance]")
        page.select_option("select[name=mode]", "pledge")
        page.fill("input[name=advance_ratio]", "80")
        page.fill("input[name=amount]", "400000")
        page.fill("input[name=registration_no]", "06930000000000000777")
        page.fill("input[name=contract_no]", "ZY-BROWSER-1")
        page.click("form[data-testid=finance-form] [data-action=finance]")
        page.wait_for_selector("ul.messages")
        assert "已登记融资" in page.inner_text("ul.messages")
        assert page.inner_text("[data-field=available]").startswith("0.00")

        # Asking again for the fully financed receivable: a message, the form kept.
        page.goto(f"{base}{reverse('supplychain:finance', args=[receivable.pk])}")
        page.select_option("select[name=mode]", "pledge")
        page.fill("input[name=advance_ratio]", "80")
        page.fill("input[name=amount]", "1000")
        page.fill("input[name=registration_no]", "06930000000000000778")
        page.fill("input[name=contract_no]", "ZY-BROWSER-2")
        page.click("form[data-testid=finance-form] [data-action=finance]")
        page.wait_for_selector("ul.messages .error")
        assert "已全部用于融资" in page.inner_text("ul.messages")
        assert page.is_visible("form[data-testid=finance-form]")
        if SHOTS:
            page.screenshot(path=os.path.join(SHOTS, "sc-conflict.png"), full_page=True)
    finally:
        context.close()
    assert foreign == []
    financing = Financing.objects.get()
    assert financing.amount == Decimal("400000.00")
    assert financing.backing == Decimal("500000.00")
