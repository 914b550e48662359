"""Versioned lists (名单): the lists themselves and their versions' drafting.

A list (白名单, 红/黑名单, 专精特新 …) is kept by one government agency for a
region. Its members change only through versions: a new version starts as
a draft holding the members of the latest published one; drafts are
adjusted (list_entries), then approved and published (list_publishing).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from chanrong.accounts.models import GovernmentAgency
from chanrong.core import audit
from chanrong.core.errors import Conflict, FieldError, NotAllowed, NotFound, ValidationFailed
from chanrong.core.models import Region
from chanrong.core.scope import ScopeKind, scope_of

from ..models import (
    OPEN_STATUSES,
    EnterpriseList,
    EntryChange,
    ImmutableVersion,
    ListEntry,
    ListSector,
    ListType,
    ListVersion,
    VersionStatus,
)
from ..workflows import is_drafter
from .fields import _blank, _choice_field, _date_field, _present, _text


def can_create_list(actor) -> bool:
    kind = scope_of(actor).kind
    return kind == ScopeKind.PLATFORM or (kind == ScopeKind.GOVERNMENT and actor.is_government_user)


def clean_list_data(actor, data: dict[str, Any], *, current: EnterpriseList | None = None):
    errors: list[FieldError] = []
    allowed = {"list_type", "sector", "name", "region_code", "description", "agency_id"}
    for key in sorted(set(data) - allowed):
        errors.append(FieldError(key, _("不允许的字段")))
    creating = current is None
    out = _present(
        {
            "name": _text(data, "name", errors, 100, required=creating),
            "description": _text(data, "description", errors, 500),
        }
    )
    if not creating:
        for key in ("list_type", "sector", "region_code", "agency_id"):
            if key in data:
                errors.append(FieldError(key, _("名单创建后不能更改此项")))
        if out.get("name") == "":
            errors.append(FieldError("name", _("必填")))
        if errors:
            raise ValidationFailed(errors)
        return out
    out.update(
        _present(
            {
                "list_type": _choice_field(data, "list_type", ListType, errors, required=True),
                "sector": _choice_field(data, "sector", ListSector, errors),
            }
        )
    )
    scope = scope_of(actor)
    agency = None
    if scope.kind == ScopeKind.GOVERNMENT:
        agency = actor.agency
        if not _blank(data.get("agency_id")) and str(data["agency_id"]) != str(agency.pk):
            errors.append(FieldError("agency_id", _("只能为本部门创建名单")))
    elif _blank(data.get("agency_id")):
        errors.append(FieldError("agency_id", _("必填：维护部门")))
    else:
        try:
            agency = GovernmentAgency.objects.filter(pk=int(data["agency_id"])).first()
        except (TypeError, ValueError):
            agency = None
        if agency is None:
            errors.append(FieldError("agency_id", _("政府部门不存在")))
    out["agency"] = agency
    region = None
    if not _blank(data.get("region_code")):
        text = str(data["region_code"]).strip()
        region = Region.objects.filter(pk=text).first()
        if region is None:
            errors.append(
                FieldError("region_code", _("行政区划代码 %(code)s 不存在") % {"code": text})
            )
    elif agency is not None:
        region = agency.region
    if (
        agency is not None
        and region is not None
        and not region.code.startswith(agency.region_prefix)
    ):
        errors.append(FieldError("region_code", _("名单的适用地区应在维护部门的辖区之内")))
    if agency is not None and region is None and agency.region_id is not None:
        errors.append(FieldError("region_code", _("只有国家部门可以维护全国性名单")))
    out["region"] = region
    if errors:
        raise ValidationFailed(errors)
    return out


def create_list(actor, data: dict[str, Any]) -> EnterpriseList:
    """A new list kept by the actor's agency (a platform admin names the agency)."""
    if not can_create_list(actor):
        raise NotAllowed(_("只有政府部门可以建立名单"))
    values = clean_list_data(actor, data)
    with transaction.atomic():
        if EnterpriseList.objects.filter(agency=values["agency"], name=values["name"]).exists():
            raise ValidationFailed({"name": _("本部门已有同名名单")})
        lst = EnterpriseList.objects.create(created_by=actor, **values)
        audit.record(
            "list.create",
            actor=actor,
            obj=lst,
            changes={
                "list_type": lst.list_type,
                "agency": lst.agency_id,
                "region": lst.region_id,
            },
        )
    return lst


def _local_or_conflict(lst: EnterpriseList) -> None:
    """A list received from another deployment is adjusted only at its source."""
    if lst.source_ref:
        raise Conflict(
            _("该名单由%(source)s推送，只能由来源平台调整") % {"source": lst.source_deployment},
            code="list_received",
        )


def update_list(actor, lst: EnterpriseList, data: dict[str, Any]) -> EnterpriseList:
    if not is_drafter(actor, lst):
        raise NotAllowed(_("只有维护部门可以修改名单"))
    _local_or_conflict(lst)
    values = clean_list_data(actor, data, current=lst)
    with transaction.atomic():
        locked = EnterpriseList.objects.select_for_update().get(pk=lst.pk)
        if "name" in values and (
            EnterpriseList.objects.filter(agency_id=locked.agency_id, name=values["name"])
            .exclude(pk=locked.pk)
            .exists()
        ):
            raise ValidationFailed({"name": _("本部门已有同名名单")})
        before = {"name": locked.name, "description": locked.description}
        for key, value in values.items():
            setattr(locked, key, value)
        changes = audit.diff(before, {"name": locked.name, "description": locked.description})
        if changes:
            locked.save()
            audit.record("list.update", actor=actor, obj=locked, changes=changes)
    return locked


def get_visible_list(actor, pk: int) -> EnterpriseList:
    lst = EnterpriseList.objects.visible_to(actor).filter(pk=pk).first()
    if lst is None:
        raise NotFound(_("名单不存在"))
    return lst


def get_visible_version(actor, lst: EnterpriseList, number: int) -> ListVersion:
    version = (
        ListVersion.objects.visible_to(actor)
        .filter(list=lst, number=number)
        .select_related("list__agency", "list__region")
        .first()
    )
    if version is None:
        raise NotFound(_("名单版本不存在"))
    return version


def get_visible_version_by_id(actor, pk: int) -> ListVersion:
    version = (
        ListVersion.objects.visible_to(actor)
        .filter(pk=pk)
        .select_related("list__agency", "list__region")
        .first()
    )
    if version is None:
        raise NotFound(_("名单版本不存在"))
    return version


def latest_published(lst: EnterpriseList) -> ListVersion | None:
    return (
        ListVersion.objects.filter(list=lst, status=VersionStatus.PUBLISHED)
        .order_by("-number")
        .first()
    )


def open_version(lst: EnterpriseList) -> ListVersion | None:
    return ListVersion.objects.filter(list=lst, status__in=OPEN_STATUSES).first()


def start_version(actor, lst: EnterpriseList, *, note: str = "") -> ListVersion:
    """Open the next version as a draft holding the members of the latest
    published one (each "kept", with its reason), ready for adjustments."""
    if not is_drafter(actor, lst):
        raise NotAllowed(_("只有维护部门可以编制名单"))
    _local_or_conflict(lst)
    errors: list[FieldError] = []
    text = _text({"note": note}, "note", errors, 500)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        EnterpriseList.objects.select_for_update().get(pk=lst.pk)
        if open_version(lst) is not None:
            raise Conflict(_("该名单已有一个正在编制或审批中的版本"), code="version_open")
        last = ListVersion.objects.filter(list=lst).order_by("-number").first()
        version = ListVersion.objects.create(
            list=lst, number=(last.number + 1) if last else 1, note=text, created_by=actor
        )
        base = latest_published(lst)
        if base is not None:
            ListEntry.objects.bulk_create(
                [
                    ListEntry(
                        version=version,
                        enterprise_id=e.enterprise_id,
                        project_id=e.project_id,
                        change=EntryChange.KEPT,
                        reason=e.reason,
                        created_by=actor,
                    )
                    for e in base.entries.members().order_by("pk")
                ]
            )
        audit.record(
            "list_version.create",
            actor=actor,
            obj=version,
            changes={"number": version.number, "based_on": base.number if base else None},
        )
    return version


def _draft_or_conflict(version: ListVersion) -> None:
    if version.status != VersionStatus.DRAFT:
        if version.status == VersionStatus.PUBLISHED:
            raise ImmutableVersion()
        raise Conflict(
            _("只有草稿状态的版本可以调整（当前：%(status)s）")
            % {"status": version.get_status_display()},
            code="version_not_draft",
        )


def update_version(actor, version: ListVersion, data: dict[str, Any]) -> ListVersion:
    """Change a draft's note or proposed effective date."""
    if not is_drafter(actor, version.list):
        raise NotAllowed(_("只有维护部门可以编制名单"))
    errors: list[FieldError] = []
    for key in sorted(set(data) - {"note", "effective_from"}):
        errors.append(FieldError(key, _("不允许的字段")))
    values = _present(
        {
            "note": _text(data, "note", errors, 500),
            "effective_from": _date_field(data, "effective_from", errors),
        }
    )
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        locked = ListVersion.objects.select_for_update().get(pk=version.pk)
        _draft_or_conflict(locked)
        before = {"note": locked.note, "effective_from": locked.effective_from}
        for key, value in values.items():
            setattr(locked, key, value)
        changes = audit.diff(before, {"note": locked.note, "effective_from": locked.effective_from})
        if changes:
            locked.save()
            audit.record("list_version.update", actor=actor, obj=locked, changes=changes)
    version.note, version.effective_from = locked.note, locked.effective_from
    return locked


def discard_version(actor, version: ListVersion) -> None:
    """Throw away a draft or returned version that was never published."""
    if not is_drafter(actor, version.list):
        raise NotAllowed(_("只有维护部门可以编制名单"))
    with transaction.atomic():
        locked = ListVersion.objects.select_for_update().get(pk=version.pk)
        if locked.status not in (VersionStatus.DRAFT, VersionStatus.REJECTED):
            raise Conflict(_("只有草稿或已退回的版本可以删除"), code="version_not_draft")
        audit.record(
            "list_version.discard",
            actor=actor,
            obj=locked,
            changes={"number": locked.number, "entries": locked.entries.count()},
        )
        locked.delete()
