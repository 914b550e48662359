"""Projects (重点项目): registering, changing and importing an enterprise's projects.

A project belongs to an owner enterprise and is sited in a county; whoever
may edit the owner, or government whose subtree holds the site, may edit
it. The owner's project of the same name is the same project, so
re-importing never duplicates. `check_project_import` finds what
`upsert_project` would refuse without writing anything.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.codes import normalise_uscc
from chanrong.core.errors import FieldError, NotAllowed, NotFound, ValidationFailed
from chanrong.core.models import Region, RegionLevel
from chanrong.core.scope import ScopeKind, scope_of

from ..models import Enterprise, Project, ProjectClass, ProjectKind, ProjectStage
from .access import can_edit_enterprise
from .fields import _amount_field, _blank, _choice_field, _integer_field, _present, _text

PROJECT_FIELDS = (
    "owner_id",
    "owner_uscc",
    "name",
    "kind",
    "project_class",
    "total_investment_wan",
    "financing_need_wan",
    "stage",
    "region_code",
    "start_year",
    "description",
)


def can_create_project(actor) -> bool:
    kind = scope_of(actor).kind
    return kind in (ScopeKind.PLATFORM, ScopeKind.GOVERNMENT, ScopeKind.ENTERPRISE)


def can_edit_project(actor, project: Project) -> bool:
    """Whoever may edit the owner enterprise (itself, its government, the
    platform), or government whose subtree holds the project's site."""
    if can_edit_enterprise(actor, project.owner):
        return True
    scope = scope_of(actor)
    return scope.kind == ScopeKind.GOVERNMENT and project.region_id.startswith(scope.region_prefix)


def _owner(actor, data: dict[str, Any], errors: list[FieldError]) -> Enterprise | None:
    """The owner named by owner_id or owner_uscc, among those the actor may edit.
    An enterprise user's projects are its own (no owner needed)."""
    scope = scope_of(actor)
    given = not _blank(data.get("owner_id")) or not _blank(data.get("owner_uscc"))
    if scope.kind == ScopeKind.ENTERPRISE and not given:
        return Enterprise.objects.get(pk=scope.enterprise_id)
    visible = Enterprise.objects.visible_to(actor)
    if not _blank(data.get("owner_id")):
        try:
            owner = visible.filter(pk=int(data["owner_id"])).first()
        except (TypeError, ValueError):
            owner = None
        key = "owner_id"
    elif not _blank(data.get("owner_uscc")):
        owner = visible.filter(uscc=normalise_uscc(str(data["owner_uscc"]))).first()
        key = "owner_uscc"
    else:
        errors.append(FieldError("owner_id", _("必填：项目单位")))
        return None
    if owner is None:
        errors.append(FieldError(key, _("项目单位不存在或不在您的管辖范围内")))
        return None
    if not can_edit_enterprise(actor, owner):
        errors.append(FieldError(key, _("无权为该企业登记项目")))
        return None
    return owner


def _county(code: Any, key: str, errors: list[FieldError]) -> Region | None:
    text = str(code).strip()
    region = Region.objects.filter(pk=text).first()
    if region is None:
        errors.append(FieldError(key, _("行政区划代码 %(code)s 不存在") % {"code": text}))
        return None
    if region.level != RegionLevel.COUNTY:
        errors.append(FieldError(key, _("应为县级行政区划代码（6 位）")))
        return None
    return region


def clean_project_data(
    actor, data: dict[str, Any], *, current: Project | None = None
) -> dict[str, Any]:
    """Model values for a new project, or the changed fields of `current`."""
    errors: list[FieldError] = []
    for key in sorted(set(data) - set(PROJECT_FIELDS)):
        errors.append(FieldError(key, _("不允许的字段")))
    creating = current is None
    out: dict[str, Any] = {}
    if creating:
        owner = _owner(actor, data, errors)
        if owner is not None:
            out["owner"] = owner
    elif "owner_id" in data or "owner_uscc" in data:
        errors.append(FieldError("owner_id", _("项目单位不能更改")))
    this_year = timezone.localdate().year
    out.update(
        _present(
            {
                "name": _text(data, "name", errors, 100, required=creating),
                "kind": _choice_field(data, "kind", ProjectKind, errors, required=creating),
                "project_class": _choice_field(data, "project_class", ProjectClass, errors),
                "total_investment": _amount_field(
                    data, "total_investment_wan", errors, required=creating
                ),
                "financing_need": _amount_field(data, "financing_need_wan", errors),
                "stage": _choice_field(data, "stage", ProjectStage, errors, required=creating),
                "start_year": _integer_field(
                    data,
                    "start_year",
                    errors,
                    low=1949,
                    high=this_year + 10,
                    message=_("开工年份应为 1949 至 %(high)s 年之间") % {"high": this_year + 10},
                ),
                "description": _text(data, "description", errors, 1000),
            }
        )
    )
    if not creating:
        for key in ("name", "total_investment"):
            if key in out and out[key] in ("", None):
                errors.append(
                    FieldError("total_investment_wan" if key != "name" else key, _("必填"))
                )
    if out.get("name") and len(out["name"]) < 2:
        errors.append(FieldError("name", _("项目名称至少 2 个字符")))
    if "region_code" in data and not _blank(data["region_code"]):
        region = _county(data["region_code"], "region_code", errors)
        if region is not None:
            out["region"] = region
    elif creating and "owner" in out:
        out["region"] = out["owner"].region
    if "region" in out:
        scope = scope_of(actor)
        if scope.kind == ScopeKind.GOVERNMENT and not out["region"].code.startswith(
            scope.region_prefix
        ):
            owner = out.get("owner") or (current.owner if current else None)
            if owner is None or not owner.region_id.startswith(scope.region_prefix):
                errors.append(FieldError("region_code", _("只能登记本辖区内的项目")))
    total = out.get("total_investment", current.total_investment if current else None)
    need = out.get("financing_need", current.financing_need if current else None)
    if total is not None and need is not None and need > total:
        errors.append(FieldError("financing_need_wan", _("融资需求不能超过总投资")))
    if errors:
        raise ValidationFailed(errors)
    return out


def _project_snapshot(project: Project) -> dict[str, Any]:
    return {
        "owner_id": project.owner_id,
        "name": project.name,
        "kind": project.kind,
        "project_class": project.project_class or None,
        "total_investment": project.total_investment,
        "financing_need": project.financing_need,
        "stage": project.stage,
        "region_code": project.region_id,
        "start_year": project.start_year,
        "description": project.description or None,
    }


def create_project(actor, data: dict[str, Any]) -> Project:
    if not can_create_project(actor):
        raise NotAllowed(_("无权登记项目"))
    values = clean_project_data(actor, data)
    with transaction.atomic():
        if Project.objects.filter(owner=values["owner"], name=values["name"]).exists():
            raise ValidationFailed({"name": _("该企业已有同名项目")})
        project = Project.objects.create(**values)
        audit.record(
            "project.create",
            actor=actor,
            obj=project,
            changes=audit.diff({}, _project_snapshot(project)),
        )
    return project


def update_project(actor, project: Project, data: dict[str, Any]) -> Project:
    if not can_edit_project(actor, project):
        raise NotAllowed(_("无权修改该项目"))
    values = clean_project_data(actor, data, current=project)
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        if "name" in values and (
            Project.objects.filter(owner_id=locked.owner_id, name=values["name"])
            .exclude(pk=locked.pk)
            .exists()
        ):
            raise ValidationFailed({"name": _("该企业已有同名项目")})
        before = _project_snapshot(locked)
        for key, value in values.items():
            setattr(locked, key, value)
        changes = audit.diff(before, _project_snapshot(locked))
        if changes:
            locked.save()
            audit.record("project.update", actor=actor, obj=locked, changes=changes)
    return locked


def upsert_project(actor, data: dict[str, Any]) -> tuple[Project, bool]:
    """Create a project, or update the owner's project of the same name
    (re-importing never duplicates). Returns (project, created)."""
    errors: list[FieldError] = []
    owner = _owner(actor, data, errors)
    name = _text(data, "name", errors, 100, required=True)
    if errors:
        raise ValidationFailed(errors)
    existing = Project.objects.filter(owner=owner, name=name).first()
    if existing is None:
        return create_project(actor, data), True
    changes = {k: v for k, v in data.items() if k not in ("owner_id", "owner_uscc", "name")}
    return update_project(actor, existing, changes), False


def get_visible_project(actor, pk: int) -> Project:
    project = Project.objects.visible_to(actor).filter(pk=pk).first()
    if project is None:
        raise NotFound(_("项目不存在"))
    return project


# --- checks for row-by-row imports (projects, list members): what upsert_project
# and add_list_entry would refuse, found without writing anything.


def check_project_import(actor, data: dict[str, Any]) -> list[FieldError]:
    """The errors upsert_project(actor, data) would raise (none: it would succeed)."""
    errors: list[FieldError] = []
    owner = _owner(actor, data, errors)
    name = _text(data, "name", errors, 100, required=True)
    if errors:
        return errors
    existing = Project.objects.filter(owner=owner, name=name).first()
    try:
        if existing is None:
            if not can_create_project(actor):
                return [FieldError("owner_uscc", _("无权登记项目"))]
            clean_project_data(actor, data)
        elif not can_edit_project(actor, existing):
            return [FieldError("name", _("无权修改该项目"))]
        else:
            changes = {k: v for k, v in data.items() if k not in ("owner_id", "owner_uscc", "name")}
            clean_project_data(actor, changes, current=existing)
    except ValidationFailed as exc:
        return list(exc.errors)
    return []
