"""Lockout after repeated failed logins (LockoutModelBackend + LoginForm)."""

from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth import authenticate
from django.urls import reverse
from django.utils import timezone

from chanrong.accounts import services
from chanrong.accounts.models import LoginThrottle
from chanrong.core.models import AuditEntry
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

THRESHOLD = 3
WINDOW = 60
DURATION = 300


@pytest.fixture(autouse=True)
def policy(settings):
    settings.CHANRONG_LOCKOUT_THRESHOLD = THRESHOLD
    settings.CHANRONG_LOCKOUT_WINDOW = WINDOW
    settings.CHANRONG_LOCKOUT_DURATION = DURATION


class Clock:
    """A controllable timezone.now for everything (services, audit, sessions)."""

    def __init__(self):
        self.now = timezone.now()

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock():
    c = Clock()
    with mock.patch("django.utils.timezone.now", side_effect=lambda: c.now):
        yield c


def login(username, password):
    return authenticate(None, username=username, password=password)


def fail(username, times):
    for _ in range(times):
        assert login(username, "wrong-password") is None


def test_locks_at_threshold_and_refuses_even_the_right_password(world, clock):
    fail("ent_user", THRESHOLD - 1)
    assert not services.is_locked("ent_user")
    assert login("ent_user", PASSWORD) is not None  # below threshold: still fine

    fail("ent_user", THRESHOLD)
    assert services.is_locked("ent_user")
    assert login("ent_user", PASSWORD) is None
    clock.advance(DURATION - 1)
    assert login("ent_user", PASSWORD) is None


def test_unlocks_after_duration(world, clock):
    fail("ent_user", THRESHOLD)
    assert login("ent_user", PASSWORD) is None
    clock.advance(DURATION + 1)
    assert not services.is_locked("ent_user")
    assert login("ent_user", PASSWORD) is not None


def test_failures_outside_the_window_do_not_add_up(world, clock):
    for _ in range(THRESHOLD * 2):
        assert login("ent_user", "wrong-password") is None
        clock.advance(WINDOW / (THRESHOLD - 1) + 1)
    assert not services.is_locked("ent_user")
    assert login("ent_user", PASSWORD) is not None


def test_success_resets_the_counter(world, clock):
    fail("ent_user", THRESHOLD - 1)
    assert login("ent_user", PASSWORD) is not None
    assert not LoginThrottle.objects.filter(username="ent_user").exists()
    fail("ent_user", THRESHOLD - 1)
    assert not services.is_locked("ent_user")


def test_unknown_usernames_lock_like_known_ones(world, clock):
    fail("nobody-here", THRESHOLD)
    assert services.is_locked("nobody-here")
    assert LoginThrottle.objects.get(username="nobody-here").locked_until is not None


def test_lock_is_per_username(world, clock):
    fail("ent_user", THRESHOLD)
    assert login("ent2_user", PASSWORD) is not None


def test_failures_and_lock_are_audited_once_each(world, clock):
    before = AuditEntry.objects.count()
    fail("ent_user", THRESHOLD)
    login("ent_user", PASSWORD)  # refused while locked
    entries = list(AuditEntry.objects.filter(seq__gt=before).order_by("seq"))
    actions = [e.action for e in entries]
    assert actions == ["auth.login_failed"] * THRESHOLD + ["auth.locked", "auth.login_failed"]
    assert entries[-1].changes["reason"] == "locked"
    user = world.user("ent_user")
    assert all(e.object_type == "accounts.user" and e.object_id == str(user.pk) for e in entries)

    fail("ghost", 1)
    ghost = AuditEntry.objects.order_by("-seq").first()
    assert (ghost.action, ghost.object_type, ghost.changes["username"]) == (
        "auth.login_failed",
        "auth.username",
        "ghost",
    )


def test_login_page_says_the_account_is_locked(client, world, clock):
    url = reverse("accounts:login")
    for _ in range(THRESHOLD):
        response = client.post(url, {"username": "ent_user", "password": "wrong-password"})
        assert response.status_code == 200
    assert "暂时锁定" in response.content.decode()

    response = client.post(url, {"username": "ent_user", "password": PASSWORD})
    assert response.status_code == 200
    body = response.content.decode()
    assert "暂时锁定" in body
    assert "_auth_user_id" not in client.session

    clock.advance(DURATION + 1)
    response = client.post(url, {"username": "ent_user", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(world.user("ent_user").pk)


def test_wrong_password_message_is_not_the_lock_message(client, world):
    response = client.post(
        reverse("accounts:login"), {"username": "ent_user", "password": "wrong-password"}
    )
    body = response.content.decode()
    assert "用户名或密码不正确" in body
    assert "暂时锁定" not in body


def test_login_and_logout_are_audited_once(client, world):
    response = client.post(
        reverse("accounts:login"), {"username": "ent_user", "password": PASSWORD}
    )
    assert response.status_code == 302
    client.post(reverse("accounts:logout"))
    actions = list(
        AuditEntry.objects.filter(actor_name="ent_user")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["auth.login", "auth.logout"]
