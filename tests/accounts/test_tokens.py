"""API tokens: command line, service, and web pages."""

from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from chanrong.accounts import services
from chanrong.accounts.models import ApiToken
from chanrong.core.errors import NotAllowed
from chanrong.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def run_token(*args) -> str:
    out = StringIO()
    call_command("token", *args, stdout=out)
    return out.getvalue()


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


# --- command line -------------------------------------------------------


def test_create_prints_the_token_alone_on_the_last_line(world):
    output = run_token("create", "bank_staff", "--name", "信贷系统")
    raw = output.rstrip("\n").splitlines()[-1]
    assert raw.startswith("crt_")
    assert raw == raw.strip() and " " not in raw
    token = ApiToken.objects.get(user=world.user("bank_staff"))
    assert token.name == "信贷系统"
    assert services.authenticate_token(raw) == world.user("bank_staff")


def test_only_the_hash_is_stored(world):
    raw = run_token("create", "bank_staff").splitlines()[-1]
    token = ApiToken.objects.get()
    assert token.token_hash == services.hash_token(raw)
    assert raw not in token.token_hash
    assert raw.startswith(token.prefix) and len(token.prefix) < len(raw) // 3
    stored = [
        str(v) for v in ApiToken.objects.values_list(*[f.attname for f in ApiToken._meta.fields])[0]
    ]
    assert all(raw not in value for value in stored)
    # nor in the audit log
    assert not any(raw in str(e.changes) for e in AuditEntry.objects.all())


def test_create_unknown_user_is_a_command_error(world):
    with pytest.raises(CommandError):
        run_token("create", "no-such-user")
    assert not ApiToken.objects.exists()


def test_revoke_by_prefix_and_by_id(world):
    raw1 = run_token("create", "bank_staff").splitlines()[-1]
    raw2 = run_token("create", "bank_staff").splitlines()[-1]
    t1 = ApiToken.objects.get(token_hash=services.hash_token(raw1))
    t2 = ApiToken.objects.get(token_hash=services.hash_token(raw2))
    run_token("revoke", t1.prefix)
    run_token("revoke", str(t2.pk))
    assert services.authenticate_token(raw1) is None
    assert services.authenticate_token(raw2) is None
    with pytest.raises(CommandError):
        run_token("revoke", "crt_zzzzzz-not-there")


# --- service ------------------------------------------------------------


def test_authenticate_token_updates_last_used_and_refuses_revoked(world):
    staff = world.user("bank_staff")
    issued = services.create_token(staff, staff, "脚本")
    assert issued.token.last_used_at is None
    assert services.authenticate_token(issued.raw) == staff
    issued.token.refresh_from_db()
    first_use = issued.token.last_used_at
    assert first_use is not None

    later = timezone.now() + services.LAST_USED_GRANULARITY + timedelta(seconds=5)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert services.authenticate_token(issued.raw) == staff
    issued.token.refresh_from_db()
    assert issued.token.last_used_at == later

    services.revoke_token(staff, issued.token)
    assert services.authenticate_token(issued.raw) is None


def test_authenticate_token_refuses_garbage_and_inactive_users(world):
    staff = world.user("bank_staff")
    issued = services.create_token(None, staff, "x")
    assert services.authenticate_token("") is None
    assert services.authenticate_token("crt_" + "a" * 40) is None
    assert services.authenticate_token(issued.raw[4:]) is None
    assert services.authenticate_token("crt_" + "a" * 500) is None
    staff.is_active = False
    staff.save()
    assert services.authenticate_token(issued.raw) is None


def test_tokens_visible_to_is_the_one_rule(world):
    u = world.user
    own = services.create_token(None, u("bank_staff"), "staff").token
    mgr = services.create_token(None, u("bank_manager"), "manager").token
    other = services.create_token(None, u("bank2_staff"), "other bank").token
    ent = services.create_token(None, u("ent_user"), "ent").token

    def visible(name):
        return set(services.tokens_visible_to(u(name)))

    assert visible("admin") == {own, mgr, other, ent}
    assert visible("bank_manager") == {own, mgr}
    assert visible("bank_staff") == {own}
    assert visible("bank2_staff") == {other}
    assert visible("ent_user") == {ent}
    assert visible("gov_national") == set()
    for token in services.tokens_visible_to(u("bank_manager")):
        assert services.can_manage_tokens_of(u("bank_manager"), token.user)


def test_staff_cannot_issue_or_revoke_for_others(world):
    u = world.user
    with pytest.raises(NotAllowed):
        services.create_token(u("bank_staff"), u("bank_manager"), "x")
    token = services.create_token(None, u("bank_manager"), "x").token
    with pytest.raises(NotAllowed):
        services.revoke_token(u("bank2_staff"), token)
    with pytest.raises(NotAllowed):
        services.create_token(u("bank_manager"), u("bank2_staff"), "x")


# --- web ----------------------------------------------------------------


def test_manager_creates_a_token_for_staff_and_sees_it_once(world):
    manager, staff = world.user("bank_manager"), world.user("bank_staff")
    c = client_for(manager)
    page = c.get(reverse("accounts:token_create"))
    assert page.status_code == 200
    assert "bank2_staff" not in page.content.decode()  # other institutions are not offered

    response = c.post(reverse("accounts:token_create"), {"name": "信贷系统", "owner": staff.pk})
    assert response.status_code == 200
    raw = response.context["raw_token"]
    assert raw.startswith("crt_") and raw in response.content.decode()
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get(user=staff)
    assert token.created_by == manager
    assert services.authenticate_token(raw) == staff

    listing = c.get(reverse("accounts:tokens")).content.decode()
    assert token.prefix in listing and "信贷系统" in listing
    assert raw not in listing
    assert raw not in c.get(reverse("accounts:token_revoke", args=[token.pk])).content.decode()


def test_user_sees_only_own_tokens_and_cannot_pick_another_owner(world):
    staff, manager = world.user("bank_staff"), world.user("bank_manager")
    services.create_token(None, manager, "经理的令牌")
    c = client_for(staff)
    assert "经理的令牌" not in c.get(reverse("accounts:tokens")).content.decode()
    response = c.post(reverse("accounts:token_create"), {"name": "x", "owner": manager.pk})
    assert response.status_code == 200
    assert "raw_token" not in response.context
    assert not ApiToken.objects.filter(user=manager, name="x").exists()
    response = c.post(reverse("accounts:token_create"), {"name": "mine", "owner": staff.pk})
    assert response.context["raw_token"].startswith("crt_")


def test_revoke_needs_confirmation_and_post(world):
    manager, staff = world.user("bank_manager"), world.user("bank_staff")
    issued = services.create_token(None, staff, "to revoke")
    c = client_for(manager)
    url = reverse("accounts:token_revoke", args=[issued.token.pk])
    confirm = c.get(url)
    assert confirm.status_code == 200 and "确认吊销" in confirm.content.decode()
    issued.token.refresh_from_db()
    assert issued.token.revoked_at is None  # GET changes nothing

    response = c.post(url)
    assert response.status_code == 302 and response["Location"] == reverse("accounts:tokens")
    issued.token.refresh_from_db()
    assert issued.token.revoked_at is not None
    assert services.authenticate_token(issued.raw) is None
    assert AuditEntry.objects.filter(action="token.revoke", actor_name="bank_manager").count() == 1
    c.post(url)  # again: idempotent, no second audit entry
    assert AuditEntry.objects.filter(action="token.revoke").count() == 1


def test_revoke_requires_csrf(world):
    staff = world.user("bank_staff")
    issued = services.create_token(None, staff, "csrf")
    c = Client(enforce_csrf_checks=True)
    c.force_login(staff)
    response = c.post(reverse("accounts:token_revoke", args=[issued.token.pk]))
    assert response.status_code == 403
    issued.token.refresh_from_db()
    assert issued.token.revoked_at is None


def test_other_institution_gets_404(world):
    staff = world.user("bank_staff")
    issued = services.create_token(None, staff, "not yours")
    url = reverse("accounts:token_revoke", args=[issued.token.pk])
    for outsider in ("bank2_staff", "ent_user", "gov_national"):
        c = client_for(world.user(outsider))
        assert c.get(url).status_code == 404
        assert c.post(url).status_code == 404
        assert "not yours" not in c.get(reverse("accounts:tokens")).content.decode()
    issued.token.refresh_from_db()
    assert issued.token.revoked_at is None
    # a colleague without the manager role cannot either
    services.create_token(None, world.user("bank_manager"), "mgr")
    mgr_token = ApiToken.objects.get(name="mgr")
    assert (
        client_for(staff).post(reverse("accounts:token_revoke", args=[mgr_token.pk])).status_code
        == 404
    )


def test_token_pages_need_login(client, world):
    response = client.get(reverse("accounts:tokens"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]
