"""The account policy (password age, second factor, session lifetime) is
skipped only for what it cannot guard: an API request with a bearer token,
which django-ninja authenticates by the token alone (or answers 401), never
by the session. Any other Authorization header (Basic from a proxy in front,
a stray value) leaves the browser session's policy in force, on pages and
on the API alike; before, any Authorization header at all skipped it, while
the API fell back to the session for a non-Bearer scheme."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from chanrong.accounts.models import User
from chanrong.accounts.services import create_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def expired(world, settings) -> Client:
    """A signed-in session whose password is past its maximum age."""
    settings.CHANRONG_PASSWORD_MAX_AGE_DAYS = 90
    user = world.user("ent_user")
    User.objects.filter(pk=user.pk).update(password_changed_at=timezone.now() - timedelta(days=91))
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "x", "Token abc", "bearer"])
def test_a_page_keeps_the_policy_whatever_authorization_header_comes_with_it(expired, header):
    response = expired.get(reverse("home"), headers={"Authorization": header})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_change")


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "x", "Token abc"])
def test_the_api_keeps_the_policy_for_a_session_with_another_scheme(expired, header):
    response = expired.get("/api/v1/enterprises", headers={"Authorization": header})
    assert response.status_code == 403
    assert response.json()["code"] == "password_change_required"


def test_a_bearer_token_on_the_api_is_the_tokens_own_policy(world, expired):
    token = create_token(None, world.user("bank_staff"), "tests").raw
    response = expired.get("/api/v1/enterprises", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    wrong = expired.get("/api/v1/enterprises", headers={"Authorization": "Bearer crt_wrong"})
    assert wrong.status_code == 401  # never the session's user instead
