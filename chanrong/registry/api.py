"""Enterprises over the API.

Reads start from `Enterprise.objects.visible_to(caller)`; writes go through
`chanrong.registry.services`, which hold every rule (who may create, edit,
delete; validation; size; audit). Invisible enterprises are 404, visible
but not editable ones 403.
"""

from datetime import datetime
from typing import Annotated

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
from .models import Enterprise, EnterpriseSize
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


class EnterpriseFilter(RegistryFilter):
    q: Text(100) | None = Field(None, description="名称包含该文字，或统一社会信用代码以之开头")  # type: ignore[valid-type]
    region: RegionCode | None = Field(None, description="行政区划代码：含其全部下级")
    industry: IndustryCode | None = Field(None, description="行业代码：含其全部下级")
    size: EnterpriseSize | None = None


def _filter(queryset, filters: EnterpriseFilter):
    errors = {}
    queryset = search(queryset, filters.q)
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
    response=responses({200: EnterpriseOut}, 400, 404, 409, 413, 422),
    summary="修改企业",
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
