"""Provincial review (省级审核推荐): the unit's 工信, 财政, 人行, 金融监管 and
证监 record opinions, the 工信 lead recommends (within the unit's quota) or
declines before the provincial deadline, and the unit's admin uploads the
joint report and confirms the list, which forwards the recommended
applications to the ministry. Also the unit's own overview page."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from chanrong.accounts.models import GovernmentAgency
from chanrong.core import audit, notify
from chanrong.core.errors import Conflict, FieldError, NotAllowed, NotFound, ValidationFailed
from chanrong.core.models import Region
from chanrong.core.workflow import apply_transition

from .. import permissions as perms
from .. import uploads
from ..models import (
    Application,
    ApplicationState,
    Batch,
    Document,
    DocumentKind,
    MinistryReview,
    ProvincialReview,
    ProvincialSubmission,
    ReviewOpinion,
    ReviewState,
    Stance,
    SubmissionState,
)
from ..workflows import PROVINCIAL_REVIEW, PROVINCIAL_SUBMISSION
from .common import _clean_text, _link, _ministry_admins, _region_admins, _require_before, today
from .documents import _atomic_with_files, _delete_document_row, _store_document
from .quotas import quota_status


def _review_of(application: Application) -> ProvincialReview:
    review = ProvincialReview.objects.filter(application=application).first()
    if review is None or application.state != ApplicationState.SUBMITTED:
        raise Conflict(_("该申报不在省级审核阶段"), code="not_in_provincial_review")
    return review


def _lock_submission(batch: Batch, unit_code: str) -> ProvincialSubmission:
    """The unit's submission row, locked for the rest of the transaction
    (SELECT … FOR UPDATE). Every recommendation of one unit in one batch
    takes this lock first, so they happen one after another and the quota
    count each one sees is final."""
    ProvincialSubmission.objects.get_or_create(batch=batch, review_region_id=unit_code)
    return ProvincialSubmission.objects.select_for_update().get(
        batch=batch, review_region_id=unit_code
    )


def _require_unit_lead(actor, application: Application) -> None:
    if not perms.is_unit_lead(actor, application.review_region_id):
        raise NotAllowed(
            _("只有%(review_region)s的工业和信息化主管部门可以审核推荐该申报")
            % {"review_region": application.review_region.name}
        )


def record_opinion(actor, application: Application, stance: str, text: str = "") -> ReviewOpinion:
    """工信, 财政, 人行, 金融监管 and 证监 of the unit each record opinions."""
    if not perms.is_unit_counterpart(actor, application.review_region_id):
        raise NotAllowed(
            _("只有本省（计划单列市、兵团）的工信、财政、人行、金融监管、证监部门可以提出审核意见")
        )
    errors: dict[str, str] = {}
    if stance not in Stance.values:
        errors["stance"] = _("请选择意见：同意推荐、有保留意见或不同意推荐")
    text = _clean_text(text, 5000)
    if len(text) > 5000:
        errors["text"] = _("意见说明不超过 5000 字")
    if stance != Stance.SUPPORT and not text:
        errors["text"] = _("有保留或不同意时请说明理由")
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        review = _review_of(application)
        submission = ProvincialSubmission.objects.filter(
            batch=application.batch, review_region=application.review_region
        ).first()
        if submission is not None and submission.state == SubmissionState.CONFIRMED:
            raise Conflict(_("推荐名单已确认上报，不能再提出意见"), code="submission_confirmed")
        _require_before(
            application.batch.provincial_deadline,
            pgettext("deadline", "省级审核推荐"),
            pgettext("deadline", "提出审核意见"),
        )
        opinion = ReviewOpinion.objects.create(
            review=review, author=actor, agency=actor.agency, stance=stance, text=text
        )
        audit.record(
            "pilots.provincial_review.opinion",
            actor=actor,
            obj=review,
            changes={"stance": stance, "agency": actor.agency.name, "text_chars": len(text)},
        )
    return opinion


def recommend(actor, application: Application, *, comment: str = "") -> ProvincialReview:
    """确认推荐: take one of the unit's places (two per province, one per
    计划单列市 / 兵团) before the provincial deadline.

    Two reviewers confirming at the same moment cannot both take the last
    place: each locks the unit's submission row first, so the second one
    counts after the first has committed and is refused.
    """
    _require_unit_lead(actor, application)
    comment = _clean_text(comment, 1000)[:1000]
    batch = application.batch
    with transaction.atomic():
        submission = _lock_submission(batch, application.review_region_id)
        _require_before(
            batch.provincial_deadline,
            pgettext("deadline", "省级确认推荐"),
            pgettext("deadline", "确认推荐"),
        )
        if submission.state == SubmissionState.CONFIRMED:
            raise Conflict(_("推荐名单已确认上报，不能再调整"), code="submission_confirmed")
        review = _review_of(application)
        if review.state != ReviewState.PENDING:
            raise Conflict(
                _("该申报已%(state)s，如需改变请先撤销审核决定")
                % {"state": review.get_state_display()},
                code="already_decided",
            )
        status = quota_status(batch, application.review_region)
        if status.used >= status.quota:
            raise Conflict(
                _("%(review_region)s在%(batch)s的推荐名额为%(quota)s个，已全部使用，不能再确认推荐")
                % {
                    "review_region": application.review_region.name,
                    "batch": batch.name,
                    "quota": status.quota,
                },
                code="quota_exhausted",
            )
        taken = set(
            ProvincialReview.objects.filter(
                batch=batch, review_region_id=application.review_region_id, slot__isnull=False
            ).values_list("slot", flat=True)
        )
        slot = next(n for n in range(1, status.quota + 1) if n not in taken)
        return apply_transition(
            PROVINCIAL_REVIEW,
            review,
            "recommend",
            actor,
            changes={
                "slot": slot,
                "comment": comment,
                "decided_by": actor,
                "decided_at": timezone.now(),
            },
            notify=_notify_provincial_decision,
        )


def decline(actor, application: Application, *, comment: str = "") -> ProvincialReview:
    _require_unit_lead(actor, application)
    comment = _clean_text(comment, 1000)
    if not comment:
        raise ValidationFailed({"comment": _("不予推荐时请说明理由")})
    if len(comment) > 1000:
        raise ValidationFailed({"comment": _("理由不超过 1000 字")})
    batch = application.batch
    with transaction.atomic():
        submission = _lock_submission(batch, application.review_region_id)
        _require_before(
            batch.provincial_deadline,
            pgettext("deadline", "省级审核推荐"),
            pgettext("deadline", "作出审核决定"),
        )
        if submission.state == SubmissionState.CONFIRMED:
            raise Conflict(_("推荐名单已确认上报，不能再调整"), code="submission_confirmed")
        review = _review_of(application)
        if review.state != ReviewState.PENDING:
            raise Conflict(
                _("该申报已%(state)s，如需改变请先撤销审核决定")
                % {"state": review.get_state_display()},
                code="already_decided",
            )
        return apply_transition(
            PROVINCIAL_REVIEW,
            review,
            "decline",
            actor,
            changes={"comment": comment, "decided_by": actor, "decided_at": timezone.now()},
            notify=_notify_provincial_decision,
        )


def reopen_review(actor, application: Application) -> ProvincialReview:
    """Undo a recommendation or refusal (frees the place) before confirmation."""
    _require_unit_lead(actor, application)
    batch = application.batch
    with transaction.atomic():
        submission = _lock_submission(batch, application.review_region_id)
        _require_before(
            batch.provincial_deadline,
            pgettext("deadline", "省级审核推荐"),
            pgettext("deadline", "撤销审核决定"),
        )
        if submission.state == SubmissionState.CONFIRMED:
            raise Conflict(_("推荐名单已确认上报，不能再调整"), code="submission_confirmed")
        review = _review_of(application)
        return apply_transition(
            PROVINCIAL_REVIEW,
            review,
            "reopen",
            actor,
            changes={"slot": None, "comment": "", "decided_by": None, "decided_at": None},
        )


def _notify_provincial_decision(review: ProvincialReview, transition, actor) -> None:
    application = review.application
    notify.send(
        _region_admins(application.region_id),
        f"pilots.provincial_review.{transition.name}",
        f"{application.review_region.name}对{application.region.name}的申报：{transition.label}",
        _link("pilots:application", application.pk),
    )


def get_submission(batch: Batch, unit: Region) -> ProvincialSubmission | None:
    return ProvincialSubmission.objects.filter(batch=batch, review_region=unit).first()


def upload_joint_report(actor, batch: Batch, upload, title: str = "") -> Document:
    """The joint report (联合上报文件) of 工信, 财政, 人行, 金融监管 and 证监:
    a PDF; a new upload replaces the old one until the list is confirmed."""
    unit = perms.review_unit_of(actor)
    if unit is None or not perms.is_unit_admin(actor, unit.code):
        raise NotAllowed(
            _("只有省级（计划单列市、兵团）工业和信息化主管部门管理员可以上传联合上报文件")
        )
    checked = uploads.check_upload(upload, uploads.PDF_ONLY)
    with _atomic_with_files() as stored:
        submission = _lock_submission(batch, unit.code)
        _require_before(
            batch.provincial_deadline,
            pgettext("deadline", "省级确认推荐"),
            pgettext("deadline", "上传联合上报文件"),
        )
        if submission.state == SubmissionState.CONFIRMED:
            raise Conflict(
                _("推荐名单已确认上报，不能再更换联合上报文件"), code="submission_confirmed"
            )
        replaced = list(submission.documents.all())
        doc = _store_document(
            actor,
            stored,
            checked,
            kind=DocumentKind.JOINT_REPORT,
            title=_clean_text(title, 200) or "联合上报文件",
            submission=submission,
        )
        for old in replaced:
            _delete_document_row(old)
        audit.record(
            "pilots.document.add",
            actor=actor,
            obj=doc,
            changes={
                "submission": submission.pk,
                "kind": DocumentKind.JOINT_REPORT,
                "name": checked.name,
                "replaced": [d.pk for d in replaced],
            },
        )
    return doc


def confirm_submission(actor, batch: Batch, *, note: str = "") -> ProvincialSubmission:
    """确认推荐 in the system and submit the joint report, before the
    provincial deadline: every application must have a decision; the
    recommended ones move on to the ministry."""
    unit = perms.review_unit_of(actor)
    if unit is None or not perms.is_unit_admin(actor, unit.code):
        raise NotAllowed(_("只有省级（计划单列市、兵团）工业和信息化主管部门管理员可以确认上报"))
    note = _clean_text(note, 2000)[:2000]
    with transaction.atomic():
        submission = _lock_submission(batch, unit.code)
        _require_before(
            batch.provincial_deadline,
            pgettext("deadline", "省级确认推荐"),
            pgettext("deadline", "确认上报"),
        )
        if submission.state == SubmissionState.CONFIRMED:
            raise Conflict(_("推荐名单已确认上报"), code="submission_confirmed")
        reviews = ProvincialReview.objects.filter(
            batch=batch, review_region=unit, application__state=ApplicationState.SUBMITTED
        )
        errors: list[FieldError] = []
        pending = reviews.filter(state=ReviewState.PENDING).count()
        if pending:
            errors.append(
                FieldError(
                    "reviews", _("还有 %(pending)s 份申报未作出审核决定") % {"pending": pending}
                )
            )
        recommended = list(reviews.filter(state=ReviewState.RECOMMENDED))
        if not recommended:
            errors.append(FieldError("reviews", _("尚未确认推荐任何城市（区）")))
        if not submission.documents.filter(kind=DocumentKind.JOINT_REPORT).exists():
            errors.append(FieldError("joint_report", _("请先上传联合上报文件（PDF）")))
        if errors:
            raise ValidationFailed(errors, message=_("尚不能确认上报"))
        submission = apply_transition(
            PROVINCIAL_SUBMISSION,
            submission,
            "confirm",
            actor,
            changes={"confirmed_by": actor, "confirmed_at": timezone.now(), "note": note},
        )
        for review in recommended:
            apply_transition(PROVINCIAL_REVIEW, review, "forward", actor)
            MinistryReview.objects.get_or_create(
                application_id=review.application_id, defaults={"batch": batch}
            )
        notify.send(
            _ministry_admins(),
            "pilots.provincial_submission.confirm",
            f"{unit.name}已确认上报{batch.name}推荐名单（{len(recommended)}个）",
            _link("pilots:ministry", batch.pk),
        )
    return submission


def unit_overview(actor, batch: Batch):
    """The provincial unit's page: its applications, quota and submission."""
    unit = perms.review_unit_of(actor)
    if unit is None or not perms.is_unit_counterpart(actor, unit.code):
        raise NotFound(_("未找到"))
    applications = (
        Application.objects.filter(
            batch=batch, review_region=unit, state=ApplicationState.SUBMITTED, kind="new"
        )
        .select_related("region", "provincial_review")
        .prefetch_related("provincial_review__opinions__agency")
        .order_by("region_id")
    )
    return {
        "unit": unit,
        "applications": list(applications),
        "quota": quota_status(batch, unit),
        "submission": get_submission(batch, unit),
        "is_lead": perms.is_unit_lead(actor, unit.code),
        "is_admin": perms.is_unit_admin(actor, unit.code),
        "open": today() <= batch.provincial_deadline,
    }


def agencies_for_unit(unit: Region):
    return GovernmentAgency.objects.filter(region=unit).filter(
        function__in=list(perms.REVIEW_FUNCTIONS)
    )
