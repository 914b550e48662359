"""Credit records over the API, mounted at /api/v1/credit-records:

- POST /credit-records  an agency or the 大数据局 pushes records in bulk (at most 5,000);
  all rows valid or nothing is written (errors by row: `rows.3.reference`);
  a record already stored under the same enterprise, kind, source and
  reference is updated, so a repeated push changes nothing (idempotent).
- GET /enterprises/{id}/credit-report  the 信用报告 (same visibility; audited).
- GET /enterprises/{id}/credit-records (`enterprise_router`, mounted beside
  the enterprises router)  one enterprise's records, for whoever sees the
  enterprise: government of its region, the enterprise, an institution it
  authorised (each such look audited); otherwise 404.

Every rule is in `chanrong.registry.services.credit`.

(No `from __future__ import annotations`: django-ninja must see the real
parameter types of the paginated operation.)
"""

from datetime import date, datetime
from typing import Any

from ninja import Field, Query, Router, Schema

from chanrong.core.apikit.caller import actor
from chanrong.core.apikit.errors import responses
from chanrong.core.apikit.pagination import paginated
from chanrong.core.apikit.schemas import Day, InputSchema, MoneyIn, ObjectId, Text, Yuan

from . import services
from .models import CreditKind
from .services import credit, credit_report

router = Router(tags=["credit-records 信用信息"])
enterprise_router = Router(tags=["credit-records 信用信息"])


class CreditRecordIn(InputSchema):
    uscc: str = Field(
        min_length=18, max_length=18, pattern=r"^[0-9A-Z]{18}$", description="企业统一社会信用代码"
    )
    kind: CreditKind
    occurred_on: Day
    source: Text(100, min_length=1, kind="name")  # type: ignore[valid-type]
    reference: Text(100, min_length=1, kind="code")  # type: ignore[valid-type]
    summary: Text(1000, kind="text") = ""  # type: ignore[valid-type]
    amount: MoneyIn | None = None
    extra: dict[str, Any] = Field(
        default_factory=dict, description='其他信息，如 {"severity": "一般"}'
    )


class CreditRecordBulkIn(InputSchema):
    rows: list[CreditRecordIn] = Field(min_length=1, max_length=credit.MAX_BATCH)


class CreditRecordBulkOut(Schema):
    created: int
    updated: int
    unchanged: int


class CreditRecordOut(Schema):
    id: int
    enterprise_id: int
    uscc: str = Field(alias="enterprise.uscc")
    kind: CreditKind
    occurred_on: date
    source: str
    reference: str
    summary: str
    amount: Yuan | None
    extra: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class CreditRecordFilter(Schema):
    kind: CreditKind | None = None


@router.post(
    "",
    response=responses({200: CreditRecordBulkOut}, 403, 409, 422),
    summary="批量推送信用信息（政府部门；全部有效才写入；重复推送不产生重复记录）",
)
def push_credit_records(request, payload: CreditRecordBulkIn):
    rows = [row.model_dump() for row in payload.rows]
    result = credit.record_credit_records(actor(request), rows)
    return {"created": result.created, "updated": result.updated, "unchanged": result.unchanged}


@enterprise_router.get(
    "/{id}/credit-records",
    response=responses({200: list[CreditRecordOut]}, 404, 422),
    summary="企业的信用信息（金融机构须经企业授权，查看留痕）",
)
@paginated
def list_credit_records(request, id: ObjectId, filters: Query[CreditRecordFilter]):
    who = actor(request)
    enterprise = services.get_visible_enterprise(who, id)
    return credit.credit_records_for(who, enterprise, kind=filters.kind).select_related(
        "enterprise"
    )


class ReportFactsOut(Schema):
    name: str
    uscc: str
    region: str
    region_code: str
    industry: str
    industry_code: str
    size: str = Field(description="企业规模（空为未填）")
    founded_on: date | None
    legal_representative: str = Field(description="法定代表人（脱敏，企业本身除外）")


class ReportQualificationOut(Schema):
    kind: str
    issuer: str
    certificate_no: str
    valid_from: date
    valid_until: date | None


class ReportListOut(Schema):
    list_type: str = Field(description="名单类型代码，red 红名单、black 黑名单 …")
    list_type_label: str
    name: str
    effective_from: date | None
    effective_until: date | None


class ReportTaxGradeOut(Schema):
    year: int
    grade: str


class ReportRecordOut(Schema):
    occurred_on: date
    source: str
    reference: str
    summary: str
    amount: Yuan | None
    severity: str


class ReportSectionOut(Schema):
    kind: CreditKind
    label: str
    count: int
    records: list[ReportRecordOut]


class ReportSummaryOut(Schema):
    total: int
    counts: dict[str, int] = Field(description="每类信用信息的条数，键为 kind")
    adverse: bool = Field(description="有不良记录（行政处罚、司法判决或失信黑名单）")
    adverse_label: str = Field(description="有不良记录 / 无不良记录")
    latest_penalty: ReportRecordOut | None
    latest_judgment: ReportRecordOut | None


class CreditReportOut(Schema):
    enterprise_id: int
    generated_at: datetime
    requested_by: str = Field(description="查询机构")
    facts: ReportFactsOut
    qualifications: list[ReportQualificationOut] = Field(description="有效资质")
    lists: list[ReportListOut] = Field(description="当前有效的名单（含红黑名单）")
    tax_grades: list[ReportTaxGradeOut] = Field(description="纳税信用等级，按年度倒序")
    summary: ReportSummaryOut
    sections: list[ReportSectionOut] = Field(description="按类别分组的信用信息")
    footer: str


@enterprise_router.get(
    "/{id}/credit-report",
    response=responses({200: CreditReportOut}, 404, 422),
    summary="企业信用报告（与信用信息同一可见规则；每次查看留痕）",
)
def get_credit_report(request, id: ObjectId):
    who = actor(request)
    enterprise = services.get_visible_enterprise(who, id)
    report = credit_report.build_credit_report(who, enterprise)
    return {
        "enterprise_id": report.enterprise_id,
        "generated_at": report.generated_at,
        "requested_by": report.requested_by,
        "facts": report.facts,
        "qualifications": report.qualifications,
        "lists": report.lists,
        "tax_grades": report.tax_grades,
        "summary": {
            "total": report.total,
            "counts": report.counts,
            "adverse": report.adverse,
            "adverse_label": credit_report.adverse_label(report),
            "latest_penalty": report.latest_penalty,
            "latest_judgment": report.latest_judgment,
        },
        "sections": [
            {"kind": s.kind, "label": s.label, "count": s.count, "records": s.records}
            for s in report.sections
        ],
        "footer": report.footer,
    }
