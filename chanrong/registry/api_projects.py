"""Projects (重点项目) over the API, mounted at /api/v1/projects.

Reads start from `Project.objects.visible_to(caller)`; writes go through
`chanrong.registry.services`.
"""

from datetime import datetime
from typing import Annotated

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from chanrong.core.apikit.caller import actor
from chanrong.core.apikit.errors import responses
from chanrong.core.apikit.pagination import paginated
from chanrong.core.apikit.schemas import InputSchema, ObjectId, RegionCode, Text, drop_null_default
from chanrong.core.errors import ValidationFailed
from chanrong.core.models import Region

from . import services
from .models import Project, ProjectClass, ProjectKind, ProjectStage

router = Router(tags=["projects 重点项目"])

MAX_WAN = 100_000_000
AmountWan = Annotated[
    float,
    Field(strict=True, ge=0, le=MAX_WAN, allow_inf_nan=False, description="万元，JSON 数字"),
]
Year = Annotated[int, Field(strict=True, ge=1949, le=2200)]
_UNSET = {"default": None, "json_schema_extra": drop_null_default}


def _wan(value) -> float | None:
    return None if value is None else float(value / 10000)


class ProjectOut(Schema):
    id: int
    owner_id: int
    owner_name: str
    owner_uscc: str
    name: str
    kind: ProjectKind = Field(description="项目类型")
    kind_label: str
    project_class: ProjectClass | None = Field(description="重庆“五类项目”")
    total_investment_wan: float = Field(description="总投资（万元）")
    financing_need_wan: float | None = Field(description="融资需求（万元）")
    stage: ProjectStage
    stage_label: str
    region_code: str = Field(description="建设地点（县级行政区划代码）")
    region_name: str
    start_year: int | None
    description: str
    can_edit: bool
    updated_at: datetime

    @staticmethod
    def resolve_owner_name(obj: Project) -> str:
        return obj.owner.name

    @staticmethod
    def resolve_owner_uscc(obj: Project) -> str:
        return obj.owner.uscc

    @staticmethod
    def resolve_kind_label(obj: Project) -> str:
        return obj.get_kind_display()

    @staticmethod
    def resolve_project_class(obj: Project) -> str | None:
        return obj.project_class or None

    @staticmethod
    def resolve_total_investment_wan(obj: Project) -> float:
        return float(obj.total_investment / 10000)

    @staticmethod
    def resolve_financing_need_wan(obj: Project) -> float | None:
        return _wan(obj.financing_need)

    @staticmethod
    def resolve_stage_label(obj: Project) -> str:
        return obj.get_stage_display()

    @staticmethod
    def resolve_region_code(obj: Project) -> str:
        return obj.region_id

    @staticmethod
    def resolve_region_name(obj: Project) -> str:
        return obj.region.full_name

    @staticmethod
    def resolve_can_edit(obj, context) -> bool:
        return services.can_edit_project(actor(context["request"]), obj)

    @staticmethod
    def resolve_updated_at(obj) -> datetime:
        return timezone.localtime(obj.updated_at)


class ProjectIn(InputSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "owner_uscc": "91330421MA2D00001A",
                    "name": "年产 5 万台精密减速机技术改造项目",
                    "kind": "tech_upgrade",
                    "project_class": "upgrading",
                    "total_investment_wan": 12000,
                    "financing_need_wan": 5000,
                    "stage": "construction",
                    "region_code": "330421",
                    "start_year": 2025,
                }
            ]
        },
    )

    owner_id: ObjectId | None = Field(None, description="项目单位（企业编号）；企业用户可省略")
    owner_uscc: Text(40) | None = Field(None, description="或以统一社会信用代码指定项目单位")  # type: ignore[valid-type]
    name: Text(100, min_length=1)  # type: ignore[valid-type]
    kind: ProjectKind
    project_class: ProjectClass | None = None
    total_investment_wan: AmountWan
    financing_need_wan: AmountWan | None = None
    stage: ProjectStage
    region_code: RegionCode | None = Field(None, description="建设地点；默认为项目单位所在地")
    start_year: Year | None = None
    description: Text(1000) | None = None  # type: ignore[valid-type]


class ProjectPatch(InputSchema):
    name: Text(100, min_length=1) = Field(**_UNSET)  # type: ignore[valid-type]
    kind: ProjectKind = Field(**_UNSET)
    project_class: ProjectClass | None = None
    total_investment_wan: AmountWan = Field(**_UNSET)
    financing_need_wan: AmountWan | None = None
    stage: ProjectStage = Field(**_UNSET)
    region_code: RegionCode = Field(**_UNSET)
    start_year: Year | None = None
    description: Text(1000) | None = None  # type: ignore[valid-type]


class ProjectFilter(Schema):
    q: Text(100) | None = Field(None, description="项目名称或项目单位名称包含")  # type: ignore[valid-type]
    owner_id: ObjectId | None = None
    kind: ProjectKind | None = None
    project_class: ProjectClass | None = None
    stage: ProjectStage | None = None
    region: RegionCode | None = Field(None, description="建设地点：含其全部下级")


@router.get("", response=responses({200: list[ProjectOut]}, 422), summary="项目列表")
@paginated
def list_projects(request, filters: Query[ProjectFilter]):
    queryset = Project.objects.visible_to(actor(request)).select_related("owner", "region")
    if filters.q and filters.q.strip():
        text = filters.q.strip()
        queryset = queryset.filter(Q(name__icontains=text) | Q(owner__name__icontains=text))
    for key in ("owner_id", "kind", "project_class", "stage"):
        value = getattr(filters, key)
        if value:
            queryset = queryset.filter(**{key: value})
    if filters.region:
        region = Region.objects.filter(pk=filters.region).first()
        if region is None:
            raise ValidationFailed({"region": _("行政区划代码 %s 不存在") % filters.region})
        queryset = queryset.filter(region__code__startswith=region.prefix)
    return queryset.order_by("name", "pk")


@router.get("/{id}", response=responses({200: ProjectOut}, 404, 422), summary="项目详情")
def get_project(request, id: ObjectId):
    return services.get_visible_project(actor(request), id)


@router.post("", response=responses({201: ProjectOut}, 400, 413, 422), summary="登记项目")
def create_project(request, payload: ProjectIn):
    project = services.create_project(actor(request), payload.model_dump(exclude_none=True))
    return Status(201, project)


@router.patch(
    "/{id}", response=responses({200: ProjectOut}, 400, 404, 413, 422), summary="修改项目"
)
def update_project(request, id: ObjectId, payload: ProjectPatch):
    project = services.get_visible_project(actor(request), id)
    return services.update_project(actor(request), project, payload.model_dump(exclude_unset=True))
