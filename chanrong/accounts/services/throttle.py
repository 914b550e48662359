"""Login throttling: per (account, address) pair and per address.

Why not per account alone (the old rule): anyone anywhere could lock `admin`
out for 15 minutes with five wrong passwords, and one address could try 25
usernames and get a plain "wrong password" each time. Now:

- a (username, address) pair is locked after CHANRONG_LOCKOUT_THRESHOLD
  failures within CHANRONG_LOCKOUT_WINDOW seconds, for
  CHANRONG_LOCKOUT_DURATION seconds: the owner, elsewhere, still gets in;
- an address is locked after CHANRONG_LOCKOUT_ADDRESS_THRESHOLD failures
  (any usernames) in the same window: one address cannot walk a user list;
- an account-wide lock (any address) exists only when
  CHANRONG_LOCKOUT_ACCOUNT_THRESHOLD is set (0, the default, turns it off): a
  distributed guesser still meets the second factor on every privileged
  account, while a lock anyone can trigger would be a denial of service.

Usernames are counted whether or not the account exists, and the answer to a
locked attempt is the same for both, so a lock tells nothing about which
usernames are real. Failed attempts reach the audit log coalesced: at most
one `auth.login_failed` entry per address per minute, carrying how many went
unrecorded since, so a flood cannot fill the log; every lock is recorded.

django-axes was the first choice; its current release (8.3.1) does not
declare Django 6.1 support, and this keeps the audit coalescing and the
lock answers in one place (docs/architecture.md, "Dependencies").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from chanrong.core import audit
from chanrong.core.errors import NotAllowed

from ..models import LoginThrottle, ThrottleScope, User

AUDIT_COALESCE = timedelta(minutes=1)
UNKNOWN_ADDRESS = "unknown"


@dataclass(frozen=True)
class LockoutPolicy:
    threshold: int  # per (username, address)
    address_threshold: int  # per address, any username
    account_threshold: int  # per username, any address; 0 = never
    window: timedelta
    duration: timedelta


def lockout_policy() -> LockoutPolicy:
    return LockoutPolicy(
        threshold=max(1, settings.CHANRONG_LOCKOUT_THRESHOLD),
        address_threshold=max(1, getattr(settings, "CHANRONG_LOCKOUT_ADDRESS_THRESHOLD", 20)),
        account_threshold=max(0, getattr(settings, "CHANRONG_LOCKOUT_ACCOUNT_THRESHOLD", 0)),
        window=timedelta(seconds=settings.CHANRONG_LOCKOUT_WINDOW),
        duration=timedelta(seconds=settings.CHANRONG_LOCKOUT_DURATION),
    )


def _username(username: str) -> str:
    return (username or "")[:150]


def _address(ip: str | None) -> str:
    return (ip or UNKNOWN_ADDRESS)[:64]


def _keys(username: str, ip: str | None) -> list[tuple[str, str]]:
    name, addr = _username(username), _address(ip)
    keys = [(ThrottleScope.PAIR, f"{name}|{addr}"), (ThrottleScope.ADDRESS, addr)]
    if lockout_policy().account_threshold:
        keys.append((ThrottleScope.ACCOUNT, name))
    return keys


def locked_until(username: str, ip: str | None = None) -> datetime | None:
    """When the latest lock that applies to this attempt ends, or None."""
    now = timezone.now()
    ends = [
        until
        for scope, key in _keys(username, ip)
        for until in LoginThrottle.objects.filter(scope=scope, key=key).values_list(
            "locked_until", flat=True
        )
        if until is not None and until > now
    ]
    return max(ends) if ends else None


def is_locked(username: str, ip: str | None = None) -> bool:
    return locked_until(username, ip) is not None


def _locked_row(scope: str, key: str) -> LoginThrottle:
    """The throttle row, created if need be, locked for update."""
    try:
        with transaction.atomic():
            LoginThrottle.objects.get_or_create(scope=scope, key=key)
    except IntegrityError:  # created concurrently by another request: fine
        pass
    return LoginThrottle.objects.select_for_update().get(scope=scope, key=key)


def _target(username: str) -> dict:
    """What a login audit entry is about: the account if it exists, else the
    bare username (so region admins see attempts on their own users)."""
    user = User.objects.filter(username=username).first()
    if user is not None:
        return {"obj": user}
    return {"object_type": "auth.username", "object_repr": username}


def _audit_failure_coalesced(address_row: LoginThrottle, username: str, reason: str, now) -> None:
    """One `auth.login_failed` entry per address per minute at most."""
    if address_row.audited_at is not None and now - address_row.audited_at < AUDIT_COALESCE:
        address_row.unaudited += 1
        return
    audit.record(
        "auth.login_failed",
        **_target(username),
        changes={
            "username": username,
            "address": address_row.key,
            "reason": reason,
            "unrecorded_before": address_row.unaudited,
        },
    )
    address_row.audited_at = now
    address_row.unaudited = 0


def register_login_refused(username: str, ip: str | None = None) -> None:
    """An attempt while locked: refused without checking the password."""
    now = timezone.now()
    with transaction.atomic():
        row = _locked_row(ThrottleScope.ADDRESS, _address(ip))
        _audit_failure_coalesced(row, _username(username), "locked", now)
        row.save(update_fields=["audited_at", "unaudited"])


def register_login_failure(username: str, ip: str | None = None) -> bool:
    """Count one failed attempt on every key; lock the keys whose threshold
    is reached within the window. Returns True if this failure locked one."""
    policy = lockout_policy()
    thresholds = {
        ThrottleScope.PAIR: policy.threshold,
        ThrottleScope.ADDRESS: policy.address_threshold,
        ThrottleScope.ACCOUNT: policy.account_threshold,
    }
    name = _username(username)
    now = timezone.now()
    locked_any = False
    with transaction.atomic():
        for scope, key in _keys(name, ip):
            row = _locked_row(scope, key)
            if row.window_started_at is None or now - row.window_started_at > policy.window:
                row.failures = 1
                row.window_started_at = now
            else:
                row.failures += 1
            if scope == ThrottleScope.ADDRESS:
                _audit_failure_coalesced(row, name, "bad_credentials", now)
            if row.failures >= thresholds[scope]:
                locked_any = True
                row.locked_until = now + policy.duration
                audit.record(
                    "auth.locked",
                    **_target(name),
                    changes={
                        "scope": scope.value,
                        "key": key,
                        "failures": row.failures,
                        "locked_until": row.locked_until.isoformat(),
                    },
                )
                # A fresh count starts once the lock has run out.
                row.failures = 0
                row.window_started_at = None
            row.save()
    return locked_any


def register_login_success(username: str, ip: str | None = None) -> None:
    """A successful login clears its own pair's count (not the address's: one
    valid account must not reset the count of guesses at others). Most logins
    have nothing to clear: look first, so they write nothing here."""
    pair = LoginThrottle.objects.filter(
        scope=ThrottleScope.PAIR, key=f"{_username(username)}|{_address(ip)}"
    )
    if pair.exists():
        pair.delete()


def unlock(actor: User, throttle: LoginThrottle) -> None:
    """Lift a lock now (the security administrator's job), audited."""
    if not actor.is_security_admin:
        raise NotAllowed()
    with transaction.atomic():
        audit.record(
            "auth.unlock",
            actor=actor,
            object_type="accounts.loginthrottle",
            object_id=throttle.pk,
            object_repr=str(throttle),
            changes={"scope": throttle.scope, "key": throttle.key},
        )
        LoginThrottle.objects.filter(pk=throttle.pk).delete()
