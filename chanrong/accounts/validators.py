"""Password validators for the 等保 password policy (AUTH_PASSWORD_VALIDATORS).

Django's own validators cover length, similarity to the username and common
passwords; these add character classes and history.
"""

from __future__ import annotations

from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def _classes(password: str) -> int:
    return sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )


class CharacterClassesValidator:
    """At least `min_classes` of: lowercase, uppercase, digits, other characters."""

    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def validate(self, password: str, user=None) -> None:
        if _classes(password) < self.min_classes:
            raise ValidationError(
                _("密码须至少包含小写字母、大写字母、数字、符号中的 %(n)d 类。"),
                code="password_too_few_classes",
                params={"n": self.min_classes},
            )

    def get_help_text(self) -> str:
        return _("至少包含小写字母、大写字母、数字、符号中的 %(n)d 类。") % {"n": self.min_classes}


class PasswordHistoryValidator:
    """Not the current password nor one of the last `history` ones (their
    hashes are kept in PasswordHistory, newest first)."""

    def __init__(self, history: int | None = None):
        self.history = history

    def _size(self) -> int:
        if self.history is not None:
            return self.history
        from chanrong.accounts.services.passwords import history_size

        return history_size()

    def validate(self, password: str, user=None) -> None:
        if user is None or getattr(user, "pk", None) is None:
            return
        size = self._size()
        if size <= 0:
            return
        from chanrong.accounts.models import PasswordHistory, User

        current = User.objects.filter(pk=user.pk).values_list("password", flat=True).first()
        hashes = [current] if current else []
        hashes += list(
            PasswordHistory.objects.filter(user_id=user.pk)
            .order_by("-created_at", "-pk")
            .values_list("password", flat=True)[:size]
        )
        if any(check_password(password, encoded) for encoded in hashes):
            raise ValidationError(
                _("不能使用最近 %(n)d 次用过的密码。"),
                code="password_reused",
                params={"n": size},
            )

    def get_help_text(self) -> str:
        return _("不能与最近 %(n)d 次用过的密码相同。") % {"n": self._size()}
