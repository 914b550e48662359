"""Green finance in a real browser, as its users go: the bank's staff open
their branch's own 环境信息披露 form (填报主体), the county's agency reads the
checklist with the bank and its local branch, a bank reporting a loan's green
category gets the field error for a code the catalogue does not have, and the
catalogue page lists the 2019 edition complete. No request leaves the server."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from chanrong.green.models import SECTION_KEYS, CatalogueEdition, Disclosure
from chanrong.green.services import catalogue
from chanrong.green.services import disclosure as svc
from tests.browser.login import login
from tests.risk.conftest import reported

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("CHANRONG_SHOTS_DIR")


def last_year() -> int:
    """The year disclosed: read at use, not at import (a run collected before
    Beijing's New Year and run after it would otherwise disagree with the services)."""
    return timezone.localdate().year - 1


def _shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def test_branch_disclosure_checklist_loan_category_catalogue(world, live_server, browser):
    if not CatalogueEdition.objects.filter(code="2019").exists():
        catalogue.load_edition()  # a transactional test flushed the migration's rows
    base = live_server.url
    own_host = urlsplit(base).netloc
    foreign: list[str] = []
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})

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
        # The bank's staff open their branch's own form for last year.
        login(page, base, "bank_staff")
        page.goto(f"{base}/green/disclosures/")
        page.select_option("#open-year", str(last_year()))
        page.select_option("#open-branch", str(world.bank_branch.pk))
        _shot(page, "green-disclosure-open")
        page.click("[data-testid=form-open] button[type=submit]")
        page.wait_for_load_state()
        form = Disclosure.objects.get(branch=world.bank_branch, year=last_year())
        assert page.url.endswith(f"/green/disclosures/{form.pk}/")
        assert "嘉善农商行营业部" in page.inner_text("[data-testid=disclosure-filer]")
        _shot(page, "green-disclosure-branch-form")

        # Filled and submitted (the services: the form itself is walked elsewhere).
        svc.save_disclosure(
            world.user("bank_staff"),
            form,
            {
                "sections": {k: "说明。" for k in SECTION_KEYS},
                "green_loan_balance": "1000",
                "total_loan_balance": "50000",
                "financed_emissions": "10",
                "operational_emissions": "5",
            },
        )
        svc.submit(world.user("bank_manager"), form)

        # The county's agency: the bank, and under it its branch that filed.
        login(page, base, "gov_jiashan")
        page.goto(f"{base}/green/disclosures/checklist/?year={last_year()}")
        branch_row = page.locator(f"tr[data-branch='{world.bank_branch.pk}']")
        assert "已提交" in branch_row.inner_text()
        assert page.inner_text("[data-testid=count-branch-submitted]") == "1"
        _shot(page, "green-disclosure-checklist")
        branch_row.locator("a").click()
        page.wait_for_load_state()
        assert page.url.endswith(f"/green/disclosures/{form.pk}/")

        # A loan's green category: a code the catalogue does not have.
        loan = reported(world)
        login(page, base, "bank_staff")
        page.goto(f"{base}/risk/loans/{loan.pk}/")
        page.fill("#green-green_category", "6.6")
        page.click("[data-testid=form-green] button[type=submit]")
        page.wait_for_load_state()
        error = page.inner_text("#green-green_category-error")
        assert "绿色产业指导目录中没有类别 6.6" in error
        _shot(page, "risk-loan-green-category-error")
        page.fill("#green-green_category", "3.2.6")
        page.click("[data-testid=form-green] button[type=submit]")
        page.wait_for_load_state()
        assert "3.2.6" in page.inner_text("[data-testid=loan-green]")

        # The catalogue page: the 2019 edition complete.
        page.goto(f"{base}/green/library/catalogue/")
        text = page.inner_text("main")
        assert "煤层气（煤矿瓦斯）抽采利用设施建设和运营" in text
        assert "绿色建材认证推广" in text
        _shot(page, "green-catalogue")
    finally:
        context.close()
    assert foreign == []
