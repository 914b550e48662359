"""API tokens: issue, revoke, authenticate (with expiry and mutual TLS binding).

Only the SHA-256 of a token is stored; the raw value is shown once. A token
expires (`CHANRONG_TOKEN_DAYS`, default one year) and every token of a user
is revoked when their password changes or the account is deactivated, so a
leaked token does not outlive the credentials that made it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.dbbusy import best_effort
from chanrong.core.errors import NotAllowed, ValidationFailed
from chanrong.core.lookups import KeyLookup

from ..models import ApiToken, User

TOKEN_PREFIX = "crt_"
# last_used_at is written at most this often per token, so that a busy bank
# system does not turn every API read into a write.
LAST_USED_GRANULARITY = timedelta(minutes=1)
_FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def normalise_fingerprint(value: str) -> str:
    """A SHA-256 certificate fingerprint as lowercase hex without colons
    ("AB:CD:…" from openssl and "abcd…" from nginx compare equal)."""
    return (value or "").replace(":", "").strip().lower()


def token_lifetime() -> timedelta:
    return timedelta(days=max(1, int(getattr(settings, "CHANRONG_TOKEN_DAYS", 365))))


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


def create_token(
    actor: User | None, owner: User, name: str, *, client_cert_sha256: str = ""
) -> IssuedToken:
    """Issue a token for `owner`. `actor` None means the command line (trusted).
    `client_cert_sha256` binds the token to one client certificate (mTLS)."""
    if actor is not None and not can_manage_tokens_of(actor, owner):
        raise NotAllowed(_("无权为该用户创建令牌"))
    if not owner.is_active:
        raise NotAllowed(_("该用户已停用，不能创建令牌"))
    fingerprint = normalise_fingerprint(client_cert_sha256)
    if fingerprint and not _FINGERPRINT.match(fingerprint):
        raise ValidationFailed({"client_cert_sha256": _("证书指纹应为 64 位十六进制的 SHA-256 值")})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=owner,
            name=(name or "API")[:64],
            prefix=raw[: len(TOKEN_PREFIX) + 6],
            token_hash=hash_token(raw),
            created_by=actor,
            expires_at=timezone.now() + token_lifetime(),
            client_cert_sha256=fingerprint,
        )
        audit.record(
            "token.create",
            actor=actor or owner,
            obj=token,
            changes={
                "user": owner.username,
                "name": token.name,
                "prefix": token.prefix,
                "expires_at": token.expires_at.isoformat(),
            }
            | ({"client_cert_sha256": fingerprint} if fingerprint else {})
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
        token.revoked_reason = "manual"
        token.save(update_fields=["revoked_at", "revoked_reason"])
        audit.record(
            "token.revoke",
            actor=actor,
            obj=token,
            changes={"user": token.user.username, "prefix": token.prefix}
            | ({"via": "command line"} if actor is None else {}),
        )
    return token


def revoke_all_tokens(user: User, reason: str, actor: User | None = None) -> int:
    """Revoke every live token of `user` (password changed, account
    deactivated). One audit entry naming the prefixes; returns how many."""
    with transaction.atomic():
        live = ApiToken.objects.select_for_update().filter(user=user, revoked_at__isnull=True)
        prefixes = list(live.values_list("prefix", flat=True))
        if not prefixes:
            return 0
        live.update(revoked_at=timezone.now(), revoked_reason=reason[:24])
        audit.record(
            "token.revoke_all",
            actor=actor,
            obj=user,
            changes={"reason": reason, "prefixes": prefixes},
        )
    return len(prefixes)


def _certificate_matches(token: ApiToken, request: HttpRequest | None) -> bool:
    """A bound token needs the fingerprint the trusted TLS proxy verified.
    The headers count only when settings say such a proxy is in front
    (otherwise any client could send them)."""
    if not token.client_cert_sha256:
        return True
    if request is None or not getattr(settings, "CHANRONG_MTLS_TRUSTED_PROXY", False):
        return False
    if request.META.get("HTTP_X_SSL_CLIENT_VERIFY", "") != "SUCCESS":
        return False
    offered = normalise_fingerprint(request.META.get("HTTP_X_SSL_CLIENT_FINGERPRINT", ""))
    return bool(offered) and secrets.compare_digest(offered, token.client_cert_sha256)


#: The token and its user by hash, compiled once per thread; revocation and
#: expiry are checked on the row read each time, so they take effect at once.
_BY_HASH = KeyLookup(
    lambda _context, token_hash: ApiToken.objects.select_related("user").filter(
        token_hash=token_hash
    ),
    str,
)


def authenticate_token(raw: str, request: HttpRequest | None = None) -> User | None:
    """The active user behind a raw bearer token, or None (unknown, revoked,
    expired, user inactive, or bound to a client certificate not presented)."""
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    now = timezone.now()
    token = _BY_HASH.get(None, None, hash_token(raw))
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        return None
    if not token.user.is_active:
        return None
    if not _certificate_matches(token, request):
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_GRANULARITY:
        # A write made while serving a read: skipped, not waited for, when the
        # database is busy (a long import on SQLite); the next call writes it.
        best_effort(
            lambda: ApiToken.objects.filter(pk=token.pk).update(last_used_at=now),
            what="token last use",
        )
    return token.user
