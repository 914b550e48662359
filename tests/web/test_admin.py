"""The Django admin: every model registered, usable by platform admins only,
and every change through it audited."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from chanrong.core.models import AuditEntry
from chanrong.registry.models import Enterprise

pytestmark = pytest.mark.django_db

APPS = ("core", "accounts", "registry", "finance")
# 三权分立: pages the system administrator (superuser) may not open: the audit
# log is the audit administrator's, locks and password history the security
# administrator's.
NOT_FOR_THE_SYSTEM_ADMIN = {"core.AuditEntry", "accounts.LoginThrottle", "accounts.PasswordHistory"}


def test_every_model_is_registered():
    missing = [
        model._meta.label
        for label in APPS
        for model in apps.get_app_config(label).get_models()
        if not admin.site.is_registered(model)
    ]
    assert missing == []


def test_every_changelist_and_add_page_renders(world, login):
    client = login("admin")
    for label in APPS:
        for model in apps.get_app_config(label).get_models():
            opts = model._meta
            changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
            if opts.label in NOT_FOR_THE_SYSTEM_ADMIN:
                assert client.get(changelist).status_code == 403, changelist
                continue
            assert client.get(changelist).status_code == 200, changelist
            assert client.get(changelist, {"q": "嘉善"}).status_code == 200, changelist
            add = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
            assert client.get(add).status_code in (200, 403), add
    change = reverse("admin:registry_enterprise_change", args=[world.ent.pk])
    assert client.get(change).status_code == 200


def test_audit_log_is_read_only_in_admin(world, login):
    client = login("admin")
    assert client.get(reverse("admin:core_auditentry_add")).status_code == 403


def test_staff_flag_only_for_platform_admins(world, login):
    client = login("admin")
    user = world.user("gov_jiashan")
    url = reverse("admin:accounts_user_change", args=[user.pk])
    page = client.get(url)
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "password"}
    data.update(
        {
            "role": user.role,
            "agency": user.agency_id,
            "is_staff": "on",
            "is_active": "on",
            "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        }
    )
    for key in ("groups", "user_permissions", "last_login", "date_joined"):
        data.pop(key, None)
    response = client.post(url, data)
    assert response.status_code == 200
    assert "可以访问系统管理" in response.content.decode()
    user.refresh_from_db()
    assert not user.is_staff


def test_enterprise_change_in_admin_is_checked_and_audited(world, login):
    client = login("admin")
    url = reverse("admin:registry_enterprise_change", args=[world.ent.pk])
    data = {
        "uscc": world.ent.uscc,
        "name": "嘉善精工机械（集团）有限公司",
        "region": "330421",
        "industry": "C34",
        "employees": "1500",
        "revenue": "500000000",
        "assets": "",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    world.ent.refresh_from_db()
    assert world.ent.name == "嘉善精工机械（集团）有限公司"
    assert world.ent.size == "large"
    entry = AuditEntry.objects.filter(action="admin.enterprise.update").latest("seq")
    assert entry.actor_name == "admin"
    assert "name" in entry.changes
    bad = client.post(url, {**data, "uscc": "91330421000000001X", "region": "330400"})
    assert bad.status_code == 200
    errors = bad.context["adminform"].form.errors
    assert "uscc" in errors and "region" in errors
    assert Enterprise.objects.get(pk=world.ent.pk).region_id == "330421"


def test_admin_is_not_found_for_signed_in_users_who_are_not_staff(world, login, client):
    """/admin/ used to send a signed-in bank user to the login page, which sent
    them back to /admin/: a redirect loop in the browser. Now a 404; an
    anonymous visitor still goes to the platform's login page."""
    for name in ("bank_staff", "ent_user", "gov_jiashan"):
        response = login(name).get("/admin/", follow=True)
        assert response.status_code == 404, name
        assert len(response.redirect_chain) == 1  # to /admin/login/, which stops
    anonymous = client.get("/admin/", follow=True)
    assert anonymous.status_code == 200
    assert anonymous.redirect_chain[-1][0].startswith("/accounts/login/")
