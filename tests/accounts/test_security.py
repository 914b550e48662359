"""Passwords, sessions, and the production security settings."""

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from chanrong.core.models import AuditEntry
from tests.conftest import PASSWORD

PROJECT_DIR = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_passwords_are_stored_with_argon2(world):
    user = world.user("ent_user")
    assert user.password.startswith("argon2")
    assert PASSWORD not in user.password


@pytest.mark.django_db
def test_session_expires_after_session_cookie_age(world):
    assert settings.SESSION_COOKIE_AGE > 0
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    c = Client()
    response = c.post(reverse("accounts:login"), {"username": "ent_user", "password": PASSWORD})
    assert response.status_code == 302
    assert c.get(reverse("home")).status_code == 200

    # Idle for just under the limit: still in (and the sliding expiry renews it).
    soon = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)
    with mock.patch("django.utils.timezone.now", return_value=soon):
        assert c.get(reverse("home")).status_code == 200

    # Idle for longer than the limit: the session is no longer accepted.
    late = soon + timedelta(seconds=settings.SESSION_COOKIE_AGE + 1)
    with mock.patch("django.utils.timezone.now", return_value=late):
        response = c.get(reverse("home"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


@pytest.mark.django_db
def test_password_change_is_audited_and_takes_effect(world):
    user = world.user("ent_user")
    c = Client()
    c.force_login(user)
    url = reverse("accounts:password_change")
    assert c.get(url).status_code == 200
    bad = c.post(
        url,
        {"old_password": "wrong", "new_password1": "x", "new_password2": "y"},
    )
    assert bad.status_code == 200
    assert not AuditEntry.objects.filter(action="auth.password_change").exists()

    new = "Another-strong-pass-2026"
    response = c.post(url, {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_change_done")
    assert c.get(reverse("home")).status_code == 200  # still signed in
    user.refresh_from_db()
    assert user.check_password(new) and user.password.startswith("argon2")
    entry = AuditEntry.objects.get(action="auth.password_change")
    assert entry.actor_id == user.pk
    assert new not in json.dumps(entry.changes)


def _settings_in_subprocess(extra_env: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHANRONG_")}
    env.update(extra_env)
    code = (
        "import json, chanrong.settings as s; print(json.dumps({k: getattr(s, k, None) for k in "
        "['SESSION_COOKIE_SECURE','CSRF_COOKIE_SECURE','SECURE_SSL_REDIRECT','SECURE_HSTS_SECONDS',"
        "'SECURE_HSTS_INCLUDE_SUBDOMAINS','SESSION_COOKIE_HTTPONLY','DEBUG','SECRET_KEY']}))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_turns_on_secure_cookies_and_hsts():
    result = _settings_in_subprocess(
        {"CHANRONG_ENV": "production", "CHANRONG_SECRET_KEY": "a-real-secret-for-this-test-only"}
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["DEBUG"] is False
    assert values["SECRET_KEY"] == "a-real-secret-for-this-test-only"


def test_production_refuses_to_start_without_a_secret_key():
    result = _settings_in_subprocess({"CHANRONG_ENV": "production"})
    assert result.returncode != 0
    assert "CHANRONG_SECRET_KEY" in result.stderr


def test_development_does_not_force_secure_cookies():
    result = _settings_in_subprocess({"CHANRONG_ENV": "development"})
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert not values["SESSION_COOKIE_SECURE"]
