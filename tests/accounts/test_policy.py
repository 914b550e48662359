"""Password, session and token policy (issue 15, finding 6) and 三权分立."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from chanrong.accounts import services
from chanrong.accounts.models import ApiToken, PasswordHistory, Role, User
from chanrong.accounts.signals import SESSION_AUTH_AT
from chanrong.core.models import AuditEntry
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

FINGERPRINT = "ab" * 32


# --- passwords -----------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    ["xiaoming88", "short1A!", "alllowercaseletters", "ent_user-2026"],
)
def test_weak_passwords_are_refused(world, password):
    with pytest.raises(ValidationError):
        validate_password(password, world.user("ent_user"))


def test_a_strong_password_passes(world):
    validate_password("Qiye-Caiwu-2026", world.user("ent_user"))


def test_the_last_five_passwords_cannot_come_back(world, settings):
    user = world.user("ent_user")
    used = [f"Rotation-{n}-Pass" for n in range(6)]
    for password in used:
        validate_password(password, user)
        user.set_password(password)
        user.save()
    assert PasswordHistory.objects.filter(user=user).count() == settings.CHANRONG_PASSWORD_HISTORY
    for recent in used[-5:]:
        with pytest.raises(ValidationError):
            validate_password(recent, user)
    validate_password(used[0], user)  # six changes ago: allowed again


def test_change_page_refuses_reuse_of_the_current_password(world):
    c = Client()
    c.force_login(world.user("ent_user"))
    response = c.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": PASSWORD, "new_password2": PASSWORD},
    )
    assert response.status_code == 200
    assert "最近" in response.content.decode()


def test_set_by_someone_else_must_be_changed_at_first_sign_in(world):
    user = world.user("bank_staff")
    services.change_password(world.user("admin"), user, "Reset-By-Admin-77")
    user.refresh_from_db()
    assert user.must_change_password
    c = Client()
    assert (
        c.post(
            reverse("accounts:login"), {"username": "bank_staff", "password": "Reset-By-Admin-77"}
        ).status_code
        == 302
    )
    response = c.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_change")
    page = c.get(reverse("accounts:password_change"))
    assert "由管理员设置" in page.content.decode()
    new = "Mine-Only-Pass-2026"
    done = c.post(
        reverse("accounts:password_change"),
        {"old_password": "Reset-By-Admin-77", "new_password1": new, "new_password2": new},
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert not user.must_change_password
    assert c.get(reverse("home")).status_code == 200


def test_an_expired_password_sends_the_user_to_change_it(world, settings):
    settings.CHANRONG_PASSWORD_MAX_AGE_DAYS = 90
    user = world.user("ent_user")
    User.objects.filter(pk=user.pk).update(password_changed_at=timezone.now() - timedelta(days=91))
    c = Client()
    c.force_login(user)
    response = c.get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == reverse(
        "accounts:password_change"
    )
    api = c.get("/api/v1/enterprises")
    assert api.status_code == 403 and api.json()["code"] == "password_change_required"
    settings.CHANRONG_PASSWORD_MAX_AGE_DAYS = 0
    assert c.get(reverse("home")).status_code == 200


# --- sessions ------------------------------------------------------------------


def test_idle_timeout_defaults_to_thirty_minutes():
    from chanrong import settings as project_settings

    assert project_settings.SESSION_COOKIE_AGE == 30 * 60
    assert project_settings.CHANRONG_SESSION_MAX_HOURS == 12


def test_a_session_ends_after_its_absolute_lifetime_however_active(world, settings):
    settings.CHANRONG_SESSION_MAX_HOURS = 12
    c = Client()
    c.force_login(world.user("ent_user"))
    assert c.get(reverse("home")).status_code == 200
    started = c.session[SESSION_AUTH_AT]
    with mock.patch("chanrong.accounts.middleware.time.time", return_value=started + 12 * 3600 + 1):
        response = c.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert "_auth_user_id" not in c.session


# --- tokens --------------------------------------------------------------------


def bearer(raw: str, **extra) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}", **extra}


def test_tokens_expire_after_the_configured_days(world, settings):
    settings.CHANRONG_TOKEN_DAYS = 30
    issued = services.create_token(None, world.user("bank_staff"), "script")
    lifetime = issued.token.expires_at - issued.token.created_at
    assert timedelta(days=30) - timedelta(minutes=1) < lifetime <= timedelta(days=30)
    assert services.authenticate_token(issued.raw) is not None
    later = timezone.now() + timedelta(days=31)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert services.authenticate_token(issued.raw) is None


def test_password_change_and_deactivation_revoke_every_token(world):
    staff = world.user("bank_staff")
    first = services.create_token(None, staff, "a")
    second = services.create_token(None, staff, "b")
    other = services.create_token(None, world.user("bank_manager"), "c")
    staff.set_password("Brand-New-Pass-2026")
    staff.save()
    assert services.authenticate_token(first.raw) is None
    assert services.authenticate_token(second.raw) is None
    assert services.authenticate_token(other.raw) is not None
    entry = AuditEntry.objects.get(action="token.revoke_all")
    assert entry.changes["reason"] == "password_change"
    assert set(entry.changes["prefixes"]) == {first.token.prefix, second.token.prefix}

    manager = world.user("bank_manager")
    manager.is_active = False
    manager.save()
    revoked = ApiToken.objects.get(pk=other.token.pk)
    assert revoked.revoked_at is not None and revoked.revoked_reason == "deactivated"


def test_a_hash_upgrade_on_login_is_not_a_password_change(world):
    staff = world.user("bank_staff")
    issued = services.create_token(None, staff, "a")
    staff.check_password(PASSWORD)  # may rehash; must not revoke
    staff.last_login = timezone.now()
    staff.save(update_fields=["last_login"])
    assert services.authenticate_token(issued.raw) is not None


def test_a_token_bound_to_a_client_certificate(world, settings):
    issued = services.create_token(
        None, world.user("bank_staff"), "core banking", client_cert_sha256=FINGERPRINT.upper()
    )
    assert issued.token.client_cert_sha256 == FINGERPRINT
    url = "/api/v1/enterprises"
    good = {"HTTP_X_SSL_CLIENT_VERIFY": "SUCCESS", "HTTP_X_SSL_CLIENT_FINGERPRINT": FINGERPRINT}

    settings.CHANRONG_MTLS_TRUSTED_PROXY = False  # headers from anyone count for nothing
    assert Client().get(url, **bearer(issued.raw, **good)).status_code == 401

    settings.CHANRONG_MTLS_TRUSTED_PROXY = True
    assert Client().get(url, **bearer(issued.raw)).status_code == 401
    assert (
        Client()
        .get(url, **bearer(issued.raw, **{**good, "HTTP_X_SSL_CLIENT_FINGERPRINT": "cd" * 32}))
        .status_code
        == 401
    )
    assert (
        Client()
        .get(url, **bearer(issued.raw, **{**good, "HTTP_X_SSL_CLIENT_VERIFY": "FAILED:x"}))
        .status_code
        == 401
    )
    colons = ":".join(FINGERPRINT[i : i + 2] for i in range(0, 64, 2)).upper()
    ok = Client().get(
        url, **bearer(issued.raw, **{**good, "HTTP_X_SSL_CLIENT_FINGERPRINT": colons})
    )
    assert ok.status_code == 200


def test_a_malformed_fingerprint_is_a_field_error(world):
    from chanrong.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as exc:
        services.create_token(None, world.user("bank_staff"), "x", client_cert_sha256="nothex")
    assert exc.value.as_dict()["errors"][0]["field"] == "client_cert_sha256"


# --- 三权分立 --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "flags"),
    [
        (Role.SECURITY_ADMIN, {"is_superuser": True}),
        (Role.AUDIT_ADMIN, {"is_staff": True}),
        (Role.AUDIT_ADMIN, {"is_superuser": True}),
        (Role.GOV_ADMIN, {"is_staff": True}),
    ],
)
def test_no_account_holds_two_of_the_separated_powers(world, role, flags):
    org = {"agency": world.gov_jiashan} if role == Role.GOV_ADMIN else {}
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username=f"x-{role}", role=role, **org, **flags)


def test_the_separated_roles_exist_without_an_organisation(world):
    User.objects.create(username="sec", role=Role.SECURITY_ADMIN, is_staff=True)
    User.objects.create(username="aud", role=Role.AUDIT_ADMIN)
    assert User.objects.get(username="aud").is_audit_admin
    assert not world.user("admin").is_audit_admin


def test_only_the_audit_admin_sees_the_audit_menu(world):
    from chanrong.core.context_processors import nav_entries

    auditor = User.objects.create(username="aud", role=Role.AUDIT_ADMIN)
    assert "audit" in [key for key, _label, _url in nav_entries(auditor)]
    for name in ("admin", "gov_national", "gov_jiashan"):
        assert "audit" not in [key for key, _label, _url in nav_entries(world.user(name))]


def test_token_page_binds_a_certificate_and_lists_expiry(world):
    c = Client()
    c.force_login(world.user("bank_manager"))
    colons = ":".join(FINGERPRINT[i : i + 2] for i in range(0, 64, 2))
    bad = c.post(
        reverse("accounts:token_create"),
        {"name": "core", "owner": world.user("bank_manager").pk, "client_cert_sha256": "zz"},
    )
    assert bad.status_code == 200 and not ApiToken.objects.exists()
    done = c.post(
        reverse("accounts:token_create"),
        {"name": "core", "owner": world.user("bank_manager").pk, "client_cert_sha256": colons},
    )
    assert done.status_code == 200
    assert ApiToken.objects.get().client_cert_sha256 == FINGERPRINT
    page = c.get(reverse("accounts:tokens")).content.decode()
    assert "已绑定客户端证书" in page
