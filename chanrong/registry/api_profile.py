"""An enterprise's profile, tax credit grades, qualifications, list
memberships and operating data over the API.

`router` is mounted beside the enterprises router at /api/v1/enterprises
(paths /{id}/profile, /{id}/tax-grades, /{id}/qualifications, /{id}/lists,
/{id}/operating-data); `operating_router` at /api/v1/operating-data (the
reviewers' queue). The enterprise comes from `visible_to` (404 otherwise);
every rule is in `chanrong.registry.services`.
"""

import re
from datetime import date, datetime
from typing import Annotated

from django.utils import timezone
from django.utils.translation import gettext
from ninja import Field, Query, Router, Schema, Status
from pydantic import BeforeValidator, ConfigDict, StrictBool

from chanrong.core.apikit.caller import actor
from chanrong.core.apikit.errors import responses
from chanrong.core.apikit.pagination import paginated
from chanrong.core.apikit.schemas import InputSchema, ObjectId, RegionCode, Text, drop_null_default
from chanrong.core.errors import ValidationFailed
from chanrong.core.models import Region

from . import services
from .models import (
    ChongqingClass,
    EnterpriseList,
    ListingBoard,
    ListType,
    OperatingRecord,
    PeriodType,
    Qualification,
    QualificationKind,
    ReviewStatus,
    StrategicEmergingCategory,
    TaxGrade,
)
from .services.personal import PersonalView, personal_view
from .workflows import OPERATING_REVIEW

router = Router(tags=["enterprises 企业"])
operating_router = Router(tags=["operating-data 经营数据"])

MAX_WAN = 100_000_000  # 1 万亿元, as services.MAX_AMOUNT_WAN
AmountWan = Annotated[
    float,
    Field(strict=True, ge=0, le=MAX_WAN, allow_inf_nan=False, description="万元，JSON 数字"),
]
SignedWan = Annotated[
    float,
    Field(
        strict=True,
        ge=-MAX_WAN,
        le=MAX_WAN,
        allow_inf_nan=False,
        description="万元，JSON 数字；可为负（负数会被标记待核实，利润为负属正常亏损）",
    ),
]
_UNSET = {"default": None, "json_schema_extra": drop_null_default}


def _iso_date(value):
    """Dates as "YYYY-MM-DD" (or null) only: pydantic would otherwise read 0
    or "1700000000" as a Unix time."""
    if isinstance(value, date) or value is None:
        return value
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return value
    raise ValueError(gettext("应为 YYYY-MM-DD 格式的日期"))


IsoDate = Annotated[date, BeforeValidator(_iso_date)]


def _wan(value) -> float | None:
    return None if value is None else float(value / 10000)


def _enterprise(request, id: int):
    return services.get_visible_enterprise(actor(request), id)


# --- profile ---------------------------------------------------------------------------


class ProfileOut(Schema):
    id: int
    uscc: str
    name: str
    founded_on: date | None = Field(description="成立日期")
    registered_capital_wan: float | None = Field(description="注册资本（万元）")
    legal_representative: str = Field(description="法定代表人（默认脱敏，见 unmask）")
    legal_rep_id_number: str = Field(description="法定代表人身份证号（默认脱敏）")
    contact_name: str = Field(description="联系人（默认脱敏）")
    contact_phone: str = Field(description="联系电话（默认脱敏，如 138****5678）")
    contact_email: str = Field(description="电子邮箱（默认脱敏，如 a***@x.com）")
    personal_masked: bool = Field(description="个人信息字段中是否有脱敏显示的值")
    personal_unmaskable: list[str] = Field(
        description="调用方有权以 ?unmask=1 查看完整内容的字段（查看会记入审计日志）"
    )
    address: str
    main_products: str
    rd_expense_wan: float | None = Field(description="上年度研发费用（万元）")
    is_above_scale: bool | None = Field(description="规模以上工业企业；null 为未知")
    strategic_emerging_category: StrategicEmergingCategory | None = Field(
        description="战略性新兴产业分类（2018）一级类别 1–9"
    )
    strategic_emerging_category_label: str
    chongqing_class: ChongqingClass | None = Field(description="重庆“三类企业”")
    tax_grade: TaxGrade | None = Field(description="最近年度的纳税信用等级")
    tax_grade_year: int | None
    can_edit: bool

    @staticmethod
    def resolve_registered_capital_wan(obj) -> float | None:
        return _wan(obj.registered_capital)

    @staticmethod
    def resolve_rd_expense_wan(obj) -> float | None:
        return _wan(obj.rd_expense)

    @staticmethod
    def resolve_strategic_emerging_category(obj) -> str | None:
        return obj.strategic_emerging_category or None

    @staticmethod
    def resolve_strategic_emerging_category_label(obj) -> str:
        return (
            obj.get_strategic_emerging_category_display() if obj.strategic_emerging_category else ""
        )

    @staticmethod
    def resolve_chongqing_class(obj) -> str | None:
        return obj.chongqing_class or None

    @staticmethod
    def resolve_tax_grade(obj) -> str | None:
        return obj.tax_grade or None

    @staticmethod
    def resolve_can_edit(obj, context) -> bool:
        return services.can_edit_enterprise(actor(context["request"]), obj)

    @staticmethod
    def resolve_legal_representative(obj, context) -> str:
        return _personal(obj, context)["legal_representative"]

    @staticmethod
    def resolve_legal_rep_id_number(obj, context) -> str:
        return _personal(obj, context)["legal_rep_id_number"]

    @staticmethod
    def resolve_contact_name(obj, context) -> str:
        return _personal(obj, context)["contact_name"]

    @staticmethod
    def resolve_contact_phone(obj, context) -> str:
        return _personal(obj, context)["contact_phone"]

    @staticmethod
    def resolve_contact_email(obj, context) -> str:
        return _personal(obj, context)["contact_email"]

    @staticmethod
    def resolve_personal_masked(obj, context) -> bool:
        return _personal(obj, context).masked

    @staticmethod
    def resolve_personal_unmaskable(obj, context) -> list[str]:
        return _personal(obj, context).can_unmask


def _personal(obj, context) -> PersonalView:
    """The personal fields as the caller may see them (masked unless its
    own, or unmasked on request by `get_profile`), computed once per answer."""
    view = getattr(obj, "_personal_view", None)
    if view is None:
        view = obj._personal_view = personal_view(actor(context["request"]), obj)
    return view


class ProfilePatch(InputSchema):
    """Only the fields sent change; null (or "") clears one."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "founded_on": "2012-03-01",
                    "registered_capital_wan": 500,
                    "legal_representative": "张三",
                    "is_above_scale": True,
                    "strategic_emerging_category": "2",
                }
            ]
        },
    )

    founded_on: IsoDate | None = None
    registered_capital_wan: AmountWan | None = None
    legal_representative: Text(50) | None = None  # type: ignore[valid-type]
    legal_rep_id_number: Text(18) | None = Field(
        default=None, description="18 位居民身份证号码，校验码按 GB 11643 检查"
    )  # type: ignore[valid-type]
    contact_name: Text(50) | None = None  # type: ignore[valid-type]
    contact_phone: Text(30) | None = None  # type: ignore[valid-type]
    contact_email: Text(254) | None = None  # type: ignore[valid-type]
    address: Text(200) | None = None  # type: ignore[valid-type]
    main_products: Text(500) | None = None  # type: ignore[valid-type]
    rd_expense_wan: AmountWan | None = None
    is_above_scale: StrictBool | None = None
    strategic_emerging_category: StrategicEmergingCategory | None = None
    chongqing_class: ChongqingClass | None = None


class ProfileQuery(Schema):
    unmask: bool = Field(
        False,
        description="1：查看个人信息的完整内容（需有权限，记入审计日志；无任何查看权限时为 403）",
    )


@router.get(
    "/{id}/profile", response=responses({200: ProfileOut}, 403, 404, 422), summary="企业档案"
)
def get_profile(request, id: ObjectId, params: Query[ProfileQuery]):
    enterprise = _enterprise(request, id)
    enterprise._personal_view = personal_view(actor(request), enterprise, unmask=params.unmask)
    return enterprise


@router.patch(
    "/{id}/profile",
    response=responses({200: ProfileOut}, 400, 404, 413, 422),
    summary="修改企业档案",
)
def update_profile(request, id: ObjectId, payload: ProfilePatch):
    enterprise = _enterprise(request, id)
    return services.update_enterprise_profile(
        actor(request), enterprise, payload.model_dump(exclude_unset=True)
    )


# --- tax credit grades -----------------------------------------------------------------


class TaxGradeOut(Schema):
    year: int = Field(description="评价年度")
    grade: TaxGrade
    updated_at: datetime

    @staticmethod
    def resolve_updated_at(obj) -> datetime:
        return timezone.localtime(obj.updated_at)


class TaxGradeIn(InputSchema):
    grade: TaxGrade = Field(description="A / B / M / C / D")


@router.get(
    "/{id}/tax-grades",
    response=responses({200: list[TaxGradeOut]}, 404, 422),
    summary="纳税信用等级（逐年）",
)
def list_tax_grades(request, id: ObjectId):
    return _enterprise(request, id).tax_grades.order_by("-year")


@router.put(
    "/{id}/tax-grades/{year}",
    response=responses({200: TaxGradeOut}, 400, 404, 413, 422),
    summary="录入或更正某一年度的纳税信用等级",
)
def put_tax_grade(
    request, id: ObjectId, year: Annotated[int, Field(ge=1900, le=2200)], payload: TaxGradeIn
):
    enterprise = _enterprise(request, id)
    return services.set_tax_grade(actor(request), enterprise, year, payload.grade)


# --- qualifications --------------------------------------------------------------------


class QualificationOut(Schema):
    id: int
    kind: QualificationKind
    kind_label: str
    board: ListingBoard | None = Field(description="上市/挂牌板块")
    issuer: str = Field(description="认定/发证机构")
    certificate_no: str
    valid_from: date
    valid_until: date | None = Field(description="有效期至；null 为长期有效")
    active: bool = Field(description="今天是否有效（到期当日仍有效，次日起失效）")
    source: str = Field(
        description="enterprise 企业自报 / government 政府认定 / platform 平台录入 / import 官方导入"
    )
    status: str = Field(
        description="declared 企业自报待核验（资格判断中为“需核验”）/ verified 已核验 / rejected 核验未通过"
    )
    verified_by: str | None = Field(description="核验机构名称")
    verified_at: datetime | None = Field(description="核验（或不通过）时间")
    review_note: str = Field(description="核验意见；不通过时为原因")
    note: str
    updated_at: datetime

    @staticmethod
    def resolve_kind_label(obj: Qualification) -> str:
        return obj.get_kind_display()

    @staticmethod
    def resolve_board(obj: Qualification) -> str | None:
        return obj.board or None

    @staticmethod
    def resolve_active(obj: Qualification) -> bool:
        return obj.is_active()

    @staticmethod
    def resolve_verified_by(obj: Qualification) -> str | None:
        return obj.verified_by.name if obj.verified_by_id else None

    @staticmethod
    def resolve_verified_at(obj: Qualification) -> datetime | None:
        return timezone.localtime(obj.verified_at) if obj.verified_at else None

    @staticmethod
    def resolve_updated_at(obj) -> datetime:
        return timezone.localtime(obj.updated_at)


class QualificationIn(InputSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "high_tech",
                    "issuer": "浙江省科学技术厅",
                    "certificate_no": "GR202333001234",
                    "valid_from": "2023-12-08",
                    "valid_until": "2026-12-07",
                }
            ]
        },
    )

    kind: QualificationKind
    board: ListingBoard | None = None
    issuer: Text(100, min_length=1)  # type: ignore[valid-type]
    certificate_no: Text(100) | None = None  # type: ignore[valid-type]
    valid_from: IsoDate
    valid_until: IsoDate | None = None
    note: Text(200) | None = None  # type: ignore[valid-type]


class QualificationPatch(InputSchema):
    kind: QualificationKind = Field(**_UNSET)
    board: ListingBoard | None = None
    issuer: Text(100, min_length=1) = Field(**_UNSET)  # type: ignore[valid-type]
    certificate_no: Text(100) | None = None  # type: ignore[valid-type]
    valid_from: IsoDate = Field(**_UNSET)
    valid_until: IsoDate | None = None
    note: Text(200) | None = None  # type: ignore[valid-type]


class RevokeIn(InputSchema):
    effective: IsoDate = Field(description="自该日起不再有效（有效期截至前一日）")
    reason: Text(200, min_length=1)  # type: ignore[valid-type]


class QualificationFilter(Schema):
    active: bool | None = Field(None, description="true 只看有效的，false 只看已失效的")
    on: IsoDate | None = Field(None, description="按哪一天判断是否有效，默认今天")


@router.get(
    "/{id}/qualifications",
    response=responses({200: list[QualificationOut]}, 404, 422),
    summary="企业资质（含历史）",
)
def list_qualifications(request, id: ObjectId, filters: Query[QualificationFilter]):
    enterprise = _enterprise(request, id)
    queryset = Qualification.objects.visible_to(actor(request)).filter(enterprise=enterprise)
    if filters.active is True:
        queryset = queryset.active_on(filters.on)
    elif filters.active is False:
        queryset = queryset.exclude(pk__in=queryset.active_on(filters.on).values("pk"))
    return queryset.order_by("kind", "-valid_from", "pk")


@router.post(
    "/{id}/qualifications",
    response=responses({201: QualificationOut}, 400, 404, 413, 422),
    summary="登记资质",
)
def add_qualification(request, id: ObjectId, payload: QualificationIn):
    enterprise = _enterprise(request, id)
    qualification = services.add_qualification(
        actor(request), enterprise, payload.model_dump(exclude_none=True)
    )
    return Status(201, qualification)


@router.patch(
    "/{id}/qualifications/{qid}",
    response=responses({200: QualificationOut}, 400, 404, 413, 422),
    summary="更正资质（留痕）",
)
def update_qualification(request, id: ObjectId, qid: ObjectId, payload: QualificationPatch):
    enterprise = _enterprise(request, id)
    qualification = services.get_visible_qualification(actor(request), enterprise, qid)
    return services.update_qualification(
        actor(request), qualification, payload.model_dump(exclude_unset=True)
    )


@router.post(
    "/{id}/qualifications/{qid}/revoke",
    response=responses({200: QualificationOut}, 400, 404, 413, 422),
    summary="撤销资质（提前终止有效期）",
)
def revoke_qualification(request, id: ObjectId, qid: ObjectId, payload: RevokeIn):
    enterprise = _enterprise(request, id)
    qualification = services.get_visible_qualification(actor(request), enterprise, qid)
    return services.revoke_qualification(
        actor(request), qualification, effective=payload.effective, reason=payload.reason
    )


# --- list memberships -------------------------------------------------------------------


class MembershipOut(Schema):
    list_id: int
    list_name: str
    list_type: str
    agency_name: str
    project_id: int | None
    project_name: str | None
    version: int | None = Field(description="当前生效的版本号（过往的为 null）")
    effective_from: date
    effective_until: date | None
    reason: str


class MembershipsOut(Schema):
    current: list[MembershipOut] = Field(description="现在在哪些名单上")
    past: list[MembershipOut] = Field(description="曾经在、现已不在的名单")


@router.get(
    "/{id}/lists",
    response=responses({200: MembershipsOut}, 404, 422),
    summary="企业所在的名单（当前与过往）",
)
def memberships(request, id: ObjectId):
    enterprise = _enterprise(request, id)
    current, past = services.enterprise_memberships(actor(request), enterprise)
    return {
        "current": [
            {
                "list_id": e.version.list_id,
                "list_name": e.version.list.name,
                "list_type": e.version.list.list_type,
                "agency_name": e.version.list.agency.name,
                "project_id": e.project_id,
                "project_name": e.project.name if e.project_id else None,
                "version": e.version.number,
                "effective_from": e.version.effective_from,
                "effective_until": e.version.effective_until,
                "reason": e.reason,
            }
            for e in current
        ],
        "past": [
            {
                "list_id": p.list.pk,
                "list_name": p.list.name,
                "list_type": p.list.list_type,
                "agency_name": p.list.agency.name,
                "project_id": p.project.pk if p.project else None,
                "project_name": p.project.name if p.project else None,
                "version": None,
                "effective_from": p.first_from,
                "effective_until": p.last_until,
                "reason": "",
            }
            for p in past
        ],
    }


# --- operating data ------------------------------------------------------------------------


class FlagOut(Schema):
    field: str
    reason: str


class OperatingOut(Schema):
    id: int
    enterprise_id: int
    enterprise_name: str
    period: str = Field(description="统计期：月度 2025-03，季度 2025Q1")
    period_type: PeriodType
    period_start: date
    output_value_wan: float | None = Field(description="工业总产值（万元）")
    revenue_wan: float | None = Field(description="营业收入（万元）")
    profit_wan: float | None = Field(description="利润总额（万元）")
    tax_paid_wan: float | None = Field(description="实缴税金（万元）")
    employees: int | None
    electricity_kwh: float | None = Field(description="用电量（千瓦时）")
    flags: list[FlagOut] = Field(description="异常提示：哪个字段、为什么")
    review_status: ReviewStatus = Field(description="ok 正常 / flagged 待核实 / confirmed 已核实")
    review_note: str
    reviewed_at: datetime | None
    updated_at: datetime
    actions: list[str] = Field(description="当前用户可执行的操作")

    @staticmethod
    def resolve_enterprise_name(obj: OperatingRecord) -> str:
        return obj.enterprise.name

    @staticmethod
    def resolve_period(obj: OperatingRecord) -> str:
        return obj.period_code

    @staticmethod
    def resolve_output_value_wan(obj) -> float | None:
        return _wan(obj.output_value)

    @staticmethod
    def resolve_revenue_wan(obj) -> float | None:
        return _wan(obj.revenue)

    @staticmethod
    def resolve_profit_wan(obj) -> float | None:
        return _wan(obj.profit)

    @staticmethod
    def resolve_tax_paid_wan(obj) -> float | None:
        return _wan(obj.tax_paid)

    @staticmethod
    def resolve_electricity_kwh(obj) -> float | None:
        return None if obj.electricity_kwh is None else float(obj.electricity_kwh)

    @staticmethod
    def resolve_reviewed_at(obj) -> datetime | None:
        return timezone.localtime(obj.reviewed_at) if obj.reviewed_at else None

    @staticmethod
    def resolve_updated_at(obj) -> datetime:
        return timezone.localtime(obj.updated_at)

    @staticmethod
    def resolve_actions(obj, context) -> list[str]:
        user = actor(context["request"])
        names = [t.name for t in OPERATING_REVIEW.available(obj, user)]
        if services.can_review_operating_data(user, obj):
            names.append("correct")
        return names


class OperatingIn(InputSchema):
    """The figures given; those left out stay as they are."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "output_value_wan": 1250.5,
                    "revenue_wan": 1180,
                    "profit_wan": 96.2,
                    "tax_paid_wan": 42,
                    "employees": 118,
                    "electricity_kwh": 265000,
                }
            ]
        },
    )

    output_value_wan: SignedWan | None = None
    revenue_wan: SignedWan | None = None
    profit_wan: SignedWan | None = None
    tax_paid_wan: SignedWan | None = None
    employees: Annotated[int, Field(strict=True, ge=-10_000_000, le=10_000_000)] | None = None
    electricity_kwh: SignedWan | None = Field(None, description="千瓦时，JSON 数字")


class NoteIn(InputSchema):
    note: Text(500, min_length=1)  # type: ignore[valid-type]


class CorrectIn(OperatingIn):
    note: Text(500, min_length=1)  # type: ignore[valid-type]


class OperatingFilter(Schema):
    period_type: PeriodType | None = None
    status: ReviewStatus | None = Field(None, description="核实状态")
    since: IsoDate | None = Field(None, description="统计期不早于")
    until: IsoDate | None = Field(None, description="统计期不晚于")


def _operating_filter(queryset, filters: OperatingFilter):
    if filters.period_type:
        queryset = queryset.filter(period_type=filters.period_type)
    if filters.status:
        queryset = queryset.filter(review_status=filters.status)
    if filters.since:
        queryset = queryset.filter(period_start__gte=filters.since)
    if filters.until:
        queryset = queryset.filter(period_start__lte=filters.until)
    return queryset


@router.get(
    "/{id}/operating-data",
    response=responses({200: list[OperatingOut]}, 404, 422),
    summary="经营数据（月度/季度）",
)
@paginated
def list_operating_data(request, id: ObjectId, filters: Query[OperatingFilter]):
    enterprise = _enterprise(request, id)
    queryset = OperatingRecord.objects.visible_to(actor(request)).filter(enterprise=enterprise)
    queryset = queryset.select_related("enterprise")
    return _operating_filter(queryset, filters).order_by("period_type", "period_start")


Period = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{4}(-[0-9]{2}|Q[1-4])$",
        description="月度 2025-03，季度 2025Q1",
        examples=["2025-03"],
    ),
]


@router.put(
    "/{id}/operating-data/{period}",
    response=responses({200: OperatingOut}, 400, 404, 413, 422),
    summary="填报或修改某一期的经营数据（异常值会被标记待核实）",
)
def put_operating_data(request, id: ObjectId, period: Period, payload: OperatingIn):
    enterprise = _enterprise(request, id)
    return services.record_operating_data(
        actor(request), enterprise, period, payload.model_dump(exclude_unset=True)
    )


@router.post(
    "/{id}/operating-data/{rid}/confirm",
    response=responses({200: OperatingOut}, 400, 404, 409, 413, 422),
    summary="核实无误（待核实 → 已核实）",
)
def confirm_operating_data(request, id: ObjectId, rid: ObjectId, payload: NoteIn):
    enterprise = _enterprise(request, id)
    record = services.get_visible_operating_record(actor(request), enterprise, rid)
    return services.confirm_operating_record(actor(request), record, note=payload.note)


@router.post(
    "/{id}/operating-data/{rid}/correct",
    response=responses({200: OperatingOut}, 400, 404, 413, 422),
    summary="更正经营数据（政府审核人员）",
)
def correct_operating_data(request, id: ObjectId, rid: ObjectId, payload: CorrectIn):
    enterprise = _enterprise(request, id)
    record = services.get_visible_operating_record(actor(request), enterprise, rid)
    data = payload.model_dump(exclude_unset=True)
    note = data.pop("note")
    return services.correct_operating_record(actor(request), record, data, note=note)


class ReviewQueueFilter(OperatingFilter):
    region: RegionCode | None = Field(None, description="企业所在地区：含其全部下级")


@operating_router.get(
    "",
    response=responses({200: list[OperatingOut]}, 422),
    summary="经营数据（可见企业的全部，可按核实状态筛选，如 status=flagged 为待核实队列）",
)
@paginated
def operating_queue(request, filters: Query[ReviewQueueFilter]):
    queryset = OperatingRecord.objects.visible_to(actor(request)).select_related("enterprise")
    if filters.region:
        region = Region.objects.filter(pk=filters.region).first()
        if region is None:
            raise ValidationFailed({"region": gettext("行政区划代码 %s 不存在") % filters.region})
        queryset = queryset.filter(enterprise__region__code__startswith=region.prefix)
    return _operating_filter(queryset, filters).order_by("-period_start", "enterprise__name", "pk")


# --- the registry's filters for the enterprise list (GET /enterprises) -----------------------


class RegistryFilter(Schema):
    """Extra query parameters of GET /enterprises (the enterprise filter
    schema inherits them); they narrow what `visible_to` allows."""

    qualification: QualificationKind | None = Field(
        None, description="持有该类今天有效的资质（已到期的不算）"
    )
    list_id: ObjectId | None = Field(None, description="在该名单今天生效的版本中")
    list_type: ListType | None = Field(None, description="在该类型任一（可见）名单今天生效的版本中")
    tax_grade: TaxGrade | None = Field(None, description="最近年度的纳税信用等级")


def apply_registry_filters(queryset, filters, user):
    if getattr(filters, "qualification", None):
        queryset = queryset.with_active_qualification(filters.qualification)
    if getattr(filters, "list_id", None):
        if not EnterpriseList.objects.visible_to(user).filter(pk=filters.list_id).exists():
            raise ValidationFailed({"list_id": gettext("名单 %s 不存在") % filters.list_id})
        queryset = queryset.on_list(list_id=filters.list_id, viewer=user)
    if getattr(filters, "list_type", None):
        queryset = queryset.on_list(list_type=filters.list_type, viewer=user)
    if getattr(filters, "tax_grade", None):
        queryset = queryset.with_tax_grade(filters.tax_grade)
    return queryset
