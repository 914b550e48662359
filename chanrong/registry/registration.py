"""The registry's part in self-registration (accounts.directory): an
enterprise is found by its USCC, and an approved application for a USCC not
yet on record puts the enterprise on record (source 企业自报, declared)."""

from __future__ import annotations

from chanrong.accounts.directory import Directory, Match, register

from .models import Enterprise
from .services.self_registered import create_self_registered


def lookup(uscc: str, name: str) -> Match | None:
    row = Enterprise.objects.filter(uscc=uscc).values("pk", "name", "region_id").first()
    return Match(row["pk"], row["name"], row["region_id"]) if row else None


def provide(actor, registration) -> tuple[int, None]:
    existing = Enterprise.objects.filter(uscc=registration.uscc).values_list("pk", flat=True)
    if pk := existing.first():
        return pk, None
    enterprise = create_self_registered(
        actor,
        uscc=registration.uscc,
        name=registration.name,
        region=registration.region,
        industry=registration.industry,
        contact_name=registration.contact_name,
        contact_phone=registration.contact_phone,
        contact_email=registration.contact_email,
    )
    return enterprise.pk, None


def connect() -> None:
    register("enterprise", Directory(lookup=lookup, provide=provide))
