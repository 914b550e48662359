"""The shapes of the pilot-city API (/api/v1/pilot): what each operation
takes and returns, with the field descriptions the OpenAPI document shows.
Kept apart from the handlers in api.py, which only translate between these
and chanrong.pilots.services."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from django.urls import reverse
from ninja import Field, Schema

from chanrong.core.apikit.caller import actor
from chanrong.core.apikit.schemas import InputSchema, ObjectId, Text

from . import services
from .models import Application, Batch, Document, ProgressReport, ProvincialReview
from .services.personal import ContactView, contact_view

Year = Annotated[int, Field(ge=2000, le=2100, description="年份，如 2021")]
Number = Annotated[
    Decimal | None,
    Field(description='数值（数字或数字字符串，如 "4.90"，保留所写的小数位）；null 表示未设'),
]


class OutlineItem(Schema):
    key: str = Field(description="章节代码")
    title: str
    guidance: str = ""


class CriterionOut(Schema):
    id: int
    name: str
    description: str
    max_score: Decimal


class DocumentOut(Schema):
    id: int
    kind: str = Field(
        description="notice, outline, template, batch_other, declaration, material, joint_report, progress"
    )
    title: str
    original_name: str
    file_type: str
    size: int
    sha256: str
    uploaded_at: datetime
    download_url: str = Field(description="下载地址（网页会话，按可见性检查）")

    @staticmethod
    def resolve_download_url(obj: Document) -> str:
        return reverse("pilots:file", args=[obj.pk])


class BatchOut(Schema):
    id: int
    number: int
    name: str
    state: str = Field(description="draft 未发布 / open 已发布通知 / published 已公布名单")
    notice_title: str
    notice_number: str
    application_deadline: date = Field(description="申报截止日期（含当日）")
    provincial_deadline: date = Field(description="省级确认推荐截止日期（含当日）")
    eligible_level: str
    max_period_years: int
    province_quota: int
    special_quota: int
    published_at: datetime | None


class BatchDetailOut(BatchOut):
    notice_text: str
    outline: list[OutlineItem]
    criteria: list[CriterionOut]
    documents: list[DocumentOut]

    @staticmethod
    def resolve_criteria(obj: Batch):
        return list(obj.criteria.all())

    @staticmethod
    def resolve_documents(obj: Batch):
        return list(obj.documents.all())


class OutlineIn(InputSchema):
    key: Text(40) | None = None  # type: ignore[valid-type]
    title: Text(100, min_length=1)  # type: ignore[valid-type]
    guidance: Text(500) = ""  # type: ignore[valid-type]


class BatchIn(InputSchema):
    number: int = Field(ge=1, le=99)
    name: Text(64, min_length=1)  # type: ignore[valid-type]
    notice_title: Text(200) = ""  # type: ignore[valid-type]
    notice_number: Text(64) = ""  # type: ignore[valid-type]
    notice_text: Text(20000) = ""  # type: ignore[valid-type]
    application_deadline: date
    provincial_deadline: date
    eligible_level: Literal["county", "prefecture"] = "county"
    max_period_years: int = Field(3, ge=1, le=10)
    province_quota: int = Field(2, ge=1, le=20)
    special_quota: int = Field(1, ge=1, le=20)
    outline: list[OutlineIn] | None = Field(None, description="编制提纲；省略则用默认提纲")


class BatchPatch(InputSchema):
    number: int | None = Field(None, ge=1, le=99)
    name: Text(64, min_length=1) | None = None  # type: ignore[valid-type]
    notice_title: Text(200) | None = None  # type: ignore[valid-type]
    notice_number: Text(64) | None = None  # type: ignore[valid-type]
    notice_text: Text(20000) | None = None  # type: ignore[valid-type]
    application_deadline: date | None = None
    provincial_deadline: date | None = None
    eligible_level: Literal["county", "prefecture"] | None = None
    max_period_years: int | None = Field(None, ge=1, le=10)
    province_quota: int | None = Field(None, ge=1, le=20)
    special_quota: int | None = Field(None, ge=1, le=20)
    outline: list[OutlineIn] | None = None


class CriterionIn(InputSchema):
    name: Text(100, min_length=1)  # type: ignore[valid-type]
    max_score: Decimal = Field(gt=0, le=1000)
    description: Text(500) = ""  # type: ignore[valid-type]


class BatchPublishIn(InputSchema):
    title: Text(200) = ""  # type: ignore[valid-type]


class SectionOut(Schema):
    key: str
    title: str
    body: str


class TargetOut(Schema):
    indicator: str = Field(description="指标代码")
    name: str
    year: int
    value: Decimal | None
    second_value: Decimal | None


class ProvincialReviewOut(Schema):
    state: str = Field(description="pending / recommended / not_recommended / forwarded")
    slot: int | None = Field(description="占用的推荐名额序号")
    comment: str
    decided_at: datetime | None


class ApplicationOut(Schema):
    id: int
    batch_id: int
    batch_name: str
    region_code: str
    region_name: str
    review_region_code: str = Field(description="推荐单位（省、计划单列市或兵团）的区划代码")
    kind: str = Field(description="new 新申报 / renewal 延续试点")
    previous_id: int | None
    title: str
    start_year: int | None
    end_year: int | None
    state: str = Field(description="draft / submitted")
    stage: str = Field(
        description="draft, submitted, provincial, recommended, not_recommended, forwarded, "
        "ministry, decided, approved, rejected"
    )
    stage_label: str
    submitted_at: datetime | None

    @staticmethod
    def resolve_batch_name(obj: Application) -> str:
        return obj.batch.name

    @staticmethod
    def resolve_region_code(obj: Application) -> str:
        return obj.region_id

    @staticmethod
    def resolve_region_name(obj: Application) -> str:
        return obj.region.name

    @staticmethod
    def resolve_review_region_code(obj: Application) -> str:
        return obj.review_region_id

    @staticmethod
    def resolve_stage(obj: Application) -> str:
        return services.stage_of(obj)[0]

    @staticmethod
    def resolve_stage_label(obj: Application) -> str:
        return services.stage_of(obj)[1]


class ApplicationDetailOut(ApplicationOut):
    contact_name: str = Field(description="联系人（非申报、审核单位默认脱敏，见 unmask）")
    contact_phone: str = Field(description="联系电话（同上）")
    contact_masked: bool = Field(description="联系人信息是否以脱敏形式返回")
    contact_unmaskable: bool = Field(
        description="调用方有权以 GET ?unmask=1 查看完整内容（查看会记入审计日志）"
    )

    @staticmethod
    def resolve_contact_name(obj: Application, context) -> str:
        return _contact(obj, context).contact_name

    @staticmethod
    def resolve_contact_phone(obj: Application, context) -> str:
        return _contact(obj, context).contact_phone

    @staticmethod
    def resolve_contact_masked(obj: Application, context) -> bool:
        return _contact(obj, context).masked

    @staticmethod
    def resolve_contact_unmaskable(obj: Application, context) -> bool:
        return _contact(obj, context).can_unmask

    sections: list[SectionOut]
    documents: list[DocumentOut]
    targets: list[TargetOut]
    provincial_review: ProvincialReviewOut | None
    missing: list[dict[str, str]] = Field(description="提交前还缺的内容（仅草稿）")

    @staticmethod
    def resolve_sections(obj: Application):
        return list(obj.sections.all())

    @staticmethod
    def resolve_documents(obj: Application):
        return list(obj.documents.all())

    @staticmethod
    def resolve_targets(obj: Application):
        if obj.indicator_plan is None:
            return []
        return [
            {
                "indicator": t.definition.code,
                "name": t.definition.name,
                "year": t.year,
                "value": t.value,
                "second_value": t.second_value,
            }
            for t in obj.indicator_plan.targets.select_related("definition")
        ]

    @staticmethod
    def resolve_provincial_review(obj: Application):
        return ProvincialReview.objects.filter(application=obj).first()

    @staticmethod
    def resolve_missing(obj: Application):
        if obj.state != "draft":
            return []
        return [{"field": e.field, "message": e.message} for e in services.missing_parts(obj)]


class ApplicationIn(InputSchema):
    batch_id: ObjectId
    kind: Literal["new", "renewal"] = "new"
    previous_id: ObjectId | None = Field(None, description="延续试点时：原试点申报的编号")
    title: Text(200) = ""  # type: ignore[valid-type]
    start_year: Year | None = None
    end_year: Year | None = None
    contact_name: Text(64) = ""  # type: ignore[valid-type]
    contact_phone: Text(32) = ""  # type: ignore[valid-type]


class ApplicationPatch(InputSchema):
    title: Text(200) | None = None  # type: ignore[valid-type]
    start_year: Year | None = None
    end_year: Year | None = None
    contact_name: Text(64) | None = None  # type: ignore[valid-type]
    contact_phone: Text(32) | None = None  # type: ignore[valid-type]


class PilotTargetIn(InputSchema):
    indicator: Text(64, min_length=1)  # type: ignore[valid-type]
    year: Year
    value: Number = None
    second_value: Number = None


class ApplicationFilter(Schema):
    batch: ObjectId | None = Field(None, description="批次编号")
    state: Literal["draft", "submitted"] | None = None


class OpinionIn(InputSchema):
    stance: Literal["support", "reserve", "oppose"]
    text: Text(5000) = ""  # type: ignore[valid-type]


class OpinionOut(Schema):
    id: int
    agency: str
    stance: str
    text: str
    created_at: datetime

    @staticmethod
    def resolve_agency(obj) -> str:
        return obj.agency.name


class CommentIn(InputSchema):
    comment: Text(1000) = ""  # type: ignore[valid-type]


class ScoreIn(InputSchema):
    items: dict[str, Decimal] = Field(description="{评分项编号: 分数}")
    comment: Text(5000) = ""  # type: ignore[valid-type]


class ScoreOut(Schema):
    reviewer: str
    agency: str
    items: dict[str, str]
    total: Decimal
    comment: str

    @staticmethod
    def resolve_reviewer(obj) -> str:
        return str(obj.reviewer)

    @staticmethod
    def resolve_agency(obj) -> str:
        return obj.agency.name


class ScoreSummaryOut(Schema):
    state: str
    count: int
    mean_total: Decimal | None
    max_total: Decimal
    by_criterion: dict[str, Decimal | None] = Field(description="{评分项编号: 平均分}")
    by_function: dict[str, Decimal | None] = Field(description="{部门职能: 平均总分}")
    scores: list[ScoreOut]


class MinistryRowOut(ScoreSummaryOut):
    application_id: int
    region_code: str
    region_name: str
    kind: str


class SectionsIn(InputSchema):
    sections: dict[str, Text(100_000)] = Field(  # type: ignore[valid-type]
        description="{章节代码: 内容}，代码见批次的 outline"
    )


class DecideIn(InputSchema):
    decision: Literal["approve", "reject"]
    note: Text(1000) = ""  # type: ignore[valid-type]


class QuotaOut(Schema):
    unit_code: str
    unit_name: str
    quota: int
    used: int
    remaining: int


class ProvinceOut(Schema):
    quota: QuotaOut
    submission_state: str = Field(description="open 未确认 / confirmed 已确认上报")
    joint_report: DocumentOut | None
    applications: list[ApplicationOut]


class ConfirmIn(InputSchema):
    note: Text(2000) = ""  # type: ignore[valid-type]


class ReportOut(Schema):
    id: int
    application_id: int
    year: int
    period: str = Field(description="Q1 第一季度 / H1 上半年 / Q3 前三季度 / Y 全年")
    state: str
    summary: str
    problems: str
    next_steps: str
    submitted_at: datetime | None
    documents: list[DocumentOut]

    @staticmethod
    def resolve_documents(obj: ProgressReport):
        return list(obj.documents.all())


class ReportIn(InputSchema):
    year: Year
    period: Literal["Q1", "H1", "Q3", "Y"]
    summary: Text(20000, min_length=1)  # type: ignore[valid-type]
    problems: Text(20000) = ""  # type: ignore[valid-type]
    next_steps: Text(20000) = ""  # type: ignore[valid-type]


class LagIndicatorOut(Schema):
    indicator: str
    name: str
    target: str
    actual: str
    percent: str


class LagOut(Schema):
    application_id: int
    region_code: str
    region_name: str
    batch_name: str
    year: int
    indicators: int
    met: int
    reports: int
    behind: list[LagIndicatorOut]


class EvaluationFilter(Schema):
    year: Year | None = Field(None, description="评估年度（默认当年，限于各试点的实施期内）")
    batch: ObjectId | None = None


def _contact(obj: Application, context) -> ContactView:
    """The contact as the caller may see it (masked unless it is the
    applicant's or a reviewer's, or unmasked on request by
    `get_application`), computed once per answer."""
    view = getattr(obj, "_contact_view", None)
    if view is None:
        view = obj._contact_view = contact_view(actor(context["request"]), obj)
    return view
