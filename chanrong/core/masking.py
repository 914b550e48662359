"""Masked personal values, and who sees them unmasked.

What a masked value keeps is enough to recognise a contact one already
knows ("138****5678", "张*") and not enough to call or write to a stranger:
the pages, the API and the exports show these by default (个人信息保护法
art. 51: 去标识化; 等保 2.0 个人信息保护).

The rule (docs/registry.md, "Personal data"):

- the enterprise itself sees its own data unmasked, always;
- a user with the unmask right sees a value unmasked after asking for it
  (the "查看完整信息" button, the API's `?unmask=1`), and each such request
  is audited (`personal.unmask`: who, whose, which fields, never the
  values). The right: the permission `registry.unmask_personal` given to a
  user (or a group) — superusers hold every permission — and government
  administrators of the enterprise's region by their role. Institution
  users may unmask the *contact* fields of enterprises that authorised them
  (their authorisation is what lets them see the enterprise at all), never
  the legal representative's identity fields;
- everyone else sees masked values only.

The kernel knows no app: callers pass a user who can already see the
record (its `visible_to`) and say whether the record is the user's own.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from .fieldcrypt import keyed_hash
from .scope import ScopeKind, scope_of

UNMASK_PERMISSION = "registry.unmask_personal"


class Kind(StrEnum):
    NAME = "name"
    PHONE = "phone"
    EMAIL = "email"
    ID_NUMBER = "id_number"


class Group(StrEnum):
    """Which right unmasks a field: contact details or identity."""

    CONTACT = "contact"
    IDENTITY = "identity"


# --- masking one value -----------------------------------------------------------------


def mask_phone(value: str) -> str:
    """138****5678: the first three and last four digits of a mobile; for
    other numbers (0573-84123456) the area code and the last four digits."""
    text = (value or "").strip()
    digits = [ch for ch in text if ch.isdigit()]
    if not digits:
        return ""
    if len(digits) <= 4:
        return "*" * len(digits)
    if len(digits) == 11 and digits[0] == "1":
        return "".join(digits[:3]) + "****" + "".join(digits[-4:])
    head = text.split("-", 1)[0] if "-" in text else "".join(digits[:3])
    head = "".join(ch for ch in head if ch.isdigit() or ch == "+")
    if len(head) >= len(digits) - 4:
        head = "".join(digits[:2])
    return (
        f"{head}-****{''.join(digits[-4:])}" if "-" in text else f"{head}****{''.join(digits[-4:])}"
    )


def mask_email(value: str) -> str:
    """a***@x.com: the first character of the local part and the domain."""
    text = (value or "").strip()
    if not text:
        return ""
    local, sep, domain = text.rpartition("@")
    if not sep or not local:
        return text[:1] + "***"
    return f"{local[:1]}***@{domain}"


def mask_name(value: str) -> str:
    """张*, 欧阳**: the surname (one character, two for a known compound
    surname) and one star per remaining character; Latin names keep their
    first letter."""
    text = (value or "").strip()
    if not text:
        return ""
    if text.isascii():
        return text[:1] + "***"
    keep = 2 if len(text) >= 3 and text[:2] in COMPOUND_SURNAMES else 1
    return text[:keep] + "*" * max(1, len(text) - keep)


def mask_id_number(value: str) -> str:
    """3304**********1234: the first four (the province and city of issue)
    and the last four characters."""
    text = (value or "").strip()
    if not text:
        return ""
    if len(text) <= 8:
        return "*" * len(text)
    return text[:4] + "*" * (len(text) - 8) + text[-4:]


COMPOUND_SURNAMES = frozenset(
    [
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "夏侯",
        "轩辕",
        "令狐",
        "端木",
        "西门",
        "南宫",
        "独孤",
        "澹台",
    ]
)

_MASKERS = {
    Kind.NAME: mask_name,
    Kind.PHONE: mask_phone,
    Kind.EMAIL: mask_email,
    Kind.ID_NUMBER: mask_id_number,
}


def mask(value: str | None, kind: Kind | str) -> str:
    if not value:
        return ""
    return _MASKERS[Kind(kind)](str(value))


def audit_value(value: str | None, kind: Kind | str) -> str | None:
    """How a personal value is written into an audit diff: masked, with a
    short keyed fingerprint ("138****5678 #3fa2c1d0") so that a change shows
    even when the two masks agree, and the log never holds the value itself
    (audit rows are sealed, kept for years, and cannot be anonymised later
    without breaking the chain)."""
    if not value:
        return None
    fingerprint = keyed_hash(str(value), purpose=f"audit:{Kind(kind)}")[:8]
    return f"{mask(value, kind)} #{fingerprint}"


def mask_changes(
    changes: dict[str, list[Any]], kinds: dict[str, Kind | str]
) -> dict[str, list[Any]]:
    """An audit diff with the personal fields' old and new values masked:
    the audit log records that a phone number changed, not the number
    (audit rows are sealed and kept for years, and cannot be anonymised
    later without breaking the chain)."""
    out: dict[str, list[Any]] = {}
    for key, pair in changes.items():
        kind = kinds.get(key)
        out[key] = [mask(v, kind) if v else v for v in pair] if kind else pair
    return out


# --- who sees what ---------------------------------------------------------------------


def is_own(user, enterprise_id: int | None) -> bool:
    """The record belongs to the user's own enterprise."""
    scope = scope_of(user)
    return scope.kind == ScopeKind.ENTERPRISE and enterprise_id == scope.enterprise_id


def may_unmask(user, group: Group | str) -> bool:
    """Whether `user` may ask to see a group of fields unmasked, for a record
    the user can already see (the caller has checked visibility)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.has_perm(UNMASK_PERMISSION):
        return True
    scope = scope_of(user)
    if scope.kind == ScopeKind.GOVERNMENT and getattr(user, "is_government_admin", False):
        return True
    if scope.kind == ScopeKind.INSTITUTION:
        return Group(group) == Group.CONTACT
    return False


def unmaskable_fields(user, fields: dict[str, tuple[Kind, Group]]) -> list[str]:
    """The fields (of `fields`: name → (kind, group)) `user` may unmask."""
    allowed = {group: may_unmask(user, group) for group in Group}
    return [name for name, (_kind, group) in fields.items() if allowed[Group(group)]]
