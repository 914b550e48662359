"""What an official sees of an objector (异议人, 联系方式), and the audited
"查看完整信息".

The objector is a member of the public who wrote to the 公示; the name and
contact are stored encrypted (`EncryptedTextField`) and shown masked (张*,
138****5678) to everyone, because most officials who can open the
application only need to know that an objection exists and what it says.
The agency users of the programme's region — the people who must call the
objector back — may ask to see both in full; each such request is audited
(`personal.unmask`: who, which objection, which fields, never the values).
A user holding `registry.unmask_personal` (the platform's personal-data
right) may too. Public pages never show an objector at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from chanrong.core import audit, masking
from chanrong.core.errors import NotAllowed
from chanrong.core.masking import Kind
from chanrong.core.scope import ScopeKind, scope_of

from ..models import Objection

OBJECTION_FIELDS: tuple[str, ...] = ("name", "contact")


def mask_contact(value: str) -> str:
    """联系方式 is free text: an e-mail is masked as one, anything with
    enough digits as a phone number, anything else star by star but its
    first character."""
    text = (value or "").strip()
    if not text:
        return ""
    if "@" in text:
        return masking.mask(text, Kind.EMAIL)
    if sum(ch.isdigit() for ch in text) >= 5:
        return masking.mask(text, Kind.PHONE)
    return text[:1] + "*" * max(1, len(text) - 1)


def masked_values(objection: Objection) -> dict[str, str]:
    return {
        "name": masking.mask(objection.name, Kind.NAME),
        "contact": mask_contact(objection.contact),
    }


def may_unmask(user, objection: Objection) -> bool:
    """The agency users of the programme's region (its subtree's root
    included), or a holder of the personal-data right."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.has_perm(masking.UNMASK_PERMISSION):
        return True
    scope = scope_of(user)
    region_code = objection.application.programme.region_id
    return (
        scope.kind == ScopeKind.GOVERNMENT
        and bool(scope.region_prefix)
        and str(region_code).startswith(scope.region_prefix)
    )


@dataclass
class ObjectorView:
    name: str
    contact: str
    masked: bool
    can_unmask: bool


def objector_view(user, objection: Objection, *, unmask: bool = False) -> ObjectorView:
    """The objector as `user` sees it; `user` can already see the objection
    (the caller checked). With `unmask`: in full and audited, or NotAllowed."""
    allowed = may_unmask(user, objection)
    if unmask:
        if not allowed:
            raise NotAllowed(_("无权查看完整的个人信息"))
        record_unmask(user, objection)
        return ObjectorView(objection.name, objection.contact, masked=False, can_unmask=True)
    values = masked_values(objection)
    return ObjectorView(values["name"], values["contact"], masked=True, can_unmask=allowed)


def record_unmask(user, objection: Objection) -> None:
    with transaction.atomic():
        audit.record(
            "personal.unmask",
            actor=user,
            obj=objection,
            changes={
                "fields": [list(OBJECTION_FIELDS), None],
                "application": objection.application_id,
            },
        )
