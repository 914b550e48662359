"""Enterprises over the API.

Reads start from `Enterprise.objects.visible_to(caller)`; writes go through
`chanrong.registry.services`, which hold every rule (who may create, edit,
delete; validation; size; audit). Invisible enterprises are 404, visible
but not editable ones 403.
"""

from datetime import datetime
from typing import Annotated, Literal

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from chanrong.core.apikit.caller import actor
from chanrong.core.apikit.errors import responses
from chanrong.core.apikit.pagination import paginated
from chanrong.core.apikit.schemas import (
    IndustryCode,
    InputSchema,
    ObjectId,
    RegionCode,
    Text,
    drop_null_default,
)
from chanrong.core.errors import ValidationFailed
from chanrong.core.models import Industry, Region

from . import services
from .api_profile import RegistryFilter, apply_registry_filters
from .models import Enterprise, EnterpriseSize, FactSource, FactStatus
from .search import normalise_query, order_by_name, search

router = Router(tags=["enterprises 企业"])

MAX_EMPLOYEES = 10_000_000
MAX_WAN = 100_000_000  # 1 万亿元, as services.MAX_AMOUNT_WAN

# Strict: JSON numbers only, so `true` or "12" is an error rather than 1 or 12.
Employees = Annotated[int, Field(strict=True, ge=0, le=MAX_EMPLOYEES, description="从业人员（人）")]
AmountWan = Annotated[
    float,
    Field(
        strict=True,
        ge=0,
        le=MAX_WAN,
        allow_inf_nan=False,
        description="万元，JSON 数字（不是字符串），最多 6 位小数",
    ),
]


class EnterpriseOut(Schema):
    id: int
    uscc: str = Field(description="统一社会信用代码")
    name: str
    region_code: str = Field(description="所在县级行政区划代码")
    region_name: str
    industry_code: str = Field(description="国民经济行业代码（大类，如 C39）")
    industry_name: str
    employees: int | None = Field(description="从业人员（人）")
    revenue_wan: float | None = Field(description="营业收入（万元）")
    assets_wan: float | None = Field(description="资产总额（万元）")
    size: EnterpriseSize | None = Field(
        description="企业规模（按 2011 年划型标准计算）；数据不足时为 null"
    )
    figures_status: FactStatus = Field(
        description="从业人员、营业收入、资产总额的核验状态：declared 企业自报待核验 / verified 已核验"
    )
    figures_source: FactSource = Field(
        description="规模数据来源：enterprise 企业自报 / government 政府认定 / platform 平台录入 / import 官方导入"
    )
    figures_flags: list[str] = Field(description="企业自报规模数据的待复核事项（不合理数值）")
    region_mismatch: bool = Field(
        description="注册地（region_code）与统一社会信用代码第 3–8 位登记机关所在省份不一致"
    )
    region_mismatch_message: str | None = Field(
        description="region_mismatch 为 true 时：注册地与统一社会信用代码登记机关不一致"
    )
    created_at: datetime = Field(description="带时区（Asia/Shanghai）")
    updated_at: datetime

    @staticmethod
    def resolve_region_code(obj: Enterprise) -> str:
        return obj.region_id

    @staticmethod
    def resolve_region_name(obj: Enterprise) -> str:
        return obj.region.name

    @staticmethod
    def resolve_industry_code(obj: Enterprise) -> str:
        return obj.industry_id

    @staticmethod
    def resolve_industry_name(obj: Enterprise) -> str:
        return obj.industry.name

    @staticmethod
    def resolve_revenue_wan(obj: Enterprise) -> float | None:
        return None if obj.revenue is None else float(obj.revenue_wan)

    @staticmethod
    def resolve_assets_wan(obj: Enterprise) -> float | None:
        return None if obj.assets is None else float(obj.assets_wan)

    @staticmethod
    def resolve_size(obj: Enterprise) -> str | None:
        return obj.size or None

    @staticmethod
    def resolve_figures_flags(obj: Enterprise) -> list[str]:
        return obj.figure_flag_list

    @staticmethod
    def resolve_region_mismatch(obj: Enterprise) -> bool:
        return obj.region_mismatch

    @staticmethod
    def resolve_region_mismatch_message(obj: Enterprise) -> str | None:
        return _("注册地与统一社会信用代码登记机关不一致") if obj.region_mismatch else None

    @staticmethod
    def resolve_created_at(obj: Enterprise) -> datetime:
        return timezone.localtime(obj.created_at)

    @staticmethod
    def resolve_updated_at(obj: Enterprise) -> datetime:
        return timezone.localtime(obj.updated_at)


class EnterpriseIn(InputSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "uscc": "91330421MA2D00001A",
                    "name": "嘉善示例电子有限公司",
                    "region_code": "330421",
                    "industry_code": "C39",
                    "employees": 120,
                    "revenue_wan": 3500.5,
                    "assets_wan": 5200,
                }
            ]
        },
    )

    uscc: Text(40, min_length=1) = Field(description="统一社会信用代码（18 位）")  # type: ignore[valid-type]
    name: Text(100, min_length=1)  # type: ignore[valid-type]
    region_code: RegionCode = Field(description="县级行政区划代码")
    industry_code: IndustryCode = Field(description="行业大类代码，如 C39")
    employees: Employees | None = None
    revenue_wan: AmountWan | None = None
    assets_wan: AmountWan | None = None


_UNSET = {"default": None, "json_schema_extra": drop_null_default}


class EnterprisePatch(InputSchema):
    """Only the fields sent are changed; null clears the optional figures."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"employees": 130, "revenue_wan": 4200, "assets_wan": None}]
        },
    )

    uscc: Text(40, min_length=1) = Field(**_UNSET)  # type: ignore[valid-type]
    name: Text(100, min_length=1) = Field(**_UNSET)  # type: ignore[valid-type]
    region_code: RegionCode = Field(**_UNSET)
    industry_code: IndustryCode = Field(**_UNSET)
    employees: Employees | None = None
    revenue_wan: AmountWan | None = None
    assets_wan: AmountWan | None = None


FiguresFilter = Literal["declared", "flagged"]


class EnterpriseFilter(RegistryFilter):
    q: Text(100) | None = Field(None, description="名称包含该文字，或统一社会信用代码以之开头")  # type: ignore[valid-type]
    region: RegionCode | None = Field(None, description="行政区划代码：含其全部下级")
    industry: IndustryCode | None = Field(None, description="行业代码：含其全部下级")
    size: EnterpriseSize | None = None
    region_mismatch: bool | None = Field(
        None, description="true：只看注册地与统一社会信用代码登记机关省份不一致的企业"
    )
    figures: FiguresFilter | None = Field(
        None,
        description="declared：规模数据为企业自报待核验；flagged：企业自报且有不合理数值待复核",
    )


def _filter(queryset, filters: EnterpriseFilter):
    errors = {}
    queryset = search(queryset, filters.q)
    if filters.region_mismatch is True:
        queryset = queryset.region_mismatched()
    elif filters.region_mismatch is False:
        queryset = queryset.exclude(pk__in=queryset.region_mismatched().values("pk"))
    if filters.figures == "declared":
        queryset = queryset.filter(figures_status=FactStatus.DECLARED)
    elif filters.figures == "flagged":
        queryset = queryset.figures_to_review()
    if filters.region:
        region = Region.objects.filter(pk=filters.region).first()
        if region is None:
            errors["region"] = _("行政区划代码 %s 不存在") % filters.region
        else:
            queryset = queryset.filter(region__code__startswith=region.prefix)
    if filters.industry:
        code = filters.industry.upper()
        if not Industry.objects.filter(pk=code).exists():
            errors["industry"] = _("行业代码 %s 不存在") % code
        else:
            queryset = queryset.filter(industry__code__startswith=code)
    if filters.size:
        queryset = queryset.filter(size=filters.size)
    if errors:
        raise ValidationFailed(errors)
    return queryset


@router.get("", response=responses({200: list[EnterpriseOut]}, 422), summary="企业列表")
@paginated
def list_enterprises(request, filters: Query[EnterpriseFilter]):
    queryset = Enterprise.objects.visible_to(actor(request)).select_related("region", "industry")
    queryset = apply_registry_filters(queryset, filters, actor(request))
    return order_by_name(_filter(queryset, filters), text_search=bool(normalise_query(filters.q)))


@router.get("/{id}", response=responses({200: EnterpriseOut}, 404, 422), summary="企业详情")
def get_enterprise(request, id: ObjectId):
    return services.get_visible_enterprise(actor(request), id)


@router.post("", response=responses({201: EnterpriseOut}, 400, 409, 413, 422), summary="登记企业")
def create_enterprise(request, payload: EnterpriseIn):
    enterprise = services.create_enterprise(actor(request), payload.model_dump())
    return Status(201, enterprise)


@router.patch(
    "/{id}",
    response=responses({200: EnterpriseOut}, 400, 403, 404, 409, 413, 422),
    summary="修改企业（所在地区只能由原所在地政府部门变更，企业自行修改为 403）",
)
def update_enterprise(request, id: ObjectId, payload: EnterprisePatch):
    enterprise = services.get_visible_enterprise(actor(request), id)
    return services.update_enterprise(
        actor(request), enterprise, payload.model_dump(exclude_unset=True)
    )


@router.delete("/{id}", response=responses({204: None}, 404, 409, 422), summary="删除企业")
def delete_enterprise(request, id: ObjectId):
    enterprise = services.get_visible_enterprise(actor(request), id)
    services.delete_enterprise(actor(request), enterprise)
    return Status(204, None)
