"""Versioned lists (白名单 / 红名单 / 黑名单 …) over the API, mounted at /api/v1/lists.

A list's versions are addressed by number (/lists/{id}/versions/{n}).
Reads come from the lists family's `visible_to`; every change (drafting,
the approval workflow, publication) goes through `chanrong.registry.services`.
"""

from datetime import date, datetime
from typing import Annotated
from urllib.parse import quote

from django.db.models import Q
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from chanrong.core.apikit.caller import actor
from chanrong.core.apikit.errors import responses
from chanrong.core.apikit.pagination import paginated
from chanrong.core.apikit.schemas import InputSchema, ObjectId, RegionCode, Text, drop_null_default
from chanrong.core.codes import normalise_uscc
from chanrong.core.errors import NotFound, ValidationFailed

from . import services
from .api_profile import IsoDate
from .models import (
    Enterprise,
    EnterpriseList,
    EntryChange,
    ListEntry,
    ListSector,
    ListType,
    ListVersion,
    Project,
    VersionStatus,
)
from .workflows import is_approver, is_drafter

router = Router(tags=["lists 名单"])

Number = Annotated[int, Field(ge=1, le=1_000_000, description="版本号")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_UNSET = {"default": None, "json_schema_extra": drop_null_default}


class ListOut(Schema):
    id: int
    list_type: ListType
    list_type_label: str
    sector: str = Field(
        description="适用领域：空为综合，manufacturing 制造业，tech_innovation 科技创新"
    )
    name: str
    agency_id: int
    agency_name: str
    region_code: str | None = Field(description="适用地区；null 为全国")
    region_name: str
    description: str
    subjects: list[str] = Field(description="收录对象：enterprise / project")
    current_version: int | None = Field(description="今天生效的版本号")
    can_draft: bool
    can_approve: bool

    @staticmethod
    def resolve_list_type_label(obj: EnterpriseList) -> str:
        return obj.get_list_type_display()

    @staticmethod
    def resolve_agency_name(obj: EnterpriseList) -> str:
        return obj.agency.name

    @staticmethod
    def resolve_region_code(obj: EnterpriseList) -> str | None:
        return obj.region_id

    @staticmethod
    def resolve_region_name(obj: EnterpriseList) -> str:
        return obj.region.full_name if obj.region_id else "全国"

    @staticmethod
    def resolve_subjects(obj: EnterpriseList) -> list[str]:
        return sorted(obj.subjects)

    @staticmethod
    def resolve_current_version(obj: EnterpriseList) -> int | None:
        version = ListVersion.objects.in_force().filter(list=obj).first()
        return version.number if version else None

    @staticmethod
    def resolve_can_draft(obj, context) -> bool:
        return is_drafter(actor(context["request"]), obj)

    @staticmethod
    def resolve_can_approve(obj, context) -> bool:
        return is_approver(actor(context["request"]), obj)


class ListIn(InputSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "list_type": "key_enterprises",
                    "sector": "manufacturing",
                    "name": "嘉善县制造业重点企业白名单",
                    "region_code": "330421",
                }
            ]
        },
    )

    list_type: ListType
    sector: ListSector | None = None
    name: Text(100, min_length=1)  # type: ignore[valid-type]
    region_code: RegionCode | None = Field(None, description="适用地区；默认为本部门辖区")
    description: Text(500) | None = None  # type: ignore[valid-type]
    agency_id: ObjectId | None = Field(None, description="维护部门；仅平台管理员需要指定")


class ListPatch(InputSchema):
    name: Text(100, min_length=1) = Field(**_UNSET)  # type: ignore[valid-type]
    description: Text(500) | None = None  # type: ignore[valid-type]


class VersionOut(Schema):
    id: int
    list_id: int
    number: int
    status: VersionStatus = Field(
        description="draft 草稿 / submitted 待审批 / rejected 已退回 / published 已发布"
    )
    status_label: str
    note: str = Field(description="调整说明")
    effective_from: date | None = Field(description="生效日期（草稿中为拟生效日期）")
    effective_until: date | None = Field(description="失效日期（被下一版本取代的前一日）")
    in_force: bool = Field(description="今天是否生效")
    review_note: str = Field(description="审批意见 / 退回理由")
    members: int = Field(description="成员数")
    submitted_at: datetime | None
    published_at: datetime | None
    actions: list[str] = Field(description="当前用户可执行的操作")

    @staticmethod
    def resolve_status_label(obj: ListVersion) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_in_force(obj: ListVersion) -> bool:
        return obj.in_force_on()

    @staticmethod
    def resolve_members(obj: ListVersion, context) -> int:
        viewer = actor(context["request"])
        return ListEntry.objects.visible_to(viewer).filter(version=obj).members().count()

    @staticmethod
    def resolve_submitted_at(obj) -> datetime | None:
        return timezone.localtime(obj.submitted_at) if obj.submitted_at else None

    @staticmethod
    def resolve_published_at(obj) -> datetime | None:
        return timezone.localtime(obj.published_at) if obj.published_at else None

    @staticmethod
    def resolve_actions(obj, context) -> list[str]:
        viewer = actor(context["request"])
        names = services.version_actions(viewer, obj)
        if obj.status == VersionStatus.DRAFT and is_drafter(viewer, obj.list):
            names += ["edit", "discard"]
        elif obj.status == VersionStatus.REJECTED and is_drafter(viewer, obj.list):
            names.append("discard")
        return names


class EntryOut(Schema):
    id: int
    enterprise_id: int
    enterprise_name: str
    uscc: str
    project_id: int | None
    project_name: str | None
    region_code: str
    change: EntryChange = Field(
        description="与所依据版本相比：added 新增 / kept 保留 / removed 移出"
    )
    reason: str

    @staticmethod
    def resolve_enterprise_name(obj: ListEntry) -> str:
        return obj.enterprise.name

    @staticmethod
    def resolve_uscc(obj: ListEntry) -> str:
        return obj.enterprise.uscc

    @staticmethod
    def resolve_project_name(obj: ListEntry) -> str | None:
        return obj.project.name if obj.project_id else None

    @staticmethod
    def resolve_region_code(obj: ListEntry) -> str:
        return obj.project.region_id if obj.project_id else obj.enterprise.region_id


class NewVersionIn(InputSchema):
    note: Text(500) | None = Field(None, description="调整说明")  # type: ignore[valid-type]


class VersionPatch(InputSchema):
    note: Text(500) | None = None  # type: ignore[valid-type]
    effective_from: IsoDate | None = Field(None, description="拟生效日期")


class EntryIn(InputSchema):
    """One of enterprise_id, uscc or project_id."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"uscc": "91330421MA2D00001A", "reason": "2025 年度亩均效益 A 类"}]
        },
    )

    enterprise_id: ObjectId | None = None
    uscc: Text(40) | None = Field(None, description="以统一社会信用代码指定企业")  # type: ignore[valid-type]
    project_id: ObjectId | None = None
    reason: Text(300, min_length=1) = Field(description="列入理由")  # type: ignore[valid-type]


class ReasonIn(InputSchema):
    reason: Text(300, min_length=1)  # type: ignore[valid-type]


class RejectIn(InputSchema):
    note: Text(500, min_length=1) = Field(description="退回理由")  # type: ignore[valid-type]


class PublishIn(InputSchema):
    effective_from: IsoDate | None = Field(
        None, description="生效日期；默认为拟生效日期，否则今天；不能早于今天"
    )
    note: Text(500) | None = Field(None, description="审批意见")  # type: ignore[valid-type]


class ListFilter(Schema):
    list_type: ListType | None = None
    region: RegionCode | None = Field(None, description="适用地区（精确）")
    agency_id: ObjectId | None = None


class EntryFilter(Schema):
    include_removed: bool = Field(False, description="也列出本版移出的成员（附移出理由）")
    q: Text(100) | None = Field(None, description="企业名称、统一社会信用代码或项目名称包含")  # type: ignore[valid-type]


class CompareOut(Schema):
    a: int
    b: int
    added: list[EntryOut] = Field(description="在 b 而不在 a")
    removed: list[EntryOut] = Field(description="在 a 而不在 b（理由为 b 中的移出理由，若有）")
    kept: int = Field(description="两版都有的成员数")


# --- lists -------------------------------------------------------------------------------


@router.get("", response=responses({200: list[ListOut]}, 422), summary="名单列表")
@paginated
def list_lists(request, filters: Query[ListFilter]):
    queryset = EnterpriseList.objects.visible_to(actor(request)).select_related("agency", "region")
    if filters.list_type:
        queryset = queryset.filter(list_type=filters.list_type)
    if filters.region:
        queryset = queryset.filter(region_id=filters.region)
    if filters.agency_id:
        queryset = queryset.filter(agency_id=filters.agency_id)
    return queryset.order_by("list_type", "name", "pk")


@router.post("", response=responses({201: ListOut}, 400, 413, 422), summary="建立名单")
def create_list(request, payload: ListIn):
    lst = services.create_list(actor(request), payload.model_dump(exclude_none=True))
    return Status(201, lst)


@router.get("/{id}", response=responses({200: ListOut}, 404, 422), summary="名单详情")
def get_list(request, id: ObjectId):
    return services.get_visible_list(actor(request), id)


@router.patch(
    "/{id}", response=responses({200: ListOut}, 400, 404, 413, 422), summary="修改名单名称或说明"
)
def update_list(request, id: ObjectId, payload: ListPatch):
    lst = services.get_visible_list(actor(request), id)
    return services.update_list(actor(request), lst, payload.model_dump(exclude_unset=True))


@router.get(
    "/{id}/compare",
    response=responses({200: CompareOut}, 404, 422),
    summary="比较两个版本",
)
def compare(request, id: ObjectId, a: Number, b: Number):
    lst = services.get_visible_list(actor(request), id)
    first = services.get_visible_version(actor(request), lst, a)
    second = services.get_visible_version(actor(request), lst, b)
    diff = services.compare_versions(first, second, actor(request))
    removed = []
    for entry in diff.removed:
        reason = diff.removal_reasons.get((entry.enterprise_id, entry.project_id))
        if reason is not None:
            entry.reason = reason
        removed.append(entry)
    return {"a": a, "b": b, "added": diff.added, "removed": removed, "kept": diff.kept}


# --- versions ------------------------------------------------------------------------------


@router.get(
    "/{id}/versions", response=responses({200: list[VersionOut]}, 404, 422), summary="版本列表"
)
def list_versions(request, id: ObjectId):
    lst = services.get_visible_list(actor(request), id)
    return (
        ListVersion.objects.visible_to(actor(request))
        .filter(list=lst)
        .select_related("list")
        .order_by("-number")
    )


@router.post(
    "/{id}/versions",
    response=responses({201: VersionOut}, 400, 404, 409, 413, 422),
    summary="编制新版本（以最新发布版本为底稿）",
)
def start_version(request, id: ObjectId, payload: NewVersionIn):
    lst = services.get_visible_list(actor(request), id)
    version = services.start_version(actor(request), lst, note=payload.note or "")
    return Status(201, version)


def _version(request, id: int, number: int) -> ListVersion:
    lst = services.get_visible_list(actor(request), id)
    return services.get_visible_version(actor(request), lst, number)


@router.get(
    "/{id}/versions/{number}", response=responses({200: VersionOut}, 404, 422), summary="版本详情"
)
def get_version(request, id: ObjectId, number: Number):
    return _version(request, id, number)


@router.patch(
    "/{id}/versions/{number}",
    response=responses({200: VersionOut}, 400, 404, 409, 413, 422),
    summary="修改草稿的调整说明或拟生效日期",
)
def update_version(request, id: ObjectId, number: Number, payload: VersionPatch):
    version = _version(request, id, number)
    return services.update_version(actor(request), version, payload.model_dump(exclude_unset=True))


@router.delete(
    "/{id}/versions/{number}",
    response=responses({204: None}, 404, 409, 422),
    summary="删除未发布的草稿",
)
def discard_version(request, id: ObjectId, number: Number):
    version = _version(request, id, number)
    services.discard_version(actor(request), version)
    return Status(204, None)


@router.get(
    "/{id}/versions/{number}/entries",
    response=responses({200: list[EntryOut]}, 404, 422),
    summary="版本成员",
)
@paginated
def list_entries(request, id: ObjectId, number: Number, filters: Query[EntryFilter]):
    version = _version(request, id, number)
    queryset = (
        ListEntry.objects.visible_to(actor(request))
        .filter(version=version)
        .select_related("enterprise", "project")
    )
    if not filters.include_removed:
        queryset = queryset.members()
    if filters.q and filters.q.strip():
        text = filters.q.strip()
        queryset = queryset.filter(
            Q(enterprise__name__icontains=text)
            | Q(enterprise__uscc=normalise_uscc(text))
            | Q(project__name__icontains=text)
        )
    return queryset.order_by("pk")


@router.post(
    "/{id}/versions/{number}/entries",
    response=responses({201: EntryOut}, 400, 404, 409, 413, 422),
    summary="在草稿中加入成员（须写明理由）",
)
def add_entry(request, id: ObjectId, number: Number, payload: EntryIn):
    version = _version(request, id, number)
    user = actor(request)
    enterprise = project = None
    given = [k for k in ("enterprise_id", "uscc", "project_id") if getattr(payload, k)]
    if len(given) != 1:
        raise ValidationFailed(
            {"enterprise_id": _("请只指定 enterprise_id、uscc、project_id 中的一项")}
        )
    if payload.project_id:
        project = Project.objects.visible_to(user).filter(pk=payload.project_id).first()
        if project is None:
            raise ValidationFailed({"project_id": _("项目不存在或不在您的管辖范围内")})
    else:
        visible = Enterprise.objects.visible_to(user)
        if payload.enterprise_id:
            enterprise = visible.filter(pk=payload.enterprise_id).first()
            key = "enterprise_id"
        else:
            enterprise = visible.filter(uscc=normalise_uscc(payload.uscc)).first()
            key = "uscc"
        if enterprise is None:
            raise ValidationFailed({key: _("企业不存在或不在您的管辖范围内")})
    entry = services.add_list_entry(
        user, version, enterprise=enterprise, project=project, reason=payload.reason
    )
    return Status(201, entry)


@router.post(
    "/{id}/versions/{number}/entries/{entry_id}/remove",
    response=responses({204: None}, 400, 404, 409, 413, 422),
    summary="从草稿中移出成员（须写明理由）",
)
def remove_entry(request, id: ObjectId, number: Number, entry_id: ObjectId, payload: ReasonIn):
    version = _version(request, id, number)
    entry = (
        ListEntry.objects.visible_to(actor(request)).filter(version=version, pk=entry_id).first()
    )
    if entry is None:
        raise NotFound(_("该版本中没有这一成员"))
    services.remove_list_entry(actor(request), version, entry, reason=payload.reason)
    return Status(204, None)


@router.post(
    "/{id}/versions/{number}/submit",
    response=responses({200: VersionOut}, 400, 404, 409, 413, 422),
    summary="提交审批",
)
def submit(request, id: ObjectId, number: Number):
    return services.submit_version(actor(request), _version(request, id, number))


@router.post(
    "/{id}/versions/{number}/withdraw",
    response=responses({200: VersionOut}, 400, 404, 409, 413, 422),
    summary="撤回（待审批 → 草稿）",
)
def withdraw(request, id: ObjectId, number: Number):
    return services.withdraw_version(actor(request), _version(request, id, number))


@router.post(
    "/{id}/versions/{number}/reject",
    response=responses({200: VersionOut}, 400, 404, 409, 413, 422),
    summary="退回（须写明理由）",
)
def reject(request, id: ObjectId, number: Number, payload: RejectIn):
    return services.reject_version(actor(request), _version(request, id, number), note=payload.note)


@router.post(
    "/{id}/versions/{number}/reopen",
    response=responses({200: VersionOut}, 400, 404, 409, 413, 422),
    summary="重新编辑已退回的版本",
)
def reopen(request, id: ObjectId, number: Number):
    return services.reopen_version(actor(request), _version(request, id, number))


@router.post(
    "/{id}/versions/{number}/publish",
    response=responses({200: VersionOut}, 400, 404, 409, 413, 422),
    summary="审批发布（确定生效日期）",
)
def publish(request, id: ObjectId, number: Number, payload: PublishIn):
    return services.publish_version(
        actor(request),
        _version(request, id, number),
        effective_from=payload.effective_from,
        note=payload.note or "",
    )


@router.get(
    "/{id}/versions/{number}/export",
    response=responses({200: None}, 404, 422),
    summary="导出为 Excel（.xlsx）",
    openapi_extra={
        "responses": {
            "200": {
                "description": "Excel 工作簿",
                "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def export(request, id: ObjectId, number: Number):
    version = _version(request, id, number)
    return xlsx_response(
        services.export_version_xlsx(actor(request), version),
        f"{version.list.name}-第{version.number}版.xlsx",
    )


def xlsx_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    ascii_name = "list.xlsx"
    response["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    )
    return response
