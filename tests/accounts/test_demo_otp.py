"""The demo stays usable with the second factor on: privileged demo accounts
are enrolled with a secret the demo prints, and 三权分立 holds in it."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from chanrong.accounts.models import User
from chanrong.demo import services as demo

pytestmark = pytest.mark.django_db

PASSWORD = "Demo-password-for-tests-1"


def test_demo_enrols_privileged_accounts_and_prints_their_secrets(refdata_loaded, settings):
    settings.CHANRONG_DEMO_PASSWORD = PASSWORD
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CHANRONG_OTP_REQUIRED_ROLES = ["platform_admin", "security_admin", "gov_admin"]
    demo.build_demo(seed=11, scale=0.05)

    enrolled = set(
        TOTPDevice.objects.filter(confirmed=True).values_list("user__username", flat=True)
    )
    assert {"admin", "secadmin", "gov_jiashan"} <= enrolled
    assert "ent_user" not in enrolled and "auditor" not in enrolled
    secrets = dict(demo.account_otp_secrets())
    assert set(secrets) == enrolled

    out = StringIO()
    call_command("demo", "--if-missing", stdout=out)
    assert secrets["gov_jiashan"] in out.getvalue()

    # 三权分立 in the demo: one superuser, the system administrator.
    users = {
        u.username: u for u in User.objects.filter(username__in=["admin", "secadmin", "auditor"])
    }
    assert users["admin"].is_superuser and not users["secadmin"].is_superuser
    assert users["secadmin"].is_staff and not users["auditor"].is_staff

    # A visitor signs in with the printed secret in an authenticator app.
    c = Client()
    response = c.post(reverse("accounts:login"), {"username": "gov_jiashan", "password": PASSWORD})
    assert response.status_code == 302
    assert c.get(reverse("home"))["Location"].startswith(reverse("accounts:otp_verify"))
    import base64

    key = base64.b32decode(secrets["gov_jiashan"] + "=" * (-len(secrets["gov_jiashan"]) % 8))
    code = f"{TOTP(key).token():06d}"
    assert c.post(reverse("accounts:otp_verify"), {"token": code}).status_code == 302
    assert c.get(reverse("home")).status_code == 200
