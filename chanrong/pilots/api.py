"""The pilot-city programme over the API (mounted at /api/v1/pilot).

Reads start from the services' visibility (`visible_batches`,
`visible_applications`, `get_visible_*`): anything not visible is a 404.
Writes go through `chanrong.pilots.services`, which hold every rule; their
ServiceErrors become the API's error shape. Files are uploaded as
multipart/form-data and downloaded through the web view at `download_url`,
which checks visibility again.

The request and response schemas are in api_schemas.py.
"""

from typing import Any, Literal

from django.utils.translation import gettext as _
from ninja import Body, File, Form, Query, Router, Status
from ninja.files import UploadedFile

from chanrong.core.apikit.caller import actor
from chanrong.core.apikit.errors import responses
from chanrong.core.apikit.pagination import paginated
from chanrong.core.apikit.schemas import ObjectId
from chanrong.core.errors import NotFound
from chanrong.core.scope import ScopeKind, scope_of

from . import permissions as perms
from . import services
from .api_schemas import (
    ApplicationDetailOut,
    ApplicationFilter,
    ApplicationIn,
    ApplicationOut,
    ApplicationPatch,
    BatchDetailOut,
    BatchIn,
    BatchOut,
    BatchPatch,
    BatchPublishIn,
    CommentIn,
    ConfirmIn,
    CriterionIn,
    CriterionOut,
    DecideIn,
    DocumentOut,
    EvaluationFilter,
    LagOut,
    MinistryRowOut,
    OpinionIn,
    OpinionOut,
    OutlineIn,
    PilotTargetIn,
    ProvinceOut,
    ReportIn,
    ReportOut,
    ScoreIn,
    ScoreSummaryOut,
    SectionsIn,
)
from .models import Application, Batch, MinistryReview, ProgressReport
from .services.personal import contact_view

router = Router(tags=["pilot 产融合作试点城市"])


# --------------------------------------------------------------------------
# helpers


def _batch(request, batch_id: int) -> Batch:
    return services.get_visible_batch(actor(request), batch_id)


def _application(request, application_id: int) -> Application:
    return services.get_visible_application(actor(request), application_id)


def _outline(items: list[OutlineIn] | None) -> list[dict[str, Any]] | None:
    if items is None:
        return None
    return [i.model_dump(exclude_none=True) for i in items]


# --------------------------------------------------------------------------
# batches


@router.get("/batches", response=responses({200: list[BatchOut]}, 422), summary="试点批次列表")
@paginated
def list_batches(request):
    return services.visible_batches(actor(request)).order_by("-number")


@router.get(
    "/batches/{batch_id}", response=responses({200: BatchDetailOut}, 404, 422), summary="批次详情"
)
def get_batch(request, batch_id: ObjectId):
    return _batch(request, batch_id)


@router.post(
    "/batches", response=responses({201: BatchDetailOut}, 409, 422), summary="创建批次（工信部）"
)
def create_batch(request, payload: BatchIn):
    data = payload.model_dump()
    if payload.outline is None:
        data.pop("outline")
    else:
        data["outline"] = _outline(payload.outline)
    return Status(201, services.create_batch(actor(request), data))


@router.patch(
    "/batches/{batch_id}",
    response=responses({200: BatchDetailOut}, 404, 409, 422),
    summary="修改批次",
)
def update_batch(request, batch_id: ObjectId, payload: BatchPatch):
    batch = _batch(request, batch_id)
    data = payload.model_dump(exclude_unset=True)
    if "outline" in data:
        data["outline"] = _outline(payload.outline)
    return services.update_batch(actor(request), batch, data)


@router.put(
    "/batches/{batch_id}/rubric",
    response=responses({200: list[CriterionOut]}, 404, 409, 422),
    summary="设置评分标准",
)
def set_rubric(request, batch_id: ObjectId, payload: Body[list[CriterionIn]]):
    batch = _batch(request, batch_id)
    return services.set_rubric(actor(request), batch, [c.model_dump() for c in payload])


@router.post(
    "/batches/{batch_id}/open",
    response=responses({200: BatchOut}, 404, 409),
    summary="发布申报通知",
)
def open_batch(request, batch_id: ObjectId):
    return services.open_batch(actor(request), _batch(request, batch_id))


@router.post(
    "/batches/{batch_id}/publish",
    response=responses({200: BatchOut}, 404, 409, 422),
    summary="公布试点城市名单",
)
def publish_batch(request, batch_id: ObjectId, payload: BatchPublishIn | None = None):
    title = payload.title if payload else ""
    return services.publish_batch(actor(request), _batch(request, batch_id), title=title)


@router.get(
    "/batches/{batch_id}/pilots",
    response=responses({200: list[ApplicationOut]}, 404),
    summary="已公布的试点城市名单（未公布时为空）",
)
def batch_pilots(request, batch_id: ObjectId):
    return services.published_pilots(_batch(request, batch_id))


@router.get(
    "/batches/{batch_id}/province",
    response=responses({200: ProvinceOut}, 404),
    summary="本省（计划单列市、兵团）审核推荐情况",
)
def province(request, batch_id: ObjectId):
    batch = _batch(request, batch_id)
    overview = services.unit_overview(actor(request), batch)
    quota = overview["quota"]
    submission = overview["submission"]
    return {
        "quota": {
            "unit_code": quota.unit.code,
            "unit_name": quota.unit.name,
            "quota": quota.quota,
            "used": quota.used,
            "remaining": quota.remaining,
        },
        "submission_state": submission.state if submission else "open",
        "joint_report": submission.documents.first() if submission else None,
        "applications": overview["applications"],
    }


@router.post(
    "/batches/{batch_id}/province/joint-report",
    response=responses({201: DocumentOut}, 404, 409, 422),
    summary="上传联合上报文件（PDF）",
)
def upload_joint_report(request, batch_id: ObjectId, file: File[UploadedFile]):
    batch = _batch(request, batch_id)
    return Status(201, services.upload_joint_report(actor(request), batch, file))


@router.post(
    "/batches/{batch_id}/province/confirm",
    response=responses({200: ProvinceOut}, 404, 409, 422),
    summary="确认上报推荐名单",
)
def confirm(request, batch_id: ObjectId, payload: ConfirmIn | None = None):
    batch = _batch(request, batch_id)
    services.confirm_submission(actor(request), batch, note=payload.note if payload else "")
    return province(request, batch_id)


@router.get(
    "/batches/{batch_id}/ministry",
    response=responses({200: list[MinistryRowOut]}, 404),
    summary="部级评审汇总（按平均分排序）",
)
def ministry(request, batch_id: ObjectId):
    batch = _batch(request, batch_id)
    return [
        {
            "application_id": review.application_id,
            "region_code": review.application.region_id,
            "region_name": review.application.region.name,
            "kind": review.application.kind,
            **_summary(review, summary),
        }
        for review, summary in services.ministry_board(actor(request), batch)
    ]


# --------------------------------------------------------------------------
# applications


@router.get(
    "/applications", response=responses({200: list[ApplicationOut]}, 422), summary="申报列表"
)
@paginated
def list_applications(request, filters: Query[ApplicationFilter]):
    queryset = services.visible_applications(actor(request)).select_related(
        "batch", "region", "review_region"
    )
    if filters.batch:
        queryset = queryset.filter(batch_id=filters.batch)
    if filters.state:
        queryset = queryset.filter(state=filters.state)
    return queryset.order_by("-batch__number", "review_region_id", "region_id", "pk")


@router.post(
    "/applications",
    response=responses({201: ApplicationDetailOut}, 404, 409, 422),
    summary="创建申报（申报城市（区）的政府管理员）",
)
def create_application(request, payload: ApplicationIn):
    batch = _batch(request, payload.batch_id)
    data = payload.model_dump(exclude={"batch_id", "previous_id"})
    data["previous"] = payload.previous_id
    return Status(201, services.create_application(actor(request), batch, data))


@router.get(
    "/applications/{application_id}",
    response=responses({200: ApplicationDetailOut}, 404, 422),
    summary="申报详情",
)
def get_application(request, application_id: ObjectId, unmask: bool = False):
    """`?unmask=1`: the contact person in full for a holder of the
    personal-data right, audited (`personal.unmask`); 403 without it."""
    application = _application(request, application_id)
    if unmask:
        application._contact_view = contact_view(actor(request), application, unmask=True)
    return application


@router.patch(
    "/applications/{application_id}",
    response=responses({200: ApplicationDetailOut}, 404, 409, 422),
    summary="修改申报基本信息",
)
def update_application(request, application_id: ObjectId, payload: ApplicationPatch):
    application = _application(request, application_id)
    return services.update_application(
        actor(request), application, payload.model_dump(exclude_unset=True)
    )


@router.put(
    "/applications/{application_id}/sections",
    response=responses({200: ApplicationDetailOut}, 404, 409, 422),
    summary="保存实施方案（按编制提纲的章节代码）",
)
def save_sections(request, application_id: ObjectId, payload: SectionsIn):
    application = _application(request, application_id)
    services.save_sections(actor(request), application, payload.sections)
    return _application(request, application_id)


@router.put(
    "/applications/{application_id}/indicators",
    response=responses({200: ApplicationDetailOut}, 404, 409, 422),
    summary="填写定量指标统计表（每个指标每年的目标值）",
)
def set_indicators(request, application_id: ObjectId, payload: Body[list[PilotTargetIn]]):
    application = _application(request, application_id)
    rows = [
        {
            "definition": t.indicator,
            "year": t.year,
            "value": t.value,
            "second_value": t.second_value,
        }
        for t in payload
    ]
    services.set_indicator_targets(actor(request), application, rows)
    return _application(request, application_id)


@router.post(
    "/applications/{application_id}/documents",
    response=responses({201: DocumentOut}, 404, 409, 422),
    summary="上传申报文件（PDF）或相关材料",
)
def upload_document(
    request,
    application_id: ObjectId,
    kind: Form[Literal["declaration", "material"]],
    file: File[UploadedFile],
    title: Form[str] = "",
):
    application = _application(request, application_id)
    return Status(
        201, services.add_application_document(actor(request), application, kind, file, title)
    )


@router.delete(
    "/applications/{application_id}/documents/{document_id}",
    response=responses({204: None}, 404, 409, 422),
    summary="删除材料",
)
def delete_document(request, application_id: ObjectId, document_id: ObjectId):
    application = _application(request, application_id)
    doc = services.get_visible_document(actor(request), document_id)
    if doc.application_id != application.pk:
        raise NotFound(_("未找到该文件"))
    services.remove_document(actor(request), doc)
    return Status(204, None)


def _transition(request, application_id: int, call):
    application = _application(request, application_id)
    call(application)
    return _application(request, application_id)


@router.post(
    "/applications/{application_id}/submit",
    response=responses({200: ApplicationDetailOut}, 404, 409, 422),
    summary="提交申报（申报截止日期前）",
)
def submit(request, application_id: ObjectId):
    return _transition(
        request, application_id, lambda a: services.submit_application(actor(request), a)
    )


@router.post(
    "/applications/{application_id}/withdraw",
    response=responses({200: ApplicationDetailOut}, 404, 409),
    summary="撤回申报",
)
def withdraw(request, application_id: ObjectId):
    return _transition(
        request, application_id, lambda a: services.withdraw_application(actor(request), a)
    )


@router.post(
    "/applications/{application_id}/opinions",
    response=responses({201: OpinionOut}, 404, 409, 422),
    summary="记录省级审核意见（工信、财政、人行、金融监管、证监）",
)
def opinion(request, application_id: ObjectId, payload: OpinionIn):
    application = _application(request, application_id)
    return Status(
        201, services.record_opinion(actor(request), application, payload.stance, payload.text)
    )


@router.post(
    "/applications/{application_id}/recommend",
    response=responses({200: ApplicationDetailOut}, 404, 409, 422),
    summary="确认推荐（占用推荐名额）",
)
def recommend(request, application_id: ObjectId, payload: CommentIn | None = None):
    comment = payload.comment if payload else ""
    return _transition(
        request, application_id, lambda a: services.recommend(actor(request), a, comment=comment)
    )


@router.post(
    "/applications/{application_id}/decline",
    response=responses({200: ApplicationDetailOut}, 404, 409, 422),
    summary="不予推荐",
)
def decline(request, application_id: ObjectId, payload: CommentIn):
    return _transition(
        request,
        application_id,
        lambda a: services.decline(actor(request), a, comment=payload.comment),
    )


@router.post(
    "/applications/{application_id}/reopen",
    response=responses({200: ApplicationDetailOut}, 404, 409),
    summary="撤销省级审核决定",
)
def reopen(request, application_id: ObjectId):
    return _transition(request, application_id, lambda a: services.reopen_review(actor(request), a))


def _summary(review, summary) -> dict[str, Any]:
    return {
        "state": review.state,
        "count": summary.count,
        "mean_total": summary.mean_total,
        "max_total": summary.max_total,
        "by_criterion": {str(c.pk): mean for c, mean in summary.by_criterion},
        "by_function": summary.by_function,
        "scores": summary.scores,
    }


def _ministry_review(request, application: Application):
    user = actor(request)
    if not perms.is_ministry_user(user) and scope_of(user).kind != ScopeKind.PLATFORM:
        raise NotFound(_("未找到"))
    review = MinistryReview.objects.filter(application=application).first()
    if review is None:
        raise NotFound(_("该申报尚未进入部级评审"))
    return review


@router.get(
    "/applications/{application_id}/scores",
    response=responses({200: ScoreSummaryOut}, 404),
    summary="部级评审得分汇总（五部门）",
)
def scores(request, application_id: ObjectId):
    review = _ministry_review(request, _application(request, application_id))
    return _summary(review, services.score_summary(review))


@router.put(
    "/applications/{application_id}/score",
    response=responses({200: ScoreSummaryOut}, 404, 409, 422),
    summary="评审打分（本人的评分，重复提交即修改）",
)
def score(request, application_id: ObjectId, payload: ScoreIn):
    application = _application(request, application_id)
    services.score(actor(request), application, payload.items, comment=payload.comment)
    review = _ministry_review(request, application)
    return _summary(review, services.score_summary(review))


@router.post(
    "/applications/{application_id}/decide",
    response=responses({200: ScoreSummaryOut}, 404, 409, 422),
    summary="作出评审结论（工信部）",
)
def decide(request, application_id: ObjectId, payload: DecideIn):
    application = _application(request, application_id)
    services.decide(
        actor(request), application, approve=payload.decision == "approve", note=payload.note
    )
    review = _ministry_review(request, application)
    return _summary(review, services.score_summary(review))


# --------------------------------------------------------------------------
# progress reports and evaluation


@router.get(
    "/applications/{application_id}/reports",
    response=responses({200: list[ReportOut]}, 404),
    summary="试点进展报告",
)
def list_reports(request, application_id: ObjectId):
    application = _application(request, application_id)
    return ProgressReport.objects.visible_to(actor(request)).filter(application=application)


@router.post(
    "/applications/{application_id}/reports",
    response=responses({201: ReportOut}, 404, 409, 422),
    summary="填报进展报告（草稿）",
)
def create_report(request, application_id: ObjectId, payload: ReportIn):
    application = _application(request, application_id)
    return Status(201, services.create_report(actor(request), application, payload.model_dump()))


@router.post(
    "/reports/{report_id}/documents",
    response=responses({201: DocumentOut}, 404, 409, 422),
    summary="上传进展报告附件",
)
def report_document(
    request,
    report_id: ObjectId,
    file: File[UploadedFile],
    title: Form[str] = "",
):
    report = services.get_visible_report(actor(request), report_id)
    return Status(201, services.add_report_document(actor(request), report, file, title))


@router.post(
    "/reports/{report_id}/submit",
    response=responses({200: ReportOut}, 404, 409),
    summary="报送进展报告",
)
def submit_report(request, report_id: ObjectId):
    report = services.get_visible_report(actor(request), report_id)
    return services.submit_report(actor(request), report)


@router.get(
    "/evaluation",
    response=responses({200: list[LagOut]}, 404, 422),
    summary="试点城市指标完成情况（哪些城市哪些指标未完成）",
)
def evaluation(request, filters: Query[EvaluationFilter]):
    batch = _batch(request, filters.batch) if filters.batch else None
    rows = services.lagging(actor(request), year=filters.year, batch=batch)
    return [
        {
            "application_id": row.application.pk,
            "region_code": row.application.region_id,
            "region_name": row.application.region.name,
            "batch_name": row.application.batch.name,
            "year": row.year,
            "indicators": len(row.rows),
            "met": row.met,
            "reports": row.reports,
            "behind": [
                {
                    "indicator": r.definition.code,
                    "name": r.definition.name,
                    "target": r.target_text,
                    "actual": r.actual_text,
                    "percent": r.percent,
                }
                for r in row.behind
            ],
        }
        for row in rows
    ]
