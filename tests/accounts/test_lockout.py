"""Login throttling (services/throttle.py): locks per (account, address) pair
and per address, never one anyone can put on somebody else's account."""

from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth import authenticate
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from chanrong.accounts import services
from chanrong.accounts.models import LoginThrottle, ThrottleScope
from chanrong.core.errors import NotAllowed
from chanrong.core.models import AuditEntry
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

THRESHOLD = 3
ADDRESS_THRESHOLD = 6
WINDOW = 60
DURATION = 300
HOME = "10.0.0.1"
ELSEWHERE = "10.0.0.2"


@pytest.fixture(autouse=True)
def policy(settings):
    settings.CHANRONG_LOCKOUT_THRESHOLD = THRESHOLD
    settings.CHANRONG_LOCKOUT_ADDRESS_THRESHOLD = ADDRESS_THRESHOLD
    settings.CHANRONG_LOCKOUT_ACCOUNT_THRESHOLD = 0
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


def login(username, password, ip=HOME):
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR=ip)
    return authenticate(request, username=username, password=password)


def fail(username, times, ip=HOME):
    for _ in range(times):
        assert login(username, "wrong-password", ip) is None


def test_locks_the_pair_at_threshold_and_refuses_even_the_right_password(world, clock):
    fail("ent_user", THRESHOLD - 1)
    assert not services.is_locked("ent_user", HOME)
    assert login("ent_user", PASSWORD) is not None  # below threshold: still fine

    fail("ent_user", THRESHOLD)
    assert services.is_locked("ent_user", HOME)
    assert login("ent_user", PASSWORD) is None
    clock.advance(DURATION - 1)
    assert login("ent_user", PASSWORD) is None


def test_the_owner_elsewhere_is_not_locked_out(world, clock):
    """The finding: anyone could lock `admin` for 15 minutes. Now the lock
    is on the attacker's (account, address) pair only."""
    fail("admin", THRESHOLD, ip=ELSEWHERE)
    assert services.is_locked("admin", ELSEWHERE)
    assert not services.is_locked("admin", HOME)
    assert login("admin", PASSWORD, ip=HOME) is not None


def test_one_address_cannot_walk_a_list_of_usernames(world, clock):
    """The finding: 25 usernames from one address all got 'wrong password'."""
    for n in range(ADDRESS_THRESHOLD):
        fail(f"user{n}", 1, ip=ELSEWHERE)
    assert services.is_locked("ent_user", ELSEWHERE)  # a username never tried
    assert login("ent_user", PASSWORD, ip=ELSEWHERE) is None
    assert login("ent_user", PASSWORD, ip=HOME) is not None
    row = LoginThrottle.objects.get(scope=ThrottleScope.ADDRESS, key=ELSEWHERE)
    assert row.locked_until is not None


def test_an_account_wide_lock_only_when_configured(world, clock, settings):
    settings.CHANRONG_LOCKOUT_ACCOUNT_THRESHOLD = 2 * THRESHOLD
    for n in range(2 * THRESHOLD):
        fail("ent_user", 1, ip=f"10.1.0.{n}")
    assert services.is_locked("ent_user", HOME)
    settings.CHANRONG_LOCKOUT_ACCOUNT_THRESHOLD = 0
    assert not services.is_locked("ent_user", HOME)


def test_unlocks_after_duration(world, clock):
    fail("ent_user", THRESHOLD)
    assert login("ent_user", PASSWORD) is None
    clock.advance(DURATION + 1)
    assert not services.is_locked("ent_user", HOME)
    assert login("ent_user", PASSWORD) is not None


def test_failures_outside_the_window_do_not_add_up(world, clock):
    for _ in range(THRESHOLD * 2):
        assert login("ent_user", "wrong-password") is None
        clock.advance(WINDOW / (THRESHOLD - 1) + 1)
    assert not services.is_locked("ent_user", HOME)
    assert login("ent_user", PASSWORD) is not None


def test_success_resets_the_pair_not_the_address(world, clock):
    fail("ent_user", THRESHOLD - 1)
    assert login("ent_user", PASSWORD) is not None
    assert not LoginThrottle.objects.filter(scope=ThrottleScope.PAIR).exists()
    fail("ent_user", THRESHOLD - 1)
    assert not services.is_locked("ent_user", HOME)
    # One valid account does not wipe the address's count of guesses.
    address = LoginThrottle.objects.get(scope=ThrottleScope.ADDRESS, key=HOME)
    assert address.failures == 2 * (THRESHOLD - 1)


def test_unknown_usernames_lock_like_known_ones(world, clock):
    fail("nobody-here", THRESHOLD)
    assert services.is_locked("nobody-here", HOME)
    pair = LoginThrottle.objects.get(scope=ThrottleScope.PAIR, key=f"nobody-here|{HOME}")
    assert pair.locked_until is not None


def test_failures_are_audited_coalesced_per_address_and_minute(world, clock):
    before = AuditEntry.objects.count()
    fail("ent_user", THRESHOLD)
    login("ent_user", PASSWORD)  # refused while locked
    entries = list(AuditEntry.objects.filter(seq__gt=before).order_by("seq"))
    # One failure entry for the minute (not one per attempt), and the lock.
    assert [e.action for e in entries] == ["auth.login_failed", "auth.locked"]
    user = world.user("ent_user")
    assert all(e.object_type == "accounts.user" and e.object_id == str(user.pk) for e in entries)
    assert entries[1].changes["scope"] == "pair"

    clock.advance(61)
    fail("ghost", 1)
    ghost = AuditEntry.objects.order_by("-seq").first()
    assert (ghost.action, ghost.object_type, ghost.changes["username"]) == (
        "auth.login_failed",
        "auth.username",
        "ghost",
    )
    # The attempts folded into the minute before are counted, not lost.
    assert ghost.changes["unrecorded_before"] == THRESHOLD


def test_a_flood_does_not_fill_the_audit_log(world, clock, settings):
    settings.CHANRONG_LOCKOUT_ADDRESS_THRESHOLD = 1000
    settings.CHANRONG_LOCKOUT_THRESHOLD = 1000
    before = AuditEntry.objects.count()
    for n in range(40):
        fail(f"u{n}", 1)
    assert AuditEntry.objects.filter(seq__gt=before, action="auth.login_failed").count() == 1


def test_security_admin_unlocks_and_it_is_audited(world, clock):
    from chanrong.accounts.models import Role, User

    fail("ent_user", THRESHOLD)
    sec = User.objects.create(username="sec", role=Role.SECURITY_ADMIN, is_staff=True)
    pair = LoginThrottle.objects.get(scope=ThrottleScope.PAIR)
    with pytest.raises(NotAllowed):
        services.unlock(world.user("admin"), pair)
    services.unlock(sec, pair)
    assert login("ent_user", PASSWORD) is not None
    assert AuditEntry.objects.filter(action="auth.unlock", actor_name="sec").exists()


def test_login_page_says_wait_without_naming_the_account(client, world, clock):
    url = reverse("accounts:login")
    for _ in range(THRESHOLD):
        response = client.post(url, {"username": "ent_user", "password": "wrong-password"})
        assert response.status_code == 200
    locked_known = response.content.decode()
    assert "登录失败次数过多" in locked_known

    response = client.post(url, {"username": "ent_user", "password": PASSWORD})
    assert response.status_code == 200
    assert "登录失败次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session

    # An unknown username gets the very same words.
    for _ in range(THRESHOLD):
        response = client.post(url, {"username": "no-such-user", "password": "wrong-password"})
    assert "登录失败次数过多" in response.content.decode()

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
    assert "登录失败次数过多" not in body


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


def test_behind_the_proxy_a_spoofed_forwarded_address_does_not_dodge_the_lock(world, settings):
    """nginx appends the address it saw; what the client put before it is
    the client's word and must not choose the counted address."""
    from chanrong.core.context import client_ip

    settings.CHANRONG_TRUST_X_FORWARDED_FOR = True
    for n in range(ADDRESS_THRESHOLD):
        request = RequestFactory().post(
            "/accounts/login/",
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, {ELSEWHERE}",
        )
        assert client_ip(request) == ELSEWHERE
        assert authenticate(request, username=f"user{n}", password="wrong") is None
    assert services.is_locked("ent_user", ELSEWHERE)


def test_security_admin_unlocks_in_the_admin_once_audited(world, clock):
    from django.test import Client

    from chanrong.accounts.models import Role, User

    fail("ent_user", THRESHOLD)
    pair = LoginThrottle.objects.get(scope=ThrottleScope.PAIR)
    sec = User.objects.create(username="sec", role=Role.SECURITY_ADMIN, is_staff=True)
    c = Client()
    c.force_login(sec)
    url = reverse("admin:accounts_loginthrottle_delete", args=[pair.pk])
    assert c.post(url, {"post": "yes"}).status_code == 302
    assert not LoginThrottle.objects.filter(pk=pair.pk).exists()
    assert AuditEntry.objects.filter(action="auth.unlock").count() == 1
    assert not AuditEntry.objects.filter(action__endswith="loginthrottle.delete").exists()
    admin = Client()
    admin.force_login(world.user("admin"))
    address = LoginThrottle.objects.get(scope=ThrottleScope.ADDRESS)
    url = reverse("admin:accounts_loginthrottle_delete", args=[address.pk])
    assert admin.post(url, {"post": "yes"}).status_code == 403
