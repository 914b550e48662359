"""Administrator changes through /admin/ are audited (issue 15: 安全审计 of
administrator actions): every add, change and delete, with a diff, for the
admins this project declares and for those other packages register (auth's
groups), plus admin actions with the rows they ran on."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from chanrong.accounts import services as accounts
from chanrong.core.admin import AuditedModelAdmin, ReadOnlyModelAdmin
from chanrong.core.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(world):
    """login(username) -> a Client signed in as that `world` user."""

    def make(username: str) -> Client:
        client = Client()
        client.force_login(world.user(username))
        return client

    return make


def test_every_registered_admin_is_audited_or_read_only():
    unaudited = [
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if not isinstance(model_admin, AuditedModelAdmin | ReadOnlyModelAdmin)
    ]
    assert unaudited == []
    # auth's GroupAdmin keeps its own behaviour, audited on top.
    group_admin = admin.site._registry[Group]
    assert type(group_admin).__name__ == "AuditedGroupAdmin"


def test_group_add_change_delete_through_admin_are_audited_with_a_diff(world, login):
    client = login("admin")
    perm = Permission.objects.get(codename="view_group")
    response = client.post(
        reverse("admin:auth_group_add"), {"name": "审计员", "permissions": [perm.pk]}
    )
    assert response.status_code == 302, response.content.decode()[:1000]
    group = Group.objects.get(name="审计员")
    created = AuditEntry.objects.get(action="admin.group.create")
    assert created.actor_name == "admin"
    assert created.object_type == "auth.group" and created.object_id == str(group.pk)
    assert created.changes["name"] == [None, "审计员"]
    assert created.changes["permissions"][1] == [perm.pk]

    response = client.post(
        reverse("admin:auth_group_change", args=[group.pk]),
        {"name": "审计管理员", "permissions": []},
    )
    assert response.status_code == 302
    updated = AuditEntry.objects.get(action="admin.group.update")
    assert updated.changes["name"] == ["审计员", "审计管理员"]
    assert updated.changes["permissions"] == [[perm.pk], []]

    response = client.post(reverse("admin:auth_group_delete", args=[group.pk]), {"post": "yes"})
    assert response.status_code == 302
    deleted = AuditEntry.objects.get(action="admin.group.delete")
    assert deleted.object_id == str(group.pk) and deleted.object_repr == "审计管理员"
    assert not Group.objects.filter(pk=group.pk).exists()


def test_bulk_delete_from_the_changelist_records_each_row(world, login):
    client = login("admin")
    groups = [Group.objects.create(name=f"组{i}") for i in range(3)]
    url = reverse("admin:auth_group_changelist")
    selected = [str(g.pk) for g in groups[:2]]
    confirm = client.post(
        url, {"action": "delete_selected", helpers.ACTION_CHECKBOX_NAME: selected}
    )
    assert confirm.status_code == 200  # the confirmation page: nothing deleted or recorded yet
    assert not AuditEntry.objects.filter(action__startswith="admin.group.").exists()
    done = client.post(
        url,
        {"action": "delete_selected", helpers.ACTION_CHECKBOX_NAME: selected, "post": "yes"},
    )
    assert done.status_code == 302
    recorded = set(
        AuditEntry.objects.filter(action="admin.group.delete").values_list("object_id", flat=True)
    )
    assert recorded == set(selected)
    assert Group.objects.filter(pk=groups[2].pk).exists()


def test_an_admin_action_is_recorded_with_its_rows(world, login):
    client = login("admin")
    issued = accounts.create_token(world.user("bank_manager"), world.user("bank_staff"), "信贷系统")
    token = issued.token
    response = client.post(
        reverse("admin:accounts_apitoken_changelist"),
        {"action": "revoke_selected", helpers.ACTION_CHECKBOX_NAME: [str(token.pk)]},
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="admin.apitoken.action")
    assert entry.actor_name == "admin"
    assert entry.changes == {"action": "revoke_selected", "selected": [str(token.pk)], "count": 1}


def test_a_refused_admin_change_records_nothing(world, login):
    client = login("admin")
    before = AuditEntry.objects.count()
    response = client.post(reverse("admin:auth_group_add"), {"name": ""})
    assert response.status_code == 200  # the form again, with its error
    assert AuditEntry.objects.count() == before
