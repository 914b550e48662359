"""Account rules: API tokens (and, with the login backend, lockout)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from chanrong.core import audit
from chanrong.core.errors import NotAllowed

from .models import ApiToken, User

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


def create_token(actor: User | None, owner: User, name: str) -> IssuedToken:
    """Issue a token for `owner`. `actor` None means the command line (trusted)."""
    if actor is not None and not can_manage_tokens_of(actor, owner):
        raise NotAllowed("无权为该用户创建令牌")
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
            changes={"user": owner.username, "name": token.name},
        )
    return IssuedToken(token, raw)


def revoke_token(actor: User, token: ApiToken) -> ApiToken:
    if not can_manage_tokens_of(actor, token.user):
        raise NotAllowed("无权吊销该令牌")
    if token.revoked_at is not None:
        return token
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record("token.revoke", actor=actor, obj=token, changes={"user": token.user.username})
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
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
