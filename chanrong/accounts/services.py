"""Account rules: API tokens, login lockout, password changes.

Views, the API, commands and the login backend call these functions; they
hold no account rules of their own.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.dbbusy import best_effort
from chanrong.core.errors import NotAllowed

from .models import ApiToken, LoginThrottle, User

TOKEN_PREFIX = "crt_"
# last_used_at is written at most this often per token, so that a busy bank
# system does not turn every API read into a write.
LAST_USED_GRANULARITY = timedelta(minutes=1)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    raw: str  # shown once, never stored


def can_manage_tokens_of(actor: User, owner: User) -> bool:
    """A user manages their own tokens; an institution manager those of their
    institution's staff; a platform admin anyone's."""
    if actor.is_platform_admin or actor.pk == owner.pk:
        return True
    return bool(
        actor.is_institution_manager
        and owner.institution_id
        and owner.institution_id == actor.institution_id
    )


def tokens_visible_to(user) -> QuerySet[ApiToken]:
    """The one visibility rule for tokens (mirrors `can_manage_tokens_of`):
    a user sees their own; an institution manager every token of their
    institution's users; a platform admin all. Anything else is a 404."""
    qs = ApiToken.objects.select_related("user", "created_by")
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return qs.none()
    if user.is_platform_admin:
        return qs.all()
    if user.is_institution_manager and user.institution_id:
        return qs.filter(user__institution_id=user.institution_id)
    return qs.filter(user_id=user.pk)


def token_owners_for(actor: User) -> QuerySet[User]:
    """Whom `actor` may issue tokens for (the same rule as `can_manage_tokens_of`)."""
    if actor.is_platform_admin:
        return User.objects.filter(is_active=True).order_by("username")
    if actor.is_institution_manager and actor.institution_id:
        return User.objects.filter(is_active=True, institution_id=actor.institution_id).order_by(
            "username"
        )
    return User.objects.filter(pk=actor.pk)


def create_token(actor: User | None, owner: User, name: str) -> IssuedToken:
    """Issue a token for `owner`. `actor` None means the command line (trusted)."""
    if actor is not None and not can_manage_tokens_of(actor, owner):
        raise NotAllowed(_("无权为该用户创建令牌"))
    if not owner.is_active:
        raise NotAllowed(_("该用户已停用，不能创建令牌"))
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=owner,
            name=(name or "API")[:64],
            prefix=raw[: len(TOKEN_PREFIX) + 6],
            token_hash=hash_token(raw),
            created_by=actor,
        )
        audit.record(
            "token.create",
            actor=actor or owner,
            obj=token,
            changes={"user": owner.username, "name": token.name, "prefix": token.prefix}
            | ({"via": "command line"} if actor is None else {}),
        )
    return IssuedToken(token, raw)


def revoke_token(actor: User | None, token: ApiToken) -> ApiToken:
    """Revoke (idempotent). `actor` None means the command line (trusted)."""
    if actor is not None and not can_manage_tokens_of(actor, token.user):
        raise NotAllowed(_("无权吊销该令牌"))
    with transaction.atomic():
        # Re-read under lock so two revocations record one audit entry.
        token = (
            ApiToken.objects.select_for_update(of=("self",)).select_related("user").get(pk=token.pk)
        )
        if token.revoked_at is not None:
            return token
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(
            "token.revoke",
            actor=actor,
            obj=token,
            changes={"user": token.user.username, "prefix": token.prefix}
            | ({"via": "command line"} if actor is None else {}),
        )
    return token


def authenticate_token(raw: str) -> User | None:
    """The active user behind a raw bearer token, or None."""
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=hash_token(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_GRANULARITY:
        # A write made while serving a read: skipped, not waited for, when the
        # database is busy (a long import on SQLite); the next call writes it.
        best_effort(
            lambda: ApiToken.objects.filter(pk=token.pk).update(last_used_at=now),
            what="token last use",
        )
    return token.user


# --- login lockout -----------------------------------------------------------
#
# Keyed by the username as typed, whether or not such a user exists, so that
# "locked" never tells an attacker which usernames are real.


@dataclass(frozen=True)
class LockoutPolicy:
    threshold: int
    window: timedelta
    duration: timedelta


def lockout_policy() -> LockoutPolicy:
    return LockoutPolicy(
        threshold=max(1, settings.CHANRONG_LOCKOUT_THRESHOLD),
        window=timedelta(seconds=settings.CHANRONG_LOCKOUT_WINDOW),
        duration=timedelta(seconds=settings.CHANRONG_LOCKOUT_DURATION),
    )


def _throttle_key(username: str) -> str:
    return (username or "")[:150]


def locked_until(username: str) -> datetime | None:
    """When the lock on `username` ends, or None if it is not locked now."""
    until = (
        LoginThrottle.objects.filter(username=_throttle_key(username))
        .values_list("locked_until", flat=True)
        .first()
    )
    if until is not None and until > timezone.now():
        return until
    return None


def is_locked(username: str) -> bool:
    return locked_until(username) is not None


def _locked_throttle(key: str) -> LoginThrottle:
    """The throttle row for `key`, created if need be, locked for update."""
    try:
        with transaction.atomic():
            LoginThrottle.objects.get_or_create(username=key)
    except IntegrityError:  # created concurrently by another request: fine
        pass
    return LoginThrottle.objects.select_for_update().get(username=key)


def _login_target(key: str) -> dict:
    """What a login audit entry is about: the account if it exists, else the
    bare username (so region admins see attempts on their own users)."""
    user = User.objects.filter(username=key).first()
    if user is not None:
        return {"obj": user}
    return {"object_type": "auth.username", "object_repr": key}


def register_login_refused(username: str) -> None:
    """An attempt while locked: refused without checking the password."""
    key = _throttle_key(username)
    audit.record(
        "auth.login_failed", **_login_target(key), changes={"username": key, "reason": "locked"}
    )


def register_login_failure(username: str) -> bool:
    """Count one failed attempt; lock the username when the threshold is
    reached within the window. Returns True if this failure locked it."""
    key = _throttle_key(username)
    policy = lockout_policy()
    now = timezone.now()
    target = _login_target(key)
    with transaction.atomic():
        throttle = _locked_throttle(key)
        if throttle.window_started_at is None or now - throttle.window_started_at > policy.window:
            throttle.failures = 1
            throttle.window_started_at = now
        else:
            throttle.failures += 1
        audit.record(
            "auth.login_failed",
            **target,
            changes={"username": key, "reason": "bad_credentials", "failures": throttle.failures},
        )
        locked_now = throttle.failures >= policy.threshold
        if locked_now:
            throttle.locked_until = now + policy.duration
            audit.record(
                "auth.locked",
                **target,
                changes={
                    "username": key,
                    "failures": throttle.failures,
                    "locked_until": throttle.locked_until.isoformat(),
                },
            )
            # A fresh count starts once the lock has run out.
            throttle.failures = 0
            throttle.window_started_at = None
        throttle.save()
    return locked_now


def register_login_success(username: str) -> None:
    """A successful login clears the failure count. Most logins have none to
    clear: look first, so that they write nothing here (a DELETE takes the
    write lock even when it matches no row)."""
    throttle = LoginThrottle.objects.filter(username=_throttle_key(username))
    if throttle.exists():
        throttle.delete()


# --- sign-in events and passwords -------------------------------------------


def record_login(user: User) -> None:
    audit.record("auth.login", actor=user, obj=user)


def record_logout(user: User | None) -> None:
    if user is not None and getattr(user, "is_authenticated", False):
        audit.record("auth.logout", actor=user, obj=user)


def change_password(actor: User, user: User, new_password: str) -> None:
    """Set a new password (already validated by the form) and audit it."""
    if actor.pk != user.pk and not actor.is_platform_admin:
        raise NotAllowed(_("无权修改该用户的密码"))
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        audit.record("auth.password_change", actor=actor, obj=user)
