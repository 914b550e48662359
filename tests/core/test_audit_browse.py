"""Browsing the audit log: who sees which entries, filters, pagination.

三权分立 (issue 15): the log is the audit administrator's alone; the system
administrator (platform admin) and government admins get a 404 like everyone."""

from datetime import datetime
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from chanrong.accounts.models import User
from chanrong.core import audit
from chanrong.core.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor(world):
    from chanrong.accounts.models import Role, User

    return User.objects.create(username="auditor", role=Role.AUDIT_ADMIN, display_name="审计")


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def entries(world):
    """One entry per situation the visibility rule distinguishes, by name."""
    AuditEntry.objects.all().delete()  # force_login elsewhere adds auth.login rows
    u = world.user
    made = {
        "ent_user_acts": audit.record("test.ent", actor=u("ent_user"), obj=world.ent),
        "jiashan_branch_staff": audit.record("test.bank", actor=u("bank_staff")),
        "beijing_bank_on_suzhou_ent": audit.record(
            "test.bank", actor=u("bank2_staff"), obj=world.ent_js
        ),
        "jiangsu_gov_acts": audit.record("test.gov", actor=u("gov_jiangsu")),
        "zhejiang_gov_acts": audit.record("test.gov", actor=u("gov_zhejiang")),
        "failed_login_on_jiashan_user": audit.record(
            "auth.login_failed", obj=u("ent2_user"), changes={"username": "ent2_user"}
        ),
        "unknown_username": audit.record(
            "auth.login_failed", object_type="auth.username", object_repr="ghost"
        ),
        "platform_admin_acts": audit.record("test.admin", actor=u("admin")),
        "admin_on_jiashan_ent": audit.record(
            "registry.update", actor=u("admin"), obj=world.ent2, changes={"name": ["a", "b"]}
        ),
    }
    return made


def visible(world, username, entries) -> set[str]:
    user = world.user(username) if username in world.users else User.objects.get(username=username)
    seqs = set(AuditEntry.objects.visible_to(user).values_list("seq", flat=True))
    return {name for name, e in entries.items() if e.seq in seqs}


def test_visible_to_per_role(world, entries, auditor):
    assert visible(world, "auditor", entries) == set(entries)
    for nobody in (
        "admin",
        "gov_national",
        "gov_zhejiang",
        "gov_jiashan",
        "gov_jiashan_staff",
        "bank_manager",
        "bank_staff",
        "ent_user",
    ):
        assert visible(world, nobody, entries) == set()


def test_audit_pages_are_404_for_everyone_but_the_audit_admin(world, entries):
    some = entries["ent_user_acts"]
    for name in (
        "admin",
        "gov_national",
        "gov_jiashan",
        "gov_jiashan_staff",
        "bank_manager",
        "bank2_staff",
        "ent_user",
    ):
        c = client_for(world.user(name))
        assert c.get(reverse("core:audit")).status_code == 404
        assert c.get(reverse("core:audit_detail", args=[some.seq])).status_code == 404


def test_anonymous_is_sent_to_login(client, world):
    response = client.get(reverse("core:audit"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_list_shows_every_entry_to_the_audit_admin(world, entries, auditor):
    c = client_for(auditor)
    response = c.get(reverse("core:audit"))
    assert response.status_code == 200
    shown = {e.seq for e in response.context["page_obj"].object_list}
    assert shown == set(AuditEntry.objects.values_list("seq", flat=True))
    assert {e.seq for e in entries.values()} <= shown


def test_detail_is_the_audit_admins_and_shows_changes_escaped(world, entries, auditor):
    target = audit.record(
        "registry.update",
        actor=world.user("ent_user"),
        obj=world.ent,
        changes={"name": ["旧名称", "<script>alert(1)</script>"]},
    )
    response = client_for(auditor).get(reverse("core:audit_detail", args=[target.seq]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "旧名称" in body
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body
    assert target.hash in body

    jiashan = client_for(world.user("gov_jiashan"))
    assert jiashan.get(reverse("core:audit_detail", args=[target.seq])).status_code == 404
    assert client_for(auditor).get(reverse("core:audit_detail", args=[999999])).status_code == 404


def test_filters(world, entries, auditor):
    c = client_for(auditor)

    def seqs(**params):
        response = c.get(reverse("core:audit"), params)
        assert response.status_code == 200
        return {e.seq for e in response.context["page_obj"].object_list}

    assert seqs(action="test.gov") == {
        entries["jiangsu_gov_acts"].seq,
        entries["zhejiang_gov_acts"].seq,
    }
    assert seqs(action="auth.login_") == {
        entries["failed_login_on_jiashan_user"].seq,
        entries["unknown_username"].seq,
    }
    assert seqs(actor="bank2") == {entries["beijing_bank_on_suzhou_ent"].seq}
    assert seqs(object_type="registry.enterprise") == {
        entries["ent_user_acts"].seq,
        entries["beijing_bank_on_suzhou_ent"].seq,
        entries["admin_on_jiashan_ent"].seq,
    }
    assert seqs(object_type="registry.enterprise", actor="admin") == {
        entries["admin_on_jiashan_ent"].seq
    }


def test_date_filter_uses_whole_local_days(world, auditor):
    def at(text):
        return timezone.make_aware(datetime.fromisoformat(text))

    made = {}
    for label, moment in [
        ("before", "2026-03-01 23:59:59"),
        ("first_minute", "2026-03-02 00:00:00"),
        ("last_minute", "2026-03-03 23:59:59"),
        ("after", "2026-03-04 00:00:00"),
    ]:
        with mock.patch("django.utils.timezone.now", return_value=at(moment)):
            made[label] = audit.record("test.dated", actor=world.user("admin")).seq
    c = client_for(auditor)
    response = c.get(
        reverse("core:audit"),
        {"action": "test.dated", "date_from": "2026-03-02", "date_to": "2026-03-03"},
    )
    shown = {e.seq for e in response.context["page_obj"].object_list}
    assert shown == {made["first_minute"], made["last_minute"]}


def test_bad_filter_input_is_a_form_error_not_a_500(world, entries, auditor):
    c = client_for(auditor)
    for params in (
        {"date_from": "not-a-date"},
        {"date_from": "2026-03-05", "date_to": "2026-03-01"},
        {"page": "abc"},
        {"page": "-3"},
        {"action": "x" * 500},
    ):
        assert c.get(reverse("core:audit"), params).status_code == 200


def test_pagination_newest_first_fifty_per_page(world, auditor):
    AuditEntry.objects.all().delete()
    admin = world.user("admin")
    for i in range(62):
        audit.record("test.page", actor=admin, object_id=i)
    c = client_for(auditor)
    first = c.get(reverse("core:audit"), {"action": "test.page"})
    rows = [e.seq for e in first.context["page_obj"].object_list]
    assert len(rows) == 50
    assert rows == sorted(rows, reverse=True)
    newest = AuditEntry.objects.filter(action="test.page").order_by("-seq").first().seq
    assert rows[0] == newest
    assert "page=2" in first.content.decode() and "action=test.page" in first.content.decode()
    second = c.get(reverse("core:audit"), {"action": "test.page", "page": 2})
    rest = [e.seq for e in second.context["page_obj"].object_list]
    assert len(rest) == 12
    assert max(rest) < min(rows)


def test_an_entry_not_yet_sealed_is_listed_without_a_number(world, auditor):
    admin = client_for(auditor)  # logging in is audited: before the pending entry
    sealed = audit.record("test.sealed", actor=world.user("admin"))
    pending = audit.entry("test.pending_<b>", actor=world.user("admin"))
    pending.save(force_insert=True)  # as record() leaves it while another writer holds the chain
    response = admin.get(reverse("core:audit"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "待封存" in page
    assert "test.pending_&lt;b&gt;" in page
    assert reverse("core:audit_detail", args=[sealed.seq]) in page


def test_the_audit_admin_exports_the_filtered_log_and_the_export_is_audited(
    world, entries, auditor
):
    import io

    from openpyxl import load_workbook

    assert client_for(world.user("admin")).get(reverse("core:audit_export")).status_code == 404
    response = client_for(auditor).get(reverse("core:audit_export"), {"action": "test.gov"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    seqs = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True) if row[0]}
    assert seqs == {entries["jiangsu_gov_acts"].seq, entries["zhejiang_gov_acts"].seq}
    export = AuditEntry.objects.get(action="audit.export")
    assert export.actor_name == "auditor" and export.changes["rows"] == 2
