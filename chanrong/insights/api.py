"""Indicators and statistics over the API.

Two routers: `router` for the indicator catalogue, plans, targets, actuals and
completion (mount at /indicators), `stats_router` for dashboard figures (mount
at /stats). Plans and figures are for government and platform users; others
get 404 (plans) or 404 (stats outside their scope), as on the web.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from chanrong.core.apikit.caller import actor
from chanrong.core.apikit.errors import responses
from chanrong.core.apikit.pagination import paginated
from chanrong.core.apikit.schemas import InputSchema, ObjectId, RegionCode, Text
from chanrong.core.errors import NotFound, ValidationFailed
from chanrong.core.models import Region
from chanrong.core.money import YI

from . import services
from .models import Category, IndicatorDefinition, IndicatorPlan, Kind, PeriodType, SecondKind

router = Router(tags=["indicators 定量指标"])
stats_router = Router(tags=["stats 统计"])

Year = Annotated[int, Field(ge=2000, le=2100, description="年份")]
# Figures travel as strings so that "4.90" keeps its written precision.
Figure = Annotated[
    str | None,
    Field(
        max_length=40,
        pattern=r"^[^\x00]*$",
        description='数值，字符串（保留书写的小数位），如 "4.90"；空为未设',
    ),
]


class DefinitionOut(Schema):
    code: str
    name: str
    category: Category
    unit: str
    kind: Kind = Field(
        description="period 时期指标（流量，按月累加）；stock 时点指标（存量，取期末值）"
    )
    second_kind: SecondKind = Field(
        description="none；growth 金额及增速（增速由系统计算）；measure 两项数值"
    )
    second_unit: str
    lower_is_better: bool
    computed: bool = Field(description="由平台数据自动计算，无需填报")
    definition: str = Field(
        description="指标口径：统计什么、时期或时点、以哪个日期为准、取哪些记录"
    )

    @staticmethod
    def resolve_computed(obj: IndicatorDefinition) -> bool:
        return services.is_computed(obj)


def _require_viewer(request) -> None:
    if not services.can_view_indicators(actor(request)):
        raise NotFound(_("未找到"))


@router.get("", response=responses({200: list[DefinitionOut]}, 404, 422), summary="指标目录")
@paginated
def list_indicators(request, category: Category | None = None):
    _require_viewer(request)
    queryset = IndicatorDefinition.objects.all()
    if category:
        queryset = queryset.filter(category=category)
    return queryset


class PlanOut(Schema):
    id: int
    title: str
    region_code: str
    region_name: str
    start_year: int
    end_year: int

    @staticmethod
    def resolve_region_code(obj: IndicatorPlan) -> str:
        return obj.region_id

    @staticmethod
    def resolve_region_name(obj: IndicatorPlan) -> str:
        return obj.region.name


class PlanIn(InputSchema):
    region_code: RegionCode
    title: Text(200, min_length=1)  # type: ignore[valid-type]
    start_year: Year
    end_year: Year


class CellOut(Schema):
    year: int
    value: str = Field(description="目标值，按原文小数位；空串为未设")
    second: str = Field(description="增速目标或第二项数值；空串为无")


class PlanRowOut(Schema):
    category: str
    code: str
    name: str
    kind_label: str
    cells: list[CellOut]


class PlanDetailOut(Schema):
    id: int
    title: str
    region_code: str
    region_name: str
    start_year: int
    end_year: int
    rows: list[PlanRowOut]


def _plan_detail(plan: IndicatorPlan) -> dict:
    rows = [
        {
            "category": r.category,
            "code": r.definition.code,
            "name": r.name,
            "kind_label": r.kind_label,
            "cells": [
                {"year": y, "value": c.value, "second": c.second}
                for y, c in zip(plan.years, r.cells, strict=True)
            ],
        }
        for r in services.plan_table(plan)
    ]
    return {
        "id": plan.pk,
        "title": plan.title,
        "region_code": plan.region_id,
        "region_name": plan.region.name,
        "start_year": plan.start_year,
        "end_year": plan.end_year,
        "rows": rows,
    }


def _region(code: str) -> Region:
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise ValidationFailed({"region_code": _("行政区划代码 %s 不存在") % code})
    return region


@router.get("/plans", response=responses({200: list[PlanOut]}, 422), summary="指标计划列表")
@paginated
def list_plans(request):
    return IndicatorPlan.objects.visible_to(actor(request)).select_related("region")


@router.post("/plans", response=responses({201: PlanDetailOut}, 404, 422), summary="新建指标计划")
def create_plan(request, payload: PlanIn):
    plan = services.create_plan(
        actor(request),
        _region(payload.region_code),
        payload.title,
        payload.start_year,
        payload.end_year,
    )
    return Status(201, _plan_detail(plan))


@router.get(
    "/plans/{id}",
    response=responses({200: PlanDetailOut}, 404, 422),
    summary="指标计划（定量指标统计表）",
)
def get_plan(request, id: ObjectId):
    return _plan_detail(services.get_visible_plan(actor(request), id))


class TargetIn(InputSchema):
    indicator: Text(64, min_length=1) = Field(description="指标代码，如 gdp")  # type: ignore[valid-type]
    year: Year
    value: Figure = None
    second_value: Figure = None


class TargetsIn(InputSchema):
    targets: list[TargetIn] = Field(max_length=2000)


@router.put(
    "/plans/{id}/targets",
    response=responses({200: PlanDetailOut}, 404, 422),
    summary="设置年度目标（整批校验，全部成功或全部不写）",
)
def put_targets(request, id: ObjectId, payload: TargetsIn):
    plan = services.get_visible_plan(actor(request), id)
    rows = [
        {
            "definition": t.indicator,
            "year": t.year,
            "value": t.value if t.value is not None else None,
            "second_value": t.second_value,
        }
        for t in payload.targets
    ]
    try:
        services.set_targets(actor(request), plan, rows)
    except ValidationFailed as exc:
        for e in exc.errors:
            e.field = (
                e.field.replace("rows[", "targets.")
                .replace("].", ".")
                .replace(".definition", ".indicator")
            )
        raise
    return _plan_detail(plan)


class ReportSourceOut(Schema):
    body: str = Field(description="填报单位/人")
    document: str = Field(description="依据文件（文号/名称）")
    reported_on: date | None = Field(description="报送日期")
    reporter: str = Field(description="填报账号（自动记录）")
    period_end: date = Field(description="该填报值的报告期末")


def _source_out(source) -> dict | None:
    if source is None:
        return None
    return {
        "body": source.body,
        "document": source.document,
        "reported_on": source.day,
        "reporter": source.reporter,
        "period_end": source.period_end,
    }


class CompletionOut(Schema):
    code: str
    name: str
    kind: str
    target: str
    target_second: str
    actual: str | None
    actual_second: str | None = Field(description="增速（系统计算，%）或第二项数值")
    ratio: str | None = Field(description="完成率，1 = 恰好达到目标")
    status: Literal["met", "behind", "in_progress", "no_data", "no_target"]
    computed: bool
    complete: bool = Field(description="false：部分月份尚未填报")
    source: ReportSourceOut | None = Field(
        None, description="填报值的来源：本地区当年最新一期填报的单位、文件、报送日期和填报人"
    )


@router.get(
    "/plans/{id}/completion",
    response=responses({200: list[CompletionOut]}, 404, 422),
    summary="目标完成情况",
)
def plan_completion(request, id: ObjectId, year: Year):
    plan = services.get_visible_plan(actor(request), id)
    if not plan.start_year <= year <= plan.end_year:
        raise ValidationFailed({"year": _("年份应在计划期内")})
    return [
        {
            "code": r.definition.code,
            "name": r.definition.name,
            "kind": r.definition.kind,
            "target": r.target_text,
            "target_second": r.target_second_text,
            "actual": r.actual_text or None,
            "actual_second": r.actual_second_text or None,
            "ratio": None if r.ratio is None else str(r.ratio),
            "status": r.status,
            "computed": r.computed,
            "complete": r.complete,
            "source": _source_out(r.source),
        }
        for r in services.completion(plan, year)
    ]


class ActualIn(InputSchema):
    region_code: RegionCode
    indicator: Text(64, min_length=1)  # type: ignore[valid-type]
    period_type: PeriodType
    year: Year
    number: int = Field(1, ge=1, le=12, description="月份 1–12 / 季度 1–4 / 年度 1")
    value: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[^\x00]*$")]
    second_value: Figure = None
    source_body: Text(100, min_length=1) = Field(description="填报单位/人")  # type: ignore[valid-type]
    source_document: Text(200, min_length=1) = Field(description="依据文件（文号/名称）")  # type: ignore[valid-type]
    source_date: date = Field(description="报送日期：不早于报告期开始，不晚于今天")


class ActualOut(Schema):
    id: int
    region_code: str
    indicator: str
    period_type: str
    period_start: date
    period_end: date
    value: str
    second_value: str | None
    source_body: str
    source_document: str
    source_date: date | None
    reported_by: str | None = Field(description="填报账号（自动记录）")
    reported_at: datetime


@router.post("/actuals", response=responses({201: ActualOut}, 404, 422), summary="填报指标实际值")
def report_actual(request, payload: ActualIn):
    definition = IndicatorDefinition.objects.filter(code=payload.indicator).first()
    if definition is None:
        raise ValidationFailed({"indicator": _("未知的指标")})
    a = services.report_actual(
        actor(request),
        region=_region(payload.region_code),
        definition=definition,
        period_type=payload.period_type,
        year=payload.year,
        number=payload.number,
        value=payload.value,
        second_value=payload.second_value,
        source_body=payload.source_body,
        source_document=payload.source_document,
        source_date=payload.source_date,
        require_source=True,
    )
    return Status(
        201,
        {
            "id": a.pk,
            "region_code": a.region_id,
            "indicator": definition.code,
            "period_type": a.period_type,
            "period_start": a.period_start,
            "period_end": a.period_end,
            "value": services.format_number(a.value),
            "second_value": services.format_number(a.second_value) or None,
            "source_body": a.source_body,
            "source_document": a.source_document,
            "source_date": a.source_date,
            "reported_by": a.reported_by.get_username() if a.reported_by else None,
            "reported_at": a.reported_at,
        },
    )


class ValueOut(Schema):
    indicator: str
    region_code: str
    start: date
    end: date
    value: str | None
    second: str | None
    complete: bool
    computed: bool


@router.get(
    "/{code}/value",
    response=responses({200: ValueOut}, 404, 422),
    summary="某地区某期间的指标值（时期指标累计，时点指标取期末值，按区划汇总）",
)
def indicator_value(
    request,
    code: str,
    region: RegionCode,
    start: date,
    end: date,
    aggregate: Literal["end", "sum"] = Query(
        "end",
        description="end：时期指标累计、时点指标取期末值；sum：跨期累加（时点指标拒绝，422）",
    ),
):
    scope = services.visible_region_prefix(actor(request))
    definition = IndicatorDefinition.objects.filter(code=code[:64]).first()
    if scope is None or definition is None:
        raise NotFound(_("未找到"))
    node = Region.objects.filter(code=region).first()
    if node is None or not node.code.startswith(scope):
        raise NotFound(_("未找到该地区"))
    if end < start or start.year < 2000 or end.year > 2100:
        raise ValidationFailed({"end": _("结束日期不能早于开始日期")})
    result = services.aggregate_over_time(definition, node, start, end, aggregate)
    return {
        "indicator": definition.code,
        "region_code": node.code,
        "start": start,
        "end": end,
        "value": services.format_number(result.value) or None,
        "second": services.format_number(result.second) or None,
        "complete": result.complete,
        "computed": result.computed,
    }


# --------------------------------------------------------------------------
# /stats


class StatsSummaryOut(Schema):
    region_code: str = Field(description="空串为全国")
    region_name: str
    enterprises: int = Field(description="入驻企业数")
    institutions: int = Field(description="入驻金融机构数")
    financing_count: int = Field(description="累计融资笔数")
    financing_amount_wan: float = Field(description="累计融资额（万元）")


class StatsFilter(Schema):
    region: RegionCode | None = Field(None, description="地区；默认为调用者辖区")


@stats_router.get(
    "/summary", response=responses({200: StatsSummaryOut}, 404, 422), summary="平台累计数据"
)
def summary(request, filters: Query[StatsFilter]):
    s = services.summary(actor(request), filters.region)
    return {
        "region_code": s.as_dict()["region_code"],
        "region_name": s.region_name,
        "enterprises": s.enterprises,
        "institutions": s.institutions,
        "financing_count": s.financing_count,
        "financing_amount_wan": float(s.financing_amount / Decimal(10_000)),
    }


class BreakdownFilter(StatsFilter):
    by: Literal["month", "region", "section", "institution"] = "month"
    section: Annotated[str, Field(pattern=r"^[A-T]$")] | None = Field(
        None, description="行业门类，如 C"
    )
    institution: ObjectId | None = None


class BreakdownOut(Schema):
    key: str
    label: str
    count: int
    amount_yi: float


@stats_router.get(
    "/financing",
    response=responses({200: list[BreakdownOut]}, 404, 422),
    summary="融资分布（按月 / 下级地区 / 行业门类 / 金融机构），读自汇总表",
)
def financing(request, filters: Query[BreakdownFilter]):
    prefix, _node = services.resolve_scope_region(actor(request), filters.region)
    section = filters.section or ""
    institution = filters.institution or 0
    out = []
    if filters.by == "month":
        for m, n, a in services.financing_by_month(
            prefix, section=section, institution_id=institution
        ):
            out.append((m.strftime("%Y-%m"), m.strftime("%Y-%m"), n, a))
    elif filters.by == "region":
        for r, n, a in services.financing_by_child_region(
            prefix, section=section, institution_id=institution
        ):
            out.append((r.code, r.name, n, a))
    elif filters.by == "section":
        from chanrong.core.models import Industry

        names = dict(Industry.objects.filter(level="section").values_list("code", "name"))
        for s, n, a in services.financing_by_section(prefix, institution_id=institution):
            out.append((s, names.get(s, s), n, a))
    else:
        from chanrong.finance.models import FinancialInstitution

        rows = services.financing_by_institution(prefix, section=section)
        names = dict(
            FinancialInstitution.objects.filter(pk__in=[i for i, _n, _a in rows]).values_list(
                "pk", "name"
            )
        )
        for i, n, a in rows:
            out.append((str(i), names.get(i, str(i)), n, a))
    return [
        {"key": k, "label": label, "count": n, "amount_yi": float(Decimal(a) / YI)}
        for k, label, n, a in out
    ]
