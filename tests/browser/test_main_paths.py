"""The two main paths of issue 17, each in a real browser with a fresh context:

1. a county government clerk (嘉善 经信局 admin) sees a 名单版本 waiting for
   approval on the home page's to-do workbench, opens it, approves it through
   the page's own confirmation dialog and sees it published;
2. a bank credit officer opens a demand dispatched to the bank from the 派单
   工作台, claims it (declining the confirmation once, then accepting), submits an offer (金额, 利率, 期限) through the form and
   sees the offer listed on the demand page.

Neither page may answer 500, log a console error or fetch anything from
another host."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlsplit

import pytest

from chanrong.demands import services as demands
from chanrong.demands.models import DispatchState
from chanrong.finance import services as products
from chanrong.registry import services as registry
from chanrong.registry.models import VersionStatus
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class Session:
    """A fresh browser context that records what must not happen."""

    def __init__(self, browser, live_server):
        self.base = live_server.url
        own_host = urlsplit(live_server.url).netloc
        self.foreign: list[str] = []
        self.errors: list[str] = []
        self.failed: list[str] = []
        self.dialogs: list[str] = []
        self.replies: list[bool] = []  # answers to the next dialogs; then "yes"
        self.context = browser.new_context(locale="zh-CN")

        def only_local(route):
            url = route.request.url
            if url.startswith(("data:", "blob:")) or urlsplit(url).netloc == own_host:
                route.continue_()
            else:
                self.foreign.append(url)
                route.abort()

        self.context.route("**/*", only_local)
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.page.on(
            "console",
            lambda msg: self.errors.append(msg.text) if msg.type == "error" else None,
        )
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on(
            "response",
            lambda r: self.failed.append(f"{r.status} {r.url}") if r.status >= 500 else None,
        )

        def answer(dialog):
            self.dialogs.append(dialog.message)
            if self.replies.pop(0) if self.replies else True:
                dialog.accept()
            else:
                dialog.dismiss()

        self.page.on("dialog", answer)
        self.posts: list[str] = []
        self.page.on(
            "request",
            lambda r: self.posts.append(r.url) if r.method == "POST" else None,
        )

    def sign_in(self, username: str) -> None:
        page = self.page
        page.goto(f"{self.base}/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action$='/accounts/login/'] button[type=submit]")
        page.wait_for_selector("[data-testid=todos]")

    def close(self) -> None:
        self.context.close()
        assert self.failed == []
        assert self.errors == []
        assert self.foreign == []


@pytest.fixture
def session(browser, live_server):
    sessions: list[Session] = []

    def make() -> Session:
        sessions.append(Session(browser, live_server))
        return sessions[-1]

    yield make
    for s in sessions:
        s.close()


def test_county_clerk_approves_a_list_version_from_the_todo_workbench(world, session):
    staff = world.user("gov_jiashan_staff")
    lst = registry.create_list(
        staff,
        {"list_type": "key_enterprises", "name": "嘉善县重点企业白名单", "sector": "manufacturing"},
    )
    version = registry.start_version(staff, lst)
    registry.add_list_entry(staff, version, enterprise=world.ent, reason="符合条件")
    registry.submit_version(staff, version)

    s = session()
    page = s.page
    s.sign_in("gov_jiashan")
    item = page.locator("[data-todo=list_versions]")
    assert item.locator("[data-count]").get_attribute("data-count") == "1"
    item.locator("a").click()
    page.wait_for_selector("[data-testid=list-table]")
    page.click(f"[data-testid=list-table] >> text={lst.name}")
    page.wait_for_selector("[data-testid=version-table]")
    page.click("[data-testid=version-table] >> text=第 1 版")
    page.wait_for_selector("[data-testid=approval]")
    assert page.inner_text("[data-testid=version-status]") == "待审批"

    # "No" in the dialog sends nothing: the version still waits.
    s.replies = [False]
    posts = len(s.posts)
    page.click("[data-testid=approval] [data-action=publish]")
    assert len(s.posts) == posts
    assert len(s.dialogs) == 1 and "确定发布" in s.dialogs[0]
    assert page.locator("ul.messages").count() == 0
    assert page.inner_text("[data-testid=version-status]") == "待审批"
    version.refresh_from_db()
    assert version.status == VersionStatus.SUBMITTED

    page.click("[data-testid=approval] [data-action=publish]")
    page.wait_for_selector("ul.messages")
    assert len(s.dialogs) == 2 and s.dialogs[1] == s.dialogs[0]
    assert page.inner_text("[data-testid=version-status]") == "已发布"
    assert page.locator("[data-testid=approval]").count() == 0

    page.goto(f"{s.base}/")
    assert page.get_attribute("[data-todo=list_versions] [data-count]", "data-count") == "0"
    version.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED
    assert version.approved_by == world.user("gov_jiashan")


def test_bank_officer_answers_a_dispatched_demand_with_an_offer(world, session):
    officer = world.user("bank_staff")
    product = products.publish_product(
        officer,
        products.create_product(
            officer,
            {
                "name": "善企信用贷",
                "kind": "credit",
                "amount_min_wan": 10,
                "amount_max_wan": 500,
                "term_min_months": 3,
                "term_max_months": 36,
                "rate_type": "fixed",
                "rate_min": "3.45",
                "rate_max": "6.5",
                "processing_days": 5,
                "exclude_blacklisted": False,
            },
        ),
    )
    owner = world.user("ent_user")
    demand = demands.create_demand(
        owner,
        {
            "kind": "debt",
            "amount_wan": 200,
            "term_months": 12,
            "purpose": "购置数控机床",
            "rate_max": "6",
            "collateral_offered": [],
            "urgency": "normal",
        },
    )
    demand = demands.publish_demand(owner, demand)
    dispatch = demand.dispatches.get(institution=world.bank)

    s = session()
    page = s.page
    s.sign_in("bank_staff")
    page.click("nav.side-nav [data-nav=workbench]")
    row = page.locator(f"[data-testid=workbench-table] [data-dispatch='{dispatch.pk}']")
    row.locator("th a").click()
    page.wait_for_selector("[data-testid=dispatch-table]")
    assert page.locator("[data-testid=offer-table]").count() == 0

    claim = f"[data-dispatch='{dispatch.pk}'] [data-action=claim]"
    s.replies = [False]  # 接单 asks first, saying what it commits the bank to: "no" …
    page.click(claim)
    assert len(s.dialogs) == 1 and "期限内" in s.dialogs[0]
    dispatch.refresh_from_db()
    assert dispatch.state == DispatchState.DISPATCHED  # … leaves it unclaimed
    page.click(claim)  # "yes"
    page.wait_for_selector(f"[data-dispatch='{dispatch.pk}'] [data-action=offer]")
    page.click(f"[data-dispatch='{dispatch.pk}'] [data-action=offer]")
    form = page.locator("[data-testid=dispatch-form-offer]")
    form.wait_for()
    form.locator("[name=amount_wan]").fill("180")
    form.locator("[name=rate]").fill("4.35")
    form.locator("[name=term_months]").fill("12")
    form.locator("[name=product_id]").select_option(str(product.pk))
    form.locator("[name=terms]").fill("设备抵押，按季付息")
    form.locator("button[type=submit]").click()

    page.wait_for_selector("ul.messages")
    assert len(s.dialogs) == 2  # the two 接单; an offer can be revised: not asked
    offer_row = page.locator("[data-testid=offer-table] tbody tr")
    assert offer_row.count() == 1
    text = offer_row.inner_text()
    assert "180" in text and "4.35" in text and "12" in text and "设备抵押" in text
    assert product.name in text

    dispatch.refresh_from_db()
    assert dispatch.state == DispatchState.OFFERED
    offer = demand.offers.get()
    assert (offer.amount, offer.rate, offer.term_months) == (
        Decimal("1800000"),
        Decimal("4.35"),
        12,
    )
    assert offer.product_id == product.pk
