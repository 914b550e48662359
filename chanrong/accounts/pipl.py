"""The person's account, for PIPL requests (chanrong.core.pipl).

Anonymising keeps the user row (its id is what audit entries, demands and
tokens point to) and replaces what identifies the person: username,
names, e-mail, phone. The account is deactivated, its password made
unusable (which also ends every session: the session hash no longer
matches), its API tokens revoked and its old password hashes dropped.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from chanrong.core.pipl import Provider, register

from .models import ApiToken, Registration, User
from .services import revoke_all_tokens

PLACEHOLDER_NAME = "已匿名用户"


def anonymous_username(user: User) -> str:
    return f"anonymised-{user.pk}"


def export_account(user: User) -> dict[str, Any]:
    return {
        "id": user.pk,
        "username": user.get_username(),
        "display_name": user.display_name,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "phone": user.phone,
        "role": user.role,
        "organisation": user.organisation_label(),
        "date_joined": user.date_joined,
        "last_login": user.last_login,
        "is_active": user.is_active,
        "api_tokens": [
            {
                "name": t.name,
                "prefix": t.prefix,
                "created_at": t.created_at,
                "last_used_at": t.last_used_at,
                "revoked_at": t.revoked_at,
            }
            for t in ApiToken.objects.filter(user=user).order_by("pk")
        ],
    }


def anonymise_account(user: User, actor) -> dict[str, int]:
    with transaction.atomic():
        revoked = revoke_all_tokens(user, "pipl", actor)
        history = getattr(user, "password_history", None)
        dropped = history.all().delete()[0] if history is not None else 0
        user.username = anonymous_username(user)
        user.display_name = PLACEHOLDER_NAME
        user.first_name = user.last_name = ""
        user.email = ""
        user.phone = ""
        user.is_active = False
        user.set_unusable_password()
        user.save()
    return {"accounts": 1, "tokens_revoked": revoked, "password_history": dropped}


register(Provider("account", export_account, anonymise_account, order=90))


def export_registrations(user: User) -> list[dict[str, Any]]:
    """The self-registration that opened this account (contact as given)."""
    return [
        {
            "kind": r.kind,
            "name": r.name,
            "uscc": r.uscc,
            "contact_name": r.contact_name,
            "contact_phone": r.contact_phone,
            "contact_email": r.contact_email,
            "consent_at": r.consent_at,
            "privacy_version": r.privacy_version,
            "status": r.status,
            "created_at": r.created_at,
        }
        for r in Registration.objects.filter(user=user).order_by("pk")
    ]


def anonymise_registrations(user: User, actor) -> dict[str, int]:
    changed = 0
    for registration in Registration.objects.filter(user=user):
        registration.contact_name = PLACEHOLDER_NAME
        registration.contact_phone = ""
        registration.contact_email = ""
        registration.username = anonymous_username(user)
        registration.save(
            update_fields=["contact_name", "contact_phone", "contact_email", "username"]
        )
        changed += 1
    return {"registrations": changed}


register(Provider("registration", export_registrations, anonymise_registrations, order=80))
