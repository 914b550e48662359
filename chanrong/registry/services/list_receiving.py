"""Lists received from other deployments (issue 19 part 2: 红黑名单跨区域互认).

A published list version that another deployment sent (its parent's, pushed
down; or a child's, pushed up) becomes an ordinary published version of a
local `EnterpriseList` marked as received (`source_deployment`,
`source_ref`). From then on the registry's own rules treat it like any other:
membership in force (`ListEntry.in_force`), eligibility facts (a received
失信黑名单 excludes), matching and visibility (a province's list is "above" its
counties' government users). Provenance travels with it: `ListVersion.provenance`.

The caller (the exchange app, above the registry) has verified the batch's
signature and passes plain data; nothing here knows of the exchange.

Rules:
- one local list per source list (`source_ref`), kept by a local agency named
  after the source's agency and platform, which has no users: a received
  list is never edited here (`start_version` refuses it);
- entries map to local enterprises by USCC; the others are kept on the
  version (`unmatched`, with USCC and name) and counted;
- versions follow the registry's version rules: a newer source version
  becomes the next local version and ends the previous one the day before it
  takes effect; an older or equal source version than the newest received is
  ignored (a late or repeated batch changes nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from chanrong.accounts.models import AgencyFunction, AgencyLevel, GovernmentAgency
from chanrong.core import audit
from chanrong.core.models import Region

from ..models import (
    Enterprise,
    EnterpriseList,
    EntryChange,
    ListEntry,
    ListSector,
    ListType,
    ListVersion,
    VersionStatus,
)


class ReceivedListInvalid(ValueError):
    """The payload cannot become a list version here (unknown type, region …)."""


@dataclass(frozen=True)
class ReceivedOutcome:
    version: ListVersion | None  # None: an older or repeated source version
    matched: int
    unmatched: int


def _level(code: str) -> str:
    if not code:
        return AgencyLevel.NATIONAL
    if code.endswith("0000"):
        return AgencyLevel.PROVINCIAL
    if code.endswith("00"):
        return AgencyLevel.MUNICIPAL
    return AgencyLevel.COUNTY


def source_ref_of(deployment_id: str, lst: dict[str, Any]) -> str:
    parts = (deployment_id, lst["type"], lst.get("region") or "", lst.get("sector") or "")
    return ("/".join(parts) + "/" + lst["name"])[:200]


def receive_list_version(
    *,
    deployment_id: str,
    deployment_name: str,
    batch_id: str,
    payload: dict[str, Any],
) -> ReceivedOutcome:
    """Materialise one received list version (call inside the transaction
    that stores the batch, so that a failure stores neither)."""
    lst, ver = payload["list"], payload["version"]
    list_type = lst.get("type")
    if list_type not in ListType.values:
        raise ReceivedListInvalid(f"payload.list.type {list_type!r} is not a list type")
    sector = lst.get("sector") or ""
    if sector not in ListSector.values:
        raise ReceivedListInvalid(f"payload.list.sector {sector!r} is unknown")
    region_code = lst.get("region") or ""
    region = Region.objects.filter(code=region_code).first() if region_code else None
    if region_code and region is None:
        raise ReceivedListInvalid(f"payload.list.region {region_code} is not a region")
    number = ver.get("number")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise ReceivedListInvalid("payload.version.number must be a positive integer")
    effective = parse_date(ver.get("effective_from") or "") if ver.get("effective_from") else None
    published_at = (
        parse_datetime(ver.get("published_at") or "") if ver.get("published_at") else None
    )
    effective = effective or (published_at.date() if published_at else timezone.localdate())
    name = str(lst.get("name") or "")[:100]
    if not name:
        raise ReceivedListInvalid("payload.list.name is required")
    ref = source_ref_of(deployment_id, lst)

    agency_name = f"{lst.get('agency') or deployment_name}（{deployment_name}）"[:100]
    agency = GovernmentAgency.objects.filter(name=agency_name, region=region).first()
    if agency is None:
        agency = GovernmentAgency.objects.create(
            name=agency_name,
            level=_level(region_code),
            function=AgencyFunction.OTHER,
            region=region,
        )
    target = EnterpriseList.objects.select_for_update().filter(source_ref=ref).first()
    if target is None:
        target = EnterpriseList.objects.create(
            list_type=list_type,
            sector=sector,
            name=name,
            agency=agency,
            region=region,
            description=f"由{deployment_name}推送"[:500],
            source_deployment=deployment_name[:100],
            source_ref=ref,
        )
    last = ListVersion.objects.filter(list=target).order_by("-number").first()
    if last is not None and (last.source_number or 0) >= number:
        return ReceivedOutcome(None, 0, 0)

    usccs = {}
    for item in payload.get("entries", []):
        if item.get("project"):
            continue  # project entries need the project here; enterprise entries only
        usccs.setdefault(str(item["uscc"]).upper(), str(item["name"]))
    local = dict(Enterprise.objects.filter(uscc__in=list(usccs)).values_list("uscc", "pk"))
    unmatched = [{"uscc": u, "name": n} for u, n in sorted(usccs.items()) if u not in local]

    # The previous version ends the day before this one takes effect (the
    # registry's rule; a same-day successor leaves it never in force).
    if last is not None and last.effective_until is None:
        ListVersion.objects.filter(pk=last.pk).update(effective_until=effective - timedelta(days=1))
    version = ListVersion.objects.create(
        list=target,
        number=(last.number + 1) if last else 1,
        note=str(ver.get("note") or "")[:500],
        effective_from=effective,
        source_number=number,
        source_batch=batch_id[:64],
        unmatched=unmatched,
    )
    ListEntry.objects.bulk_create(
        ListEntry(version=version, enterprise_id=pk, change=EntryChange.ADDED)
        for pk in sorted(local.values())
    )
    # Published only once its entries are in (entries are frozen after).
    version.status = VersionStatus.PUBLISHED
    version.published_at = published_at or timezone.now()
    version.save(update_fields=["status", "published_at"])
    audit.record(
        "list_version.received",
        obj=version,
        object_repr=str(version),
        changes={
            "source": deployment_name,
            "source_number": number,
            "batch": batch_id,
            "matched": len(local),
            "unmatched": len(unmatched),
        },
    )
    return ReceivedOutcome(version, len(local), len(unmatched))
