"""What the registry knows for financing eligibility (finance.eligibility codes).

Product rules in chanrong.finance ask about tax grade, qualifications and
list membership; this module answers for one enterprise on one day.
chanrong.matching.adapter mirrors it in bulk.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone

from ..models import Enterprise, FactStatus, ListEntry, ListSector, ListType, Qualification
from ..models.lists import received_label


def eligibility_facts(enterprise: Enterprise, on: date | None = None) -> dict[str, Any]:
    """The registry's facts for finance.eligibility.EnterpriseFacts: latest
    tax grade, active qualifications, lists in force and whether the
    enterprise is on a 失信黑名单 in force, as of `on` (default today).

    List codes: each list type's own code, plus the names the product rules
    use: "white_list" and "key_enterprise" for a 重点企业白名单 (and
    "manufacturing_white_list" when it is the manufacturing one), "red_list"
    for a 金融守信红名单. The registry always knows list membership, so
    `lists` and `blacklisted` are never None; `qualifications` is never None
    either (an empty set means none recorded and active).

    Provenance (issue 15): `qualifications` holds only verified ones;
    `declared_qualifications` those the enterprise declared and nobody has
    verified yet (rejected ones count nowhere); `revenue_verified` says
    whether the figures are verified. finance.eligibility reads declared
    facts as "需核验", never as passed."""
    day = on or timezone.localdate()
    verified: set[str] = set()
    declared: set[str] = set()
    rows = (
        Qualification.objects.active_on(day)
        .counting()
        .filter(enterprise=enterprise)
        .values_list("kind", "status")
    )
    for kind, status in rows:
        (verified if status == FactStatus.VERIFIED else declared).add(kind)
    qualifications = frozenset(verified)  # the same codes as finance.eligibility
    lists: set[str] = set()
    blacklisted = False
    black_sources: list[str] = []
    rows = (
        ListEntry.objects.in_force(day)
        .filter(enterprise=enterprise, project__isnull=True)
        .select_related("version__list")
    )
    for entry in rows:
        list_type, sector = entry.version.list.list_type, entry.version.list.sector
        lists.add(list_type)
        if list_type == ListType.KEY_ENTERPRISES:
            lists |= {"white_list", "key_enterprise"}
            if sector == ListSector.MANUFACTURING:
                lists.add("manufacturing_white_list")
        elif list_type == ListType.RED:
            lists.add("red_list")
        elif list_type == ListType.BLACK:
            blacklisted = True
            if entry.version.list.source_ref:
                black_sources.append(received_list_label(entry.version))
    return {
        "founded_on": enterprise.founded_on,
        "tax_grade": enterprise.tax_grade or None,
        "qualifications": qualifications,
        "declared_qualifications": frozenset(declared - verified),
        "revenue_verified": enterprise.figures_status == FactStatus.VERIFIED,
        "lists": frozenset(lists),
        "blacklisted": blacklisted,
        "blacklist_sources": tuple(black_sources),
    }


def received_list_label(version) -> str:
    """How a received list version is named where it decides something."""
    lst = version.list
    return received_label(
        lst.source_deployment,
        lst.list_type,
        lst.name,
        version.source_number or version.number,
        version.effective_from,
    )
