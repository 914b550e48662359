"""Password policy: who may set a password, history, maximum age, and what a
password change does to the account's other credentials.

The validators themselves (length, character classes, history) are in
`chanrong.accounts.validators`, listed in AUTH_PASSWORD_VALIDATORS so that
every form that sets a password applies them.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.errors import NotAllowed

from ..models import PasswordHistory, User
from .tokens import revoke_all_tokens

#: Why a signed-in user is sent to the password change page.
FIRST_LOGIN = "first_login"
EXPIRED = "expired"


def history_size() -> int:
    return max(0, int(getattr(settings, "CHANRONG_PASSWORD_HISTORY", 5)))


def password_max_age() -> timedelta | None:
    """None when passwords never expire (CHANRONG_PASSWORD_MAX_AGE_DAYS=0)."""
    days = int(getattr(settings, "CHANRONG_PASSWORD_MAX_AGE_DAYS", 90))
    return timedelta(days=days) if days > 0 else None


def password_change_reason(user: User) -> str | None:
    """FIRST_LOGIN when someone else set the password, EXPIRED when it is older
    than the maximum age, else None."""
    if user.must_change_password:
        return FIRST_LOGIN
    max_age = password_max_age()
    if max_age is None or not user.has_usable_password():
        return None
    changed = user.password_changed_at or user.date_joined
    if changed is not None and timezone.now() - changed > max_age:
        return EXPIRED
    return None


def change_password(actor: User, user: User, new_password: str) -> None:
    """Set a new password (already validated by the form) and audit it. Set
    by anyone but its owner, it must be changed at the next sign-in."""
    if actor.pk != user.pk and not actor.is_platform_admin:
        raise NotAllowed(_("无权修改该用户的密码"))
    with transaction.atomic():
        user.set_password(new_password)
        user.must_change_password = actor.pk != user.pk
        user.save(update_fields=["password", "must_change_password"])
        audit.record(
            "auth.password_change",
            actor=actor,
            obj=user,
            changes={"by_owner": actor.pk == user.pk},
        )


def password_was_set(user: User, *, created: bool) -> None:
    """After any real password change (not a hash upgrade), wherever it came
    from (pages, admin, commands): stamp it, remember its hash, and revoke the
    user's API tokens. Called by the User post_save receiver."""
    now = timezone.now()
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(password_changed_at=now)
        user.password_changed_at = now
        keep = history_size()
        if keep:
            PasswordHistory.objects.create(user=user, password=user.password)
            stale = PasswordHistory.objects.filter(user=user).order_by("-created_at", "-pk")[keep:]
            PasswordHistory.objects.filter(pk__in=list(stale.values_list("pk", flat=True))).delete()
        if not created:
            revoke_all_tokens(user, "password_change")


def account_deactivated(user: User) -> None:
    """An account switched off loses its API tokens at once (audited)."""
    revoke_all_tokens(user, "deactivated")
