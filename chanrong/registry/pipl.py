"""Enterprises a person is the contact or legal representative of, for
PIPL requests (chanrong.core.pipl).

Found by the keyed hashes of the person's phone and e-mail (the encrypted
columns cannot be searched), and, for the person's own enterprise, by
name. Anonymising clears the contact fields where the person is the
contact. The legal representative is not cleared: it is a registered fact
of the enterprise (营业执照, 国家企业信用信息公示系统) that the registry must
keep; the export shows it.
"""

from __future__ import annotations

from typing import Any

from chanrong.core.pipl import Provider, register

from .models import Enterprise
from .services.personal import find_by_contact

CONTACT_FIELDS = ("contact_name", "contact_phone", "contact_email")


def _related(user) -> list[tuple[Enterprise, list[str]]]:
    """(enterprise, relations) for the person."""
    found: dict[int, tuple[Enterprise, list[str]]] = {}
    phone, email = getattr(user, "phone", "") or "", user.email or ""
    if phone or email:
        for enterprise in find_by_contact(phone=phone, email=email).order_by("pk"):
            found[enterprise.pk] = (enterprise, ["contact"])
    name = (getattr(user, "display_name", "") or "").strip()
    own = getattr(user, "enterprise", None)
    if own is not None and name:
        relations = found.get(own.pk, (own, []))[1]
        if own.contact_name == name and "contact" not in relations:
            relations.append("contact")
        if own.legal_representative == name:
            relations.append("legal_representative")
        if relations:
            found[own.pk] = (own, relations)
    return sorted(found.values(), key=lambda item: item[0].pk)


def export_enterprises(user) -> list[dict[str, Any]]:
    out = []
    for enterprise, relations in _related(user):
        row: dict[str, Any] = {
            "id": enterprise.pk,
            "uscc": enterprise.uscc,
            "name": enterprise.name,
            "relations": relations,
        }
        if "contact" in relations:
            row.update({name: getattr(enterprise, name) for name in CONTACT_FIELDS})
        if "legal_representative" in relations:
            row["legal_representative"] = enterprise.legal_representative
            row["legal_rep_id_number"] = enterprise.legal_rep_id_number
        out.append(row)
    return out


def anonymise_contacts(user, actor) -> dict[str, int]:
    cleared = 0
    for enterprise, relations in _related(user):
        if "contact" not in relations:
            continue
        for name in CONTACT_FIELDS:
            setattr(enterprise, name, "")
        enterprise.save(
            update_fields=[
                *CONTACT_FIELDS,
                "contact_phone_hash",
                "contact_email_hash",
                "updated_at",
            ]
        )
        cleared += 1
    return {"enterprise_contacts_cleared": cleared}


register(Provider("enterprises", export_enterprises, anonymise_contacts, order=10))
