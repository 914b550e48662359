"""Reference data over the API: administrative divisions and industries.

Public to every authenticated caller; read-only (loaded by `chanrong refdata load`).
"""

from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from chanrong.core.apikit.errors import responses
from chanrong.core.apikit.pagination import paginated
from chanrong.core.apikit.schemas import IndustryCode, RegionCode, Text
from chanrong.core.errors import ValidationFailed

from .models import Industry, IndustryLevel, Region, RegionLevel

regions = Router(tags=["regions 行政区划"])
industries = Router(tags=["industries 国民经济行业"])


class RegionOut(Schema):
    code: str = Field(description="6 位代码（GB/T 2260）")
    name: str
    level: RegionLevel
    parent_code: str | None = Field(description="上级代码；省级为 null")
    prefix: str = Field(description="下级区划代码共有的前缀，如 浙江 33、嘉兴 3304")
    is_separate_plan_city: bool = Field(description="计划单列市")
    is_corps: bool = Field(description="新疆生产建设兵团")
    children_count: int = Field(description="直接下级数目")

    @staticmethod
    def resolve_parent_code(obj: Region) -> str | None:
        return obj.parent_id


class RegionFilter(Schema):
    parent: RegionCode | None = Field(None, description="上级代码：只列其直接下级")
    level: RegionLevel | None = None
    q: Text(50) | None = Field(None, description="名称包含")  # type: ignore[valid-type]


class IndustryOut(Schema):
    code: str
    name: str
    level: IndustryLevel
    parent_code: str | None = Field(description="上级代码；门类为 null")
    children_count: int

    @staticmethod
    def resolve_parent_code(obj: Industry) -> str | None:
        return obj.parent_id


class IndustryFilter(Schema):
    parent: IndustryCode | None = Field(None, description="上级代码：只列其直接下级")
    level: IndustryLevel | None = None
    q: Text(50) | None = Field(None, description="名称包含，或代码前缀")  # type: ignore[valid-type]


def _with_children(queryset):
    return queryset.annotate(children_count=Count("children"))


@regions.get("", response=responses({200: list[RegionOut]}, 422), summary="行政区划列表")
@paginated
def list_regions(request, filters: Query[RegionFilter]):
    queryset = Region.objects.all()
    if filters.parent:
        if not Region.objects.filter(pk=filters.parent).exists():
            raise ValidationFailed({"parent": _("行政区划代码 %s 不存在") % filters.parent})
        queryset = queryset.filter(parent_id=filters.parent)
    if filters.level:
        queryset = queryset.filter(level=filters.level)
    if filters.q:
        queryset = queryset.filter(name__icontains=filters.q.strip())
    return _with_children(queryset).order_by("code")


@regions.get("/{code}", response=responses({200: RegionOut}, 404, 422), summary="行政区划详情")
def get_region(request, code: RegionCode):
    return get_object_or_404(_with_children(Region.objects.all()), pk=code)


@industries.get("", response=responses({200: list[IndustryOut]}, 422), summary="行业列表")
@paginated
def list_industries(request, filters: Query[IndustryFilter]):
    queryset = Industry.objects.all()
    if filters.parent:
        parent = filters.parent.upper()
        if not Industry.objects.filter(pk=parent).exists():
            raise ValidationFailed({"parent": _("行业代码 %s 不存在") % parent})
        queryset = queryset.filter(parent_id=parent)
    if filters.level:
        queryset = queryset.filter(level=filters.level)
    if filters.q:
        text = filters.q.strip()
        queryset = queryset.filter(Q(name__icontains=text) | Q(code__startswith=text.upper()))
    return _with_children(queryset).order_by("code")


@industries.get("/{code}", response=responses({200: IndustryOut}, 404, 422), summary="行业详情")
def get_industry(request, code: IndustryCode):
    return get_object_or_404(_with_children(Industry.objects.all()), pk=code.upper())
