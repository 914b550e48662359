"""Finance's part in self-registration (accounts.directory): an institution
is found by its code or its exact name; approving an application links the
new institution-manager account to the institution on record or creates the
institution (head office in the region applied from), and the branch named
in the application under it. Audited; runs in the approval's transaction."""

from __future__ import annotations

from django.db.models import Q

from chanrong.accounts.directory import Directory, Match, register
from chanrong.core import audit

from .models import Branch, BranchLevel, FinancialInstitution, InstitutionKind


def lookup(code: str, name: str) -> Match | None:
    row = (
        FinancialInstitution.objects.filter(Q(uscc=code) & ~Q(uscc="") | Q(name=name))
        .order_by("pk")
        .values("pk", "name", "region_id")
        .first()
    )
    return Match(row["pk"], row["name"], row["region_id"]) if row else None


def provide(actor, registration) -> tuple[int, int | None]:
    match = lookup(registration.uscc, registration.name)
    if match is not None:
        institution = FinancialInstitution.objects.get(pk=match.pk)
    else:
        institution = FinancialInstitution.objects.create(
            name=registration.name,
            kind=registration.institution_kind,
            uscc=registration.uscc if len(registration.uscc) == 18 else "",
            region=registration.region,
        )
        audit.record(
            "finance.institution.create",
            actor=actor,
            obj=institution,
            changes={
                "name": institution.name,
                "kind": institution.kind,
                "uscc": institution.uscc,
                "region": institution.region_id,
                "licence": registration.uscc if len(registration.uscc) != 18 else "",
                "via": "registration",
            },
        )
    if not registration.branch_name:
        return institution.pk, None
    branch = Branch.objects.filter(institution=institution, name=registration.branch_name).first()
    if branch is None:
        branch = Branch.objects.create(
            institution=institution,
            name=registration.branch_name,
            level=BranchLevel.SUB,
            region=registration.region,
        )
        audit.record(
            "finance.branch.create",
            actor=actor,
            obj=branch,
            changes={
                "institution": institution.pk,
                "region": branch.region_id,
                "via": "registration",
            },
        )
    return institution.pk, branch.pk


def kinds() -> list[tuple[str, str]]:
    return list(InstitutionKind.choices)


def connect() -> None:
    register("institution", Directory(lookup=lookup, provide=provide, kinds=kinds))
