"""/api/v1/green endpoints of the carbon subdomain (mounted by green/api.py):

    GET  /green/carbon/items          what may be reported, in which units
    GET  /green/carbon/factors        the factor database, each with its source
    POST /green/carbon/factors        a newer year (platform admins)
    GET  /green/carbon/reports        reports the caller may see
    POST /green/carbon/reports        report a year or a month (201; replaces the period)
    GET  /green/carbon/reports/{id}   one report, explained line by line
    GET  /green/carbon/grades         碳效等级 the caller may see
    PUT  /green/carbon/benchmarks     a division's configured grade bounds (platform admins)

Visibility is the registry's: an enterprise sees itself, a bank what the
enterprise authorised, government its region; anything else is 404. Bad
input is 422 by field and nothing is written.

(No `from __future__ import annotations`: django-ninja must see the real
parameter types of the paginated operations.)
"""

from typing import Annotated

from django.utils.translation import gettext as _
from ninja import Field, Router, Status

from chanrong.core.apikit.caller import actor
from chanrong.core.apikit.errors import responses
from chanrong.core.apikit.pagination import paginated
from chanrong.core.apikit.schemas import ObjectId
from chanrong.core.errors import NotAllowed
from chanrong.core.scope import ScopeKind, scope_of

from .api_carbon_schemas import (
    CarbonBenchmarkIn,
    CarbonBenchmarkOut,
    CarbonFactorIn,
    CarbonFactorOut,
    CarbonGradeOut,
    CarbonItemOut,
    CarbonReportDetailOut,
    CarbonReportIn,
    CarbonReportOut,
)
from .models import CarbonGrade, CarbonReport, EmissionFactor
from .services import carbon, carbon_factors, grades
from .services.carbon_items import ITEMS

router = Router(tags=["green 碳核算"])

Year = Annotated[int, Field(ge=1900, le=2200, description="年度")]


def _report_out(report: CarbonReport) -> dict:
    return {
        "id": report.pk,
        "enterprise_id": report.enterprise_id,
        "enterprise_name": report.enterprise.name,
        **{
            name: getattr(report, name)
            for name in (
                "year",
                "month",
                "scope1",
                "scope2",
                "total",
                "revenue",
                "revenue_basis",
                "intensity_revenue",
                "output_quantity",
                "output_unit",
                "intensity_output",
                "source",
            )
        },
    }


def _detail(report: CarbonReport) -> dict:
    explained = carbon.explain(report)
    return {
        **_report_out(report),
        "lines": explained["lines"],
        "explanation": [*explained["totals"], *explained["intensity"]],
    }


@router.get(
    "/carbon/items",
    response=responses({200: list[CarbonItemOut]}),
    summary="可填报的能源与物料品种",
)
def list_items(request):
    return [
        {
            "code": item.code,
            "label": str(item.label),
            "scope": item.scope,
            "factor_unit": item.unit,
            "units": item.unit_choices,
        }
        for item in ITEMS.values()
    ]


@router.get(
    "/carbon/factors", response=responses({200: list[CarbonFactorOut]}, 422), summary="排放因子库"
)
@paginated
def list_factors(request):
    actor(request)
    return EmissionFactor.objects.order_by("category", "code", "-year", "pk")


@router.post(
    "/carbon/factors",
    response=responses({201: CarbonFactorOut}, 403, 422),
    summary="新增排放因子（平台管理员；必须注明来源）",
)
def create_factor(request, payload: CarbonFactorIn):
    factor = carbon_factors.add_factor(actor(request), payload.model_dump())
    return Status(201, factor)


@router.get(
    "/carbon/reports", response=responses({200: list[CarbonReportOut]}, 422), summary="碳排放报告"
)
@paginated
def list_reports(request, year: Year | None = None, enterprise: ObjectId | None = None):
    reports = CarbonReport.objects.visible_to(actor(request)).select_related("enterprise")
    if year is not None:
        reports = reports.filter(year=year)
    if enterprise is not None:
        reports = reports.filter(enterprise_id=enterprise)
    return reports.order_by("-year", "month", "pk")


@router.post(
    "/carbon/reports",
    response=responses({201: CarbonReportDetailOut}, 403, 404, 422),
    summary="填报能耗数据并核算（同一期间再次填报将替换）",
)
def create_report(request, payload: CarbonReportIn):
    user = actor(request)
    data = payload.model_dump()
    enterprise_id = data.pop("enterprise")
    scope = scope_of(user)
    if enterprise_id is None:
        if scope.kind != ScopeKind.ENTERPRISE:
            raise NotAllowed(_("请指定企业"))
        enterprise_id = scope.enterprise_id
    enterprise = carbon.visible_enterprise(user, enterprise_id)
    report = carbon.save_report(user, enterprise, data)
    return Status(201, _detail(carbon.visible_report(user, report.pk)))


@router.get(
    "/carbon/reports/{id}",
    response=responses({200: CarbonReportDetailOut}, 404, 422),
    summary="碳排放报告及逐行计算过程",
)
def get_report(request, id: ObjectId):
    return _detail(carbon.visible_report(actor(request), id))


@router.get(
    "/carbon/grades",
    response=responses({200: list[CarbonGradeOut]}, 422),
    summary="碳效等级（银行须经企业授权）",
)
@paginated
def list_grades(request, year: Year | None = None, enterprise: ObjectId | None = None):
    rows = CarbonGrade.objects.visible_to(actor(request))
    if year is not None:
        rows = rows.filter(year=year)
    if enterprise is not None:
        rows = rows.filter(enterprise_id=enterprise)
    return rows.order_by("-year", "enterprise_id")


@router.put(
    "/carbon/benchmarks",
    response=responses({200: CarbonBenchmarkOut}, 403, 422),
    summary="配置行业碳效基准（平台管理员；1–4 级上限，tCO2/万元）",
)
def set_benchmark(request, payload: CarbonBenchmarkIn):
    return grades.set_benchmark(actor(request), payload.model_dump())
