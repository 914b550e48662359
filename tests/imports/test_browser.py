"""In a real browser: upload a file that goes to the background, watch the
page poll, reload it, and see the result appear when the worker is done."""

from __future__ import annotations

import pytest

from tests.browser.conftest import browser, fast_password_hasher, plain_static_storage  # noqa: F401
from tests.conftest import PASSWORD

from ..tasks.conftest import run_db_worker
from .conftest import HEADER, enterprise_row, xlsx

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_background_import_progress_survives_a_reload(
    world,
    live_server,
    browser,  # noqa: F811 (the fixture imported above)
    settings,
    tmp_path,
):
    settings.CHANRONG_IMPORT_INLINE_ROWS = 2
    settings.TASKS = {
        "default": {"BACKEND": "chanrong.core.taskdb.DatabaseBackend", "QUEUES": ["default"]}
    }
    upload = tmp_path / "企业名录.xlsx"
    upload.write_bytes(xlsx([HEADER, *[enterprise_row(1000 + i) for i in range(6)]]))
    page = browser.new_page(locale="zh-CN")  # the statuses asserted below are the Chinese ones
    page.route(
        "**/*",
        lambda route: (
            route.continue_() if route.request.url.startswith(live_server.url) else route.abort()
        ),
    )
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "gov_jiashan")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action$='/accounts/login/'] button[type=submit]")
    page.goto(f"{live_server.url}/imports/new/")
    page.set_input_files("input[name=file]", str(upload))
    page.click("[data-testid=import-form] button[type=submit]")
    page.wait_for_selector("[data-testid=import-job]")
    assert page.inner_text("[data-testid=import-status]") == "排队中"
    assert page.locator("#import-progress progress").count() == 1
    page.screenshot(path=str(tmp_path / "pending.png"), full_page=True)
    page.reload()
    assert page.inner_text("[data-testid=import-status]") == "排队中"
    run_db_worker()
    # htmx polls every second; the finished fragment asks for a full refresh.
    page.wait_for_selector("[data-testid=import-created]", timeout=15000)
    assert page.inner_text("[data-testid=import-status]") == "已完成"
    assert page.inner_text("[data-testid=import-created]") == "6"
    page.screenshot(path=str(tmp_path / "done.png"), full_page=True)
