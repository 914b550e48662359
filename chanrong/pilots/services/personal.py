"""What a user sees of a pilot application's contact person (联系人,
联系电话), and the audited "show in full".

Who sees the contact in full, always: the applying city's own agencies
(it is their colleague) and the agencies that review it — the provincial
unit's counterparts (`review_region`) and the ministries (national level),
who must be able to call the city during 审核 and 评审. Everyone else who
can open the application (an intermediate prefecture, the platform
administrator) sees it masked (张*, 0573-****0000): they have no reason to
call. A holder of `registry.unmask_personal` (the platform's personal-data
right) may ask for it in full (the page's "查看完整信息", the API's
`?unmask=1`), and each such request is audited (`personal.unmask`: who,
which application, which fields, never the values). Values are stored
encrypted (`EncryptedTextField`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from chanrong.core import audit, masking
from chanrong.core.errors import NotAllowed
from chanrong.core.masking import Kind

from ..models import Application
from ..permissions import _agency, is_ministry_user

CONTACT_FIELDS: dict[str, Kind] = {"contact_name": Kind.NAME, "contact_phone": Kind.PHONE}


def sees_in_full(user, application: Application) -> bool:
    """The applying city's agencies, the reviewing unit's, and the ministries."""
    agency = _agency(user)
    if agency is None:
        return False
    return agency.region_id in (
        application.region_id,
        application.review_region_id,
    ) or is_ministry_user(user)


def may_unmask(user, application: Application) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and user.has_perm(masking.UNMASK_PERMISSION)
    )


@dataclass
class ContactView:
    contact_name: str
    contact_phone: str
    masked: bool
    can_unmask: bool


def contact_view(user, application: Application, *, unmask: bool = False) -> ContactView:
    """The contact as `user` (who can already see `application`) sees it.
    With `unmask`: in full and audited, or NotAllowed (403)."""
    name, phone = application.contact_name or "", application.contact_phone or ""
    if sees_in_full(user, application):
        return ContactView(name, phone, masked=False, can_unmask=False)
    allowed = may_unmask(user, application)
    if unmask:
        if not allowed:
            raise NotAllowed(_("无权查看完整的个人信息"))
        with transaction.atomic():
            audit.record(
                "personal.unmask",
                actor=user,
                obj=application,
                changes={"fields": [sorted(CONTACT_FIELDS), None]},
            )
        return ContactView(name, phone, masked=False, can_unmask=True)
    return ContactView(
        masking.mask(name, Kind.NAME),
        masking.mask(phone, Kind.PHONE),
        masked=bool(name or phone),
        can_unmask=allowed and bool(name or phone),
    )
