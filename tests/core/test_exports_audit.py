"""Exports are audited, and exports of personal data need a purpose and stay
within caps by role (issue 15, finding 4: three government accounts took all
enterprises with their contacts out and nothing was written down)."""

from __future__ import annotations

from io import BytesIO

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from chanrong.core import exporting
from chanrong.core.exporting import Export, ExportColumn, register_export, write_xlsx
from chanrong.core.models import AuditEntry
from chanrong.registry.models import Enterprise

pytestmark = pytest.mark.django_db

ROWS = [{"name": f"联系人{i}", "phone": f"1380000{i:04d}"} for i in range(10)]
COLUMNS = (
    ExportColumn("联系人", lambda r: r["name"]),
    ExportColumn("联系电话", lambda r: r["phone"]),
)


def _build(user, params):
    """The first `n` rows (query parameter), as a registered export does."""
    return write_xlsx(COLUMNS, ROWS[: int(params.get("n", len(ROWS)))])


@pytest.fixture
def test_exports():
    register_export(
        Export("t_contacts", "测试联系人", _build, personal_fields=("联系人", "联系电话"))
    )
    register_export(Export("t_plain", "测试统计", _build))
    yield
    for kind in ("t_contacts", "t_plain"):
        exporting._EXPORTS.pop(kind, None)


@pytest.fixture
def gov(world, settings):
    user = world.user("gov_jiashan")
    settings.CHANRONG_EXPORT_CAPS = {user.role: (4, 6)}
    client = Client()
    client.force_login(user)
    return client


def url(kind: str, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("core:export", args=[kind]) + (f"?{query}" if query else "")


def rows_of(response) -> list[tuple]:
    book = load_workbook(BytesIO(b"".join(response.streaming_content)), read_only=True)
    return list(book.active.iter_rows(values_only=True))


def exports(action: str = "export.download") -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("seq"))


def test_the_enterprise_table_with_contacts_asks_for_a_purpose_and_is_audited(world):
    """The finding itself: a government account exports the enterprise table."""
    user = world.user("gov_jiashan")
    client = Client()
    client.force_login(user)
    export = reverse("core:export", args=["enterprises"])
    form = client.get(export + "?size=small")
    assert form.status_code == 200 and not hasattr(form, "streaming_content")
    page = form.content.decode()
    assert "导出用途" in page and "联系电话" in page and 'data-testid="export-form"' in page
    assert exports() == []
    missing = client.post(export + "?size=small", {"purpose": " "})
    assert missing.status_code == 400
    assert "请填写导出用途" in missing.content.decode()
    assert exports() == []

    response = client.post(export, {"purpose": "走访企业名单"})
    assert response.status_code == 200
    rows = rows_of(response)
    assert "联系电话" in rows[0]
    visible = Enterprise.objects.visible_to(user).count()
    assert len(rows) - 1 == visible
    (entry,) = exports()
    assert entry.actor_name == "gov_jiashan" and entry.object_id == "enterprises"
    assert entry.changes["rows"] == visible and entry.changes["personal"] is True
    assert entry.changes["purpose"] == "走访企业名单"
    assert entry.changes["personal_fields"] == ["法定代表人", "联系人", "联系电话", "电子邮箱"]


def test_filters_and_row_count_are_recorded(test_exports, gov):
    response = gov.post(url("t_contacts", n=3), {"purpose": "政策宣传通知"})
    assert len(rows_of(response)) == 4
    (entry,) = exports()
    assert entry.changes["filters"] == {"n": "3"}
    assert entry.changes["rows"] == 3 and entry.changes["kind"] == "t_contacts"


def test_over_the_per_request_cap_is_refused_not_truncated(test_exports, gov):
    response = gov.post(url("t_contacts", n=5), {"purpose": "政策宣传通知"})
    assert response.status_code == 403
    assert not hasattr(response, "streaming_content")  # a page, no file
    assert "超过每次导出含个人信息记录的上限（4 条）" in response.content.decode()
    assert exports() == []
    (refused,) = exports("export.refused")
    assert refused.changes["cap_per_request"] == 4 and refused.changes["filters"] == {"n": "5"}


def test_the_daily_cap_counts_what_was_exported_today(test_exports, gov):
    assert gov.post(url("t_contacts", n=4), {"purpose": "走访名单一"}).status_code == 200
    second = gov.post(url("t_contacts", n=3), {"purpose": "走访名单二"})
    assert second.status_code == 403
    assert "今天已导出含个人信息的记录 4 条，每日上限 6 条，今天还可导出 2 条" in (
        second.content.decode()
    )
    assert gov.post(url("t_contacts", n=2), {"purpose": "走访名单三"}).status_code == 200
    assert gov.post(url("t_contacts", n=1), {"purpose": "走访名单四"}).status_code == 403
    assert [e.changes["rows"] for e in exports()] == [4, 2]
    assert len(exports("export.refused")) == 2
    form = gov.get(url("t_contacts"))
    assert "今天已导出 6 条，还可导出 0 条" in form.content.decode()


def test_a_role_without_caps_cannot_export_personal_data(test_exports, gov, settings):
    settings.CHANRONG_EXPORT_CAPS = {}
    response = gov.post(url("t_contacts", n=1), {"purpose": "走访企业名单"})
    assert response.status_code == 403
    assert "你的角色不能导出含个人信息的表格" in response.content.decode()
    assert exports() == []


def test_an_export_without_personal_fields_downloads_at_once_and_is_audited(test_exports, gov):
    response = gov.get(url("t_plain", n=7))  # beyond the personal cap: not capped
    assert len(rows_of(response)) == 8
    (entry,) = exports()
    assert entry.changes["personal"] is False and entry.changes["rows"] == 7
    assert entry.changes["purpose"] == ""


def test_unknown_kind_is_a_404_and_anonymous_is_sent_to_sign_in(test_exports, world):
    client = Client()
    assert client.get(url("t_contacts")).status_code == 302
    client.force_login(world.user("gov_jiashan"))
    assert client.get(url("no_such_export")).status_code == 404
    assert client.put(url("t_contacts")).status_code == 405
