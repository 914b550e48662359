"""Requests under the 个人信息保护法 (PIPL): a person's data exported on
request (art. 45), and a person anonymised on request (art. 47), without
breaking the audit chain.

The kernel knows no app, so each app that holds personal data registers a
`Provider` in its own `pipl` module (found by autodiscovery, like exports
and imports): `export(user)` returns that app's part of the person's data
as JSON-able values, `anonymise(user, actor)` replaces the person's values
with placeholders and returns counts (never values). This module runs them
in order, adds the audit entries about the person, and writes one audit
entry per request.

Why the audit log is not rewritten: its rows are sealed into a hash chain
(`chanrong audit verify`), and the law that asks for logs (网络安全法 art. 21:
at least six months) is a legal obligation PIPL art. 47 leaves in place.
So anonymisation keeps every id — the user row stays, deactivated, with
placeholder values — and the audit rows keep what they recorded: ids, the
username as it was, and diffs whose personal values are masked and
fingerprinted since issue 15 (`masking.audit_value`). Those rows are only
stored and read by the audit administrator until their retention ends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext as _

from . import audit
from .errors import NotAllowed
from .models import AuditEntry


@dataclass(frozen=True)
class Provider:
    """One app's part of a person's data. `order`: anonymisers run low first
    (the account itself, which others may read, goes last)."""

    name: str
    export: Callable[[Any], Any]
    anonymise: Callable[[Any, Any], dict[str, int]] | None = None
    order: int = 50


_PROVIDERS: dict[str, Provider] = {}
_discovered = False


def register(provider: Provider) -> Provider:
    _PROVIDERS[provider.name] = provider
    return provider


def providers() -> list[Provider]:
    global _discovered
    if not _discovered:
        autodiscover_modules("pipl")
        _discovered = True
    return sorted(_PROVIDERS.values(), key=lambda p: (p.order, p.name))


def can_handle_requests(actor) -> bool:
    """Who acts on a person's request: the command line (actor None), the
    system (platform) administrator and the security administrator."""
    if actor is None:
        return True
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return False
    return bool(
        getattr(actor, "is_platform_admin", False) or getattr(actor, "is_security_admin", False)
    )


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return (
            timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    return value


def audit_entries_about(user) -> list[dict[str, Any]]:
    """Entries the person made and entries about the person's account."""
    rows = AuditEntry.objects.filter(
        Q(actor_id=user.pk) | Q(object_type=user._meta.label_lower, object_id=str(user.pk))
    ).order_by("id")
    return [
        {
            "id": e.pk,
            "seq": e.seq,
            "at": e.created_at,
            "action": e.action,
            "actor": e.actor_name,
            "object_type": e.object_type,
            "object_id": e.object_id,
            "object": e.object_repr,
            "changes": e.changes,
            "ip": e.ip,
        }
        for e in rows.iterator(chunk_size=2000)
    ]


def export_person(actor, user) -> dict[str, Any]:
    """Everything the platform holds about `user`, as JSON-able data;
    audited (`pipl.export`, with the sections and counts, no values)."""
    if not can_handle_requests(actor):
        raise NotAllowed(_("只有系统管理员或安全管理员可以处理个人信息请求"))
    data: dict[str, Any] = {
        "subject": {"id": user.pk, "username": user.get_username()},
        "generated_at": timezone.now(),
    }
    for provider in providers():
        data[provider.name] = provider.export(user)
    data["audit_entries"] = audit_entries_about(user)
    counts = {key: len(value) for key, value in data.items() if isinstance(value, list)}
    with transaction.atomic():
        audit.record(
            "pipl.export",
            actor=actor,
            obj=user,
            changes={
                "sections": [None, sorted(k for k in data if k != "subject")],
                "counts": [None, counts],
            },
        )
    return jsonable(data)


def anonymise_person(actor, user) -> dict[str, dict[str, int]]:
    """Replace `user`'s personal data with placeholders everywhere a
    provider knows of, deactivate the account and revoke its tokens, in one
    transaction; ids stay, so every audit row still verifies. Audited
    (`pipl.anonymise`, with counts). Returns the counts per provider."""
    if not can_handle_requests(actor):
        raise NotAllowed(_("只有系统管理员或安全管理员可以处理个人信息请求"))
    if actor is not None and actor.pk == user.pk:
        raise NotAllowed(_("不能匿名化自己的账户"))
    done: dict[str, dict[str, int]] = {}
    with transaction.atomic():
        # The entry comes first, while the account still reads as it was.
        audit.record("pipl.anonymise", actor=actor, obj=user, changes={"requested": [None, True]})
        for provider in providers():
            if provider.anonymise is not None:
                done[provider.name] = provider.anonymise(user, actor)
        audit.record(
            "pipl.anonymised",
            actor=actor,
            object_type=user._meta.label_lower,
            object_id=user.pk,
            object_repr=f"#{user.pk}",
            changes={"counts": [None, done]},
        )
    return done
