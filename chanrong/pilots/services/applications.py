"""A city's application (申报): starting it (new or 延续试点), its fields and
the 实施方案's chapters, what still stops it being submitted, submitting it
before the deadline (to the provincial unit, or to the ministry for a
renewal) and withdrawing it; and where an application stands overall."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from chanrong.core import audit, masking, notify
from chanrong.core.errors import Conflict, FieldError, NotAllowed, ValidationFailed
from chanrong.core.models import Region
from chanrong.core.workflow import apply_transition

from .. import permissions as perms
from ..models import (
    Application,
    ApplicationKind,
    ApplicationState,
    Batch,
    BatchState,
    DocumentKind,
    MinistryReview,
    MinistryState,
    PlanSection,
    ProvincialReview,
    ProvincialSubmission,
    ReviewState,
    SubmissionState,
)
from ..workflows import APPLICATION
from .common import (
    MAX_SECTION,
    _clean_text,
    _link,
    _ministry_admins,
    _require_before,
    _text,
    _unit_leads,
    _year,
    today,
)
from .drafts import _period_errors, _require_editable
from .indicators import _sync_indicator_plan
from .personal import CONTACT_FIELDS
from .quotas import is_eligible_region, review_unit_for


def renewable_pilots(batch: Batch, region: Region) -> list[Application]:
    """This region's published pilots from earlier batches whose period has
    ended by the batch's deadline year (方案实施期满) and that have not been
    renewed in this batch yet."""
    rows = Application.objects.filter(
        region=region,
        batch__number__lt=batch.number,
        batch__state=BatchState.PUBLISHED,
        ministry_review__state=MinistryState.APPROVED,
        end_year__lt=batch.application_deadline.year,
    ).select_related("batch")
    return [a for a in rows if not a.renewals.filter(batch=batch).exists()]


def can_apply(actor, batch: Batch) -> bool:
    agency = getattr(actor, "agency", None) if getattr(actor, "is_authenticated", False) else None
    return (
        agency is not None
        and agency.region_id is not None
        and batch.state == BatchState.OPEN
        and perms.is_applicant_admin(actor, agency.region_id)
        and is_eligible_region(batch, agency.region)
        and today() <= batch.application_deadline
        and not Application.objects.filter(batch=batch, region_id=agency.region_id).exists()
    )


def _application_fields(
    batch: Batch, data: dict, application: Application | None
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    fields: dict[str, Any] = {}
    for key, label, max_length in (
        ("title", _("实施方案名称"), 200),
        ("contact_name", _("联系人"), 64),
        ("contact_phone", _("联系电话"), 32),
    ):
        text = _text(data, key, label, max_length, errors)
        if text is not None and key not in errors:
            fields[key] = text
    for key in ("start_year", "end_year"):
        if key in data:
            fields[key] = _year(data, key, errors)
    start = fields.get("start_year", application.start_year if application else None)
    end = fields.get("end_year", application.end_year if application else None)
    if "start_year" not in errors and "end_year" not in errors:
        errors.update(_period_errors(batch, start, end))
    if errors:
        raise ValidationFailed(errors)
    return fields


def _sections_from_outline(application: Application, source: Application | None = None) -> None:
    previous = {s.key: s.body for s in source.sections.all()} if source else {}
    PlanSection.objects.bulk_create(
        PlanSection(
            application=application,
            key=item["key"],
            title=item["title"],
            order=index,
            body=previous.get(item["key"], ""),
        )
        for index, item in enumerate(application.batch.outline)
    )


def create_application(actor, batch: Batch, data: dict) -> Application:
    """Start an application for the actor's own region (a draft). For a
    renewal, `previous` is the earlier batch's pilot; its plan is copied in
    as the starting point the city updates."""
    agency = getattr(actor, "agency", None) if getattr(actor, "is_authenticated", False) else None
    if (
        agency is None
        or agency.region_id is None
        or not perms.is_applicant_admin(actor, agency.region_id)
    ):
        raise NotAllowed(_("只有申报城市（区）的政府管理员可以填报申报"))
    region = agency.region
    if batch.state != BatchState.OPEN:
        raise Conflict(
            _("%(batch)s尚未发布申报通知或已公布名单") % {"batch": batch.name},
            code="batch_not_open",
        )
    if not is_eligible_region(batch, region):
        raise NotAllowed(
            _("%(region)s不属于本批次的申报对象（%(eligible_level)s）")
            % {"region": region.name, "eligible_level": batch.get_eligible_level_display()}
        )
    _require_before(
        batch.application_deadline, pgettext("deadline", "申报"), pgettext("deadline", "创建申报")
    )
    kind = data.get("kind") or ApplicationKind.NEW
    if kind not in ApplicationKind.values:
        raise ValidationFailed({"kind": _("申报类型应为新申报或延续试点")})
    previous = None
    if kind == ApplicationKind.RENEWAL:
        candidates = {a.pk: a for a in renewable_pilots(batch, region)}
        try:
            previous = candidates.get(int(data.get("previous")))
        except (TypeError, ValueError):
            previous = None
        if previous is None:
            raise ValidationFailed(
                {
                    "previous": _("延续试点须选择本地区以往批次已公布、且实施期已满的试点")
                    if candidates
                    else _("本地区没有实施期已满的以往批次试点，不能申请延续")
                }
            )
    fields = _application_fields(batch, data, None)
    try:
        with transaction.atomic():
            application = Application.objects.create(
                batch=batch,
                region=region,
                review_region=review_unit_for(region),
                kind=kind,
                previous=previous,
                created_by=actor,
                **fields,
            )
            _sections_from_outline(application, previous)
            audit.record(
                "pilots.application.create",
                actor=actor,
                obj=application,
                changes={
                    "batch": batch.pk,
                    "region": region.code,
                    "kind": kind,
                    "previous": previous.pk if previous else None,
                    **{
                        k: masking.mask(v, CONTACT_FIELDS[k]) if k in CONTACT_FIELDS else v
                        for k, v in fields.items()
                    },
                },
            )
            if fields.get("start_year") and fields.get("end_year"):
                _sync_indicator_plan(actor, application)
    except IntegrityError:
        raise Conflict(
            _("%(region)s已在%(batch)s中填报过申报") % {"region": region.name, "batch": batch.name},
            code="duplicate",
        ) from None
    return application


def update_application(actor, application: Application, data: dict) -> Application:
    _require_editable(actor, application)
    fields = _application_fields(application.batch, data, application)
    with transaction.atomic():
        before = {k: getattr(application, k) for k in fields}
        for key, value in fields.items():
            setattr(application, key, value)
        application.save()
        audit.record(
            "pilots.application.update",
            actor=actor,
            obj=application,
            # The contact person masked: audit rows are kept for years.
            changes=masking.mask_changes(audit.diff(before, fields), CONTACT_FIELDS),
        )
        if {"start_year", "end_year", "title"} & set(fields):
            _sync_indicator_plan(actor, application)
    return application


def save_sections(actor, application: Application, bodies: dict[str, Any]) -> list[PlanSection]:
    """Save the 实施方案's chapters (a draft may leave some empty)."""
    _require_editable(actor, application)
    if not isinstance(bodies, dict):
        raise ValidationFailed({"sections": _("应为 {章节代码: 内容}")})
    sections = {s.key: s for s in application.sections.all()}
    errors: dict[str, str] = {}
    cleaned: dict[str, str] = {}
    for key, value in bodies.items():
        if key not in sections:
            errors[f"sections.{key}"] = _("编制提纲中没有这个章节")
            continue
        text = _clean_text(value, MAX_SECTION)
        if len(text) > MAX_SECTION:
            errors[f"sections.{key}"] = _("每章不超过 %(n)s 字") % {"n": MAX_SECTION}
            continue
        cleaned[key] = text
    if errors:
        raise ValidationFailed(errors)
    changed = {}
    with transaction.atomic():
        for key, text in cleaned.items():
            section = sections[key]
            if section.body != text:
                changed[key] = [len(section.body), len(text)]
                section.body = text
                section.save(update_fields=["body"])
        application.save(update_fields=["updated_at"])
        if changed:
            audit.record(
                "pilots.application.sections",
                actor=actor,
                obj=application,
                changes={"sections_chars": changed},
            )
    return list(application.sections.all())


def missing_parts(application: Application) -> list[FieldError]:
    """What still stops the application from being submitted, per field."""
    errors: list[FieldError] = []
    if not application.title:
        errors.append(FieldError("title", _("请填写实施方案名称")))
    if not (application.start_year and application.end_year):
        errors.append(FieldError("start_year", _("请填写方案实施期")))
    else:
        for key, message in _period_errors(
            application.batch, application.start_year, application.end_year
        ).items():
            errors.append(FieldError(key, message))
    for section in application.sections.all():
        if not section.body.strip():
            errors.append(
                FieldError(
                    f"sections.{section.key}",
                    _("实施方案「%(title)s」尚未填写") % {"title": section.title},
                )
            )
    if not application.documents.filter(kind=DocumentKind.DECLARATION).exists():
        errors.append(
            FieldError("declaration", _("请上传申报文件（PDF，由申报城市（区）人民政府出具）"))
        )
    plan = application.indicator_plan
    if plan is None:
        errors.append(FieldError("indicators", _("请填写定量指标统计表")))
    else:
        years = set(plan.targets.exclude(value__isnull=True).values_list("year", flat=True))
        missing = [y for y in range(plan.start_year, plan.end_year + 1) if y not in years]
        if missing:
            errors.append(
                FieldError(
                    "indicators",
                    _("定量指标统计表缺少以下年份的目标值：")
                    + _("、").join(_("%(year)s年") % {"year": y} for y in missing),
                )
            )
    if application.is_renewal and application.previous_id is None:
        errors.append(FieldError("previous", _("延续试点须关联原试点")))
    return errors


def submit_application(actor, application: Application) -> Application:
    """Submit before the application deadline. A new application goes to its
    provincial unit; a renewal goes directly to the ministry (复核)."""
    if not perms.is_applicant_admin(actor, application.region_id):
        raise NotAllowed(_("只有申报城市（区）的政府管理员可以提交申报"))
    batch = application.batch
    if batch.state != BatchState.OPEN:
        raise Conflict(_("本批次已不接受申报"), code="batch_not_open")
    _require_before(
        batch.application_deadline, pgettext("deadline", "申报"), pgettext("deadline", "提交申报")
    )
    if application.state != ApplicationState.DRAFT:
        raise Conflict(_("申报已提交"), code="already_submitted")
    if (
        not application.is_renewal
        and ProvincialSubmission.objects.filter(
            batch=batch,
            review_region_id=application.review_region_id,
            state=SubmissionState.CONFIRMED,
        ).exists()
    ):
        raise Conflict(
            _("%(review_region)s已确认上报本批次推荐名单，不能再提交申报")
            % {"review_region": application.review_region.name},
            code="submission_confirmed",
        )
    errors = missing_parts(application)
    if errors:
        raise ValidationFailed(errors, message=_("申报材料不完整，不能提交"))
    with transaction.atomic():
        application = apply_transition(
            APPLICATION,
            application,
            "submit",
            actor,
            changes={"submitted_at": timezone.now()},
            notify=_notify_submitted,
        )
        if application.is_renewal:
            MinistryReview.objects.update_or_create(
                application=application,
                defaults={"batch": batch, "state": MinistryState.SCORING},
            )
        else:
            review, created = ProvincialReview.objects.get_or_create(
                application=application,
                defaults={"batch": batch, "review_region": application.review_region},
            )
            if not created and review.state != ReviewState.PENDING:
                review.state, review.slot = ReviewState.PENDING, None
                review.save(update_fields=["state", "slot"])
    return application


def _notify_submitted(application: Application, transition, actor) -> None:
    if application.is_renewal:
        recipients = _ministry_admins()
        message = f"{application.region.name}提交了延续试点申报（{application.batch.name}），请复核"
    else:
        recipients = _unit_leads(application.review_region_id)
        message = f"{application.region.name}提交了{application.batch.name}产融合作试点城市申报"
    notify.send(
        recipients,
        "pilots.application.submit",
        message,
        _link("pilots:application", application.pk),
    )


def withdraw_application(actor, application: Application) -> Application:
    """Take a submitted application back to draft: before the deadline and
    before anyone above has decided on it."""
    if not perms.is_applicant_admin(actor, application.region_id):
        raise NotAllowed(_("只有申报城市（区）的政府管理员可以撤回申报"))
    _require_before(
        application.batch.application_deadline,
        pgettext("deadline", "申报"),
        pgettext("deadline", "撤回申报"),
    )
    with transaction.atomic():
        review = ProvincialReview.objects.filter(application=application).first()
        if review is not None and review.state != ReviewState.PENDING:
            raise Conflict(_("省级已作出审核决定，不能撤回"), code="already_reviewed")
        ministry = MinistryReview.objects.filter(application=application).first()
        if ministry is not None:
            if ministry.state != MinistryState.SCORING or ministry.scores.exists():
                raise Conflict(_("部级评审已开始，不能撤回"), code="already_reviewed")
            ministry.delete()
        application = apply_transition(APPLICATION, application, "withdraw", actor)
        if review is not None:
            review.delete()
    return application


def stage_of(application: Application) -> tuple[str, str]:
    """(code, label) of where the application stands overall."""
    if application.state == ApplicationState.DRAFT:
        return "draft", _("草稿")
    try:
        ministry = application.ministry_review
    except MinistryReview.DoesNotExist:
        ministry = None
    published = application.batch.state == BatchState.PUBLISHED
    if ministry is not None:
        if ministry.state == MinistryState.SCORING:
            return "ministry", _("部级评审中")
        if not published:
            return "decided", _("评审结论待公布")
        if ministry.state == MinistryState.APPROVED:
            return "approved", (_("已延续试点") if application.is_renewal else _("已确定为试点"))
        return "rejected", _("未入选")
    try:
        review = application.provincial_review
    except ProvincialReview.DoesNotExist:
        review = None
    if review is None:
        return "submitted", _("已提交")
    if review.state == ReviewState.PENDING:
        return "provincial", _("省级审核中")
    if review.state == ReviewState.RECOMMENDED:
        return "recommended", _("已确认推荐")
    if review.state == ReviewState.NOT_RECOMMENDED:
        return "not_recommended", _("未获推荐")
    return "forwarded", _("已报送部级评审")
