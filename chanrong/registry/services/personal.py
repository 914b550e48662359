"""An enterprise's personal fields: what a user sees of them, the explicit
"show in full" (unmask) with its audit entry, and the ID-number check.

The who-sees-what rule itself is the kernel's (`chanrong.core.masking`);
this module names the enterprise's personal fields and applies it. Pages,
the API and the exports all come through `personal_view` or
`mask_enterprise_values`, so a value is never shown unmasked by accident.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError

from chanrong.core import audit, masking
from chanrong.core.errors import FieldError, NotAllowed
from chanrong.core.fieldcrypt import lookup_hashes
from chanrong.core.masking import Group, Kind
from chanrong.core.scope import ScopeKind, scope_of

from ..models import Enterprise

#: name → (how it is masked, which right unmasks it)
PERSONAL_FIELDS: dict[str, tuple[Kind, Group]] = {
    "legal_representative": (Kind.NAME, Group.IDENTITY),
    "legal_rep_id_number": (Kind.ID_NUMBER, Group.IDENTITY),
    "contact_name": (Kind.NAME, Group.CONTACT),
    "contact_phone": (Kind.PHONE, Group.CONTACT),
    "contact_email": (Kind.EMAIL, Group.CONTACT),
}
PERSONAL_KINDS: dict[str, Kind] = {name: kind for name, (kind, _group) in PERSONAL_FIELDS.items()}


@dataclass
class PersonalView:
    """What one user sees of one enterprise's personal fields."""

    values: dict[str, str]
    masked: bool  # at least one non-empty value is shown masked
    can_unmask: list[str] = field(default_factory=list)  # fields an unmask would reveal
    unmasked: list[str] = field(default_factory=list)  # fields shown in full by request

    def __getitem__(self, key: str) -> str:
        return self.values[key]


def _masked(enterprise: Enterprise, name: str) -> str:
    return masking.mask(getattr(enterprise, name), PERSONAL_KINDS[name])


def personal_view(actor, enterprise: Enterprise, *, unmask: bool = False) -> PersonalView:
    """The enterprise's personal fields as `actor` may see them; `actor` can
    already see `enterprise` (it came from `visible_to`). The enterprise's
    own users see their data in full. With `unmask`, the fields the actor
    has the right to see are shown in full and the request is audited
    (`personal.unmask`: which fields, never the values); without any such
    right, NotAllowed (403)."""
    plain = {name: getattr(enterprise, name) or "" for name in PERSONAL_FIELDS}
    if masking.is_own(actor, enterprise.pk):
        return PersonalView(values=plain, masked=False)
    allowed = [name for name in masking.unmaskable_fields(actor, PERSONAL_FIELDS) if plain[name]]
    if unmask:
        if not masking.unmaskable_fields(actor, PERSONAL_FIELDS):
            raise NotAllowed(_("无权查看完整的个人信息"))
        record_unmask(actor, enterprise, allowed)
        values = {
            name: plain[name] if name in allowed else _masked(enterprise, name)
            for name in PERSONAL_FIELDS
        }
        still = any(values[name] != plain[name] for name in PERSONAL_FIELDS)
        return PersonalView(values=values, masked=still, unmasked=allowed)
    values = {name: _masked(enterprise, name) for name in PERSONAL_FIELDS}
    return PersonalView(values=values, masked=any(plain.values()), can_unmask=allowed)


def record_unmask(actor, enterprise: Enterprise, fields: list[str]) -> None:
    """One audit entry per explicit unmask: who, whose, which fields."""
    with transaction.atomic():
        audit.record(
            "personal.unmask",
            actor=actor,
            obj=enterprise,
            changes={"fields": [sorted(fields), None]},
        )


def row_masker(actor) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """For an export: a function that masks the personal values of a row
    (a dict with "id" and any of the personal fields) unless the row is the
    actor's own enterprise. Exports never unmask: exporting personal data
    in full, with a stated reason, is a separate right (docs/registry.md)."""
    scope = scope_of(actor)
    own = scope.enterprise_id if scope.kind == ScopeKind.ENTERPRISE else None

    def mask_row(row: dict[str, Any]) -> dict[str, Any]:
        if own is not None and row.get("id") == own:
            return row
        for name, kind in PERSONAL_KINDS.items():
            if name in row:
                row[name] = masking.mask(row[name], kind)
        return row

    return mask_row


def audit_snapshot(enterprise: Enterprise) -> dict[str, str | None]:
    """The personal fields as audit diffs record them (masked, fingerprinted:
    `masking.audit_value`)."""
    return {
        name: masking.audit_value(getattr(enterprise, name), kind)
        for name, kind in PERSONAL_KINDS.items()
    }


def clean_id_number(value: str, errors: list[FieldError]) -> str:
    """居民身份证号码 (GB 11643-1999): 18 characters, a valid birth date and
    the ISO 7064 MOD 11-2 check character (X upper case). "" stays ""."""
    text = (value or "").strip().upper().replace(" ", "")
    if not text:
        return ""
    try:
        return ric.validate(text)
    except StdnumError:
        errors.append(
            FieldError(
                "legal_rep_id_number",
                _("身份证号码不正确：应为 18 位，出生日期有效，最后一位校验码符合 GB 11643"),
            )
        )
        return text


def find_by_contact(*, phone: str = "", email: str = "") -> QuerySet[Enterprise]:
    """Enterprises whose contact phone or e-mail is this one (by keyed hash;
    the encrypted columns cannot be searched)."""
    query = Q(pk__in=[])
    if phone:
        query |= Q(contact_phone_hash__in=lookup_hashes(phone, purpose="phone"))
    if email:
        query |= Q(contact_email_hash__in=lookup_hashes(email, purpose="email"))
    return Enterprise.objects.filter(query)
