"""Consultations a person asked, for PIPL requests (chanrong.core.pipl).

Found by the account that asked and by the keyed hashes of the person's
phone and e-mail (an anonymous question left with the same contact).
Anonymising replaces the asker's name and contact with placeholders; the
question and the public answer stay (the public list already masks them).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from chanrong.core.fieldcrypt import lookup_hashes
from chanrong.core.pipl import Provider, register

from .models import ANONYMISED_NAME, Consultation


def _asked_by(user):
    found = Q(asker_user=user)
    phone, email = getattr(user, "phone", "") or "", user.email or ""
    if phone:
        found |= Q(asker_phone_hash__in=lookup_hashes(phone, purpose="phone"))
    if email:
        found |= Q(asker_email_hash__in=lookup_hashes(email, purpose="email"))
    return Consultation.objects.filter(found).order_by("pk")


def export_consultations(user) -> list[dict[str, Any]]:
    return [
        {
            "id": c.pk,
            "subject": c.subject,
            "question": c.question,
            "addressee": c.addressee_label(),
            "name": c.asker_name,
            "phone": c.asker_phone,
            "email": c.asker_email,
            "state": c.state,
            "answer": c.answer,
            "submitted_at": c.submitted_at,
        }
        for c in _asked_by(user).select_related("agency", "institution")
    ]


def anonymise_consultations(user, actor) -> dict[str, int]:
    rows = list(_asked_by(user))
    for row in rows:
        row.asker_name, row.asker_phone, row.asker_email = ANONYMISED_NAME, "", ""
        row.save(
            update_fields=[
                "asker_name",
                "asker_phone",
                "asker_email",
                "asker_phone_hash",
                "asker_email_hash",
            ]
        )
    return {"consultations": len(rows)}


register(Provider("content", export_consultations, anonymise_consultations))
