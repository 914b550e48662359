"""Sign-in and sign-out in the audit log."""

from __future__ import annotations

from chanrong.core import audit

from ..models import User


def record_login(user: User) -> None:
    audit.record("auth.login", actor=user, obj=user)


def record_logout(user: User | None) -> None:
    if user is not None and getattr(user, "is_authenticated", False):
        audit.record("auth.logout", actor=user, obj=user)
