"""Every rule of the pilot-city programme (产融合作试点城市申报系统).

Views, API handlers, commands and the demo call these functions; they hold
no rules of their own. Each function takes the acting user explicitly,
raises chanrong.core.errors.* (ValidationFailed 422, NotAllowed 403,
Conflict 409, NotFound 404) and changes nothing when it raises. Every state
change is audited in its own transaction, through the state machines in
workflows.py where there is a state to move.

The rules come from the five ministries' notice (工信部联财函〔2020〕161号):

- 申报对象: county-level cities and districts and above (县级及以上城市（区）).
- 申报材料: 申报文件 (PDF, issued by the city's government), 实施方案 following
  the 编制提纲 with an implementation period of at most three years,
  定量指标统计表 (a target per indicator and year), and 相关材料.
- Provincial review: the province's 工信 department with 财政, 人行, 金融监管
  and 证监 screens its applications and, before the provincial deadline,
  confirms at most two recommendations (at most one for a 计划单列市 and for
  新疆生产建设兵团) with a joint report.
- Ministry review by the five ministries; the list of pilots is published.
- A first-batch pilot whose period has ended updates its plan and submits it
  directly; the ministry re-checks and continues it.
"""

from __future__ import annotations

import io
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from chanrong.accounts.models import AgencyFunction, GovernmentAgency, User
from chanrong.core import audit, notify
from chanrong.core.errors import Conflict, FieldError, NotAllowed, NotFound, ValidationFailed
from chanrong.core.models import Region, RegionLevel
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.core.workflow import apply_transition

from .. import permissions as perms
from .. import uploads
from ..defaults import DEFAULT_OUTLINE, DEFAULT_RUBRIC
from ..models import (
    APPLICATION_KINDS,
    BATCH_KINDS,
    Application,
    ApplicationKind,
    ApplicationState,
    Batch,
    BatchState,
    Document,
    DocumentKind,
    EligibleLevel,
    MinistryReview,
    MinistryScore,
    MinistryState,
    PlanSection,
    ProgressReport,
    ProvincialReview,
    ProvincialSubmission,
    ReportPeriod,
    ReportState,
    ReviewOpinion,
    ReviewState,
    RubricCriterion,
    Stance,
    SubmissionState,
)
from ..workflows import (
    APPLICATION,
    BATCH,
    MINISTRY_REVIEW,
    PROGRESS_REPORT,
    PROVINCIAL_REVIEW,
    PROVINCIAL_SUBMISSION,
)

# The four 直辖市 are province-level cities: they may apply themselves.
MUNICIPALITIES = frozenset({"110000", "120000", "310000", "500000"})
# The 兵团's cities (石河子, 阿拉尔 …) carry Xinjiang's codes 6590xx but are
# the corps' own: the corps reviews them and they count against its quota.
CORPS_CITY_PREFIX = "6590"
CORPS_CODE = "660000"

MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_TEXT = 20_000
MAX_SECTION = 100_000


def today() -> date:
    return timezone.localdate()


def _day(d: date) -> str:
    """The date as people read it: 2025年3月1日 in Chinese (Django's zh-hans
    DATE_FORMAT), March 1, 2025 in English."""
    return date_format(d, "DATE_FORMAT")


def _link(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:  # pragma: no cover - the URLconf is always loaded in practice
        return ""


def _clean_text(value: Any, max_length: int) -> str:
    text = "" if value is None else str(value)
    text = text.replace("\x00", "").replace("\r\n", "\n").strip()
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        text = text.encode("utf-8", "ignore").decode("utf-8", "ignore")
    return text[: max_length + 1]


def _text(
    data: dict, key: str, label: str, max_length: int, errors: dict, *, required: bool = False
) -> str | None:
    """The cleaned text for `key` (None when absent from `data`)."""
    if key not in data:
        return None
    text = _clean_text(data.get(key), max_length)
    if required and not text:
        errors[key] = _("请填写%(label)s") % {"label": label}
    elif len(text) > max_length:
        errors[key] = _("%(label)s不超过 %(limit)s 字") % {"label": label, "limit": max_length}
    return text


def _year(data: dict, key: str, errors: dict) -> int | None:
    value = data.get(key)
    if value in (None, ""):
        return None
    try:
        year = int(str(value).strip())
    except (TypeError, ValueError):
        errors[key] = _("年份应为整数，如 2021")
        return None
    if not MIN_YEAR <= year <= MAX_YEAR:
        errors[key] = _("年份应在 %(min_year)s–%(max_year)s 之间") % {
            "min_year": MIN_YEAR,
            "max_year": MAX_YEAR,
        }
        return None
    return year


def _date(data: dict, key: str, label: str, errors: dict) -> date | None:
    value = data.get(key)
    if isinstance(value, date):
        return value
    if value in (None, ""):
        errors[key] = _("请填写%(label)s") % {"label": label}
        return None
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        errors[key] = _("%(label)s格式应为 YYYY-MM-DD") % {"label": label}
        return None


# ==========================================================================
# regions: who may apply, who reviews, which quota


def is_eligible_region(batch: Batch, region: Region) -> bool:
    """县级及以上城市（区）: prefectures and counties (districts, county-level
    cities, counties), and the 直辖市 themselves; a batch may narrow it to
    地级及以上. Provinces and the 兵团 as a whole are not cities."""
    if region.is_corps:
        return False
    if region.level == RegionLevel.PROVINCE:
        return region.code in MUNICIPALITIES
    if region.level == RegionLevel.PREFECTURE:
        return True
    return batch.eligible_level == EligibleLevel.COUNTY


def review_unit_for(region: Region) -> Region:
    """The provincial-level unit that reviews an application and whose quota
    it uses.

    The notice gives quotas to three kinds of unit: each province (省、自治区、
    直辖市, two), each 计划单列市 and the 兵团 (one each). A 计划单列市 reports
    directly, like a province, so a city or district inside 宁波 is reviewed
    by 宁波 and counts against 宁波's one place, not against 浙江's two; the
    兵团's cities (6590xx) are reviewed by the corps, not by 新疆.
    """
    if region.code.startswith(CORPS_CITY_PREFIX):
        corps = Region.objects.filter(code=CORPS_CODE).first()
        if corps is not None:
            return corps
    for city in Region.objects.filter(is_separate_plan_city=True):
        if region.code.startswith(city.prefix):
            return city
    province_code = region.code[:2] + "0000"
    return Region.objects.get(code=province_code)


def quota_for(batch: Batch, unit: Region) -> int:
    if unit.is_separate_plan_city or unit.is_corps:
        return batch.special_quota
    return batch.province_quota


@dataclass
class QuotaStatus:
    unit: Region
    quota: int
    used: int

    @property
    def remaining(self) -> int:
        return max(0, self.quota - self.used)


def quota_status(batch: Batch, unit: Region) -> QuotaStatus:
    used = ProvincialReview.objects.filter(
        batch=batch,
        review_region=unit,
        state__in=[ReviewState.RECOMMENDED, ReviewState.FORWARDED],
    ).count()
    return QuotaStatus(unit=unit, quota=quota_for(batch, unit), used=used)


# ==========================================================================
# visibility


def visible_batches(actor):
    """Government users and platform admins see every batch that has been
    opened; the ministry's admins also see drafts."""
    scope = scope_of(actor)
    if scope.kind not in (ScopeKind.GOVERNMENT, ScopeKind.PLATFORM):
        return Batch.objects.none()
    if perms.is_ministry_admin(actor) or scope.kind == ScopeKind.PLATFORM:
        return Batch.objects.all()
    return Batch.objects.exclude(state=BatchState.DRAFT)


def get_visible_batch(actor, pk: Any) -> Batch:
    try:
        return visible_batches(actor).get(pk=int(pk))
    except (Batch.DoesNotExist, TypeError, ValueError):
        raise NotFound(_("未找到该批次")) from None


def visible_applications(actor):
    return Application.objects.visible_to(actor)


def get_visible_application(actor, pk: Any) -> Application:
    try:
        return (
            visible_applications(actor)
            .select_related("batch", "region", "review_region", "previous__batch")
            .get(pk=int(pk))
        )
    except (Application.DoesNotExist, TypeError, ValueError):
        raise NotFound(_("未找到该申报")) from None


def get_visible_report(actor, pk: Any) -> ProgressReport:
    try:
        return (
            ProgressReport.objects.visible_to(actor)
            .select_related("application__region", "application__batch")
            .get(pk=int(pk))
        )
    except (ProgressReport.DoesNotExist, TypeError, ValueError):
        raise NotFound(_("未找到该进展报告")) from None


def can_see_submission(actor, submission: ProvincialSubmission) -> bool:
    scope = scope_of(actor)
    if scope.kind == ScopeKind.PLATFORM:
        return True
    if scope.kind != ScopeKind.GOVERNMENT:
        return False
    if not scope.region_prefix:
        return submission.state == SubmissionState.CONFIRMED
    return actor.agency.region_id == submission.review_region_id


def get_visible_document(actor, pk: Any) -> Document:
    """A document is visible exactly when its owner is; anything else is a
    404 (not a 403), so a guessed id reveals nothing."""
    try:
        doc = Document.objects.select_related("submission").get(pk=int(pk))
    except (Document.DoesNotExist, TypeError, ValueError):
        raise NotFound(_("未找到该文件")) from None
    if doc.batch_id is not None:
        visible = visible_batches(actor).filter(pk=doc.batch_id).exists()
    elif doc.application_id is not None:
        visible = visible_applications(actor).filter(pk=doc.application_id).exists()
    elif doc.report_id is not None:
        visible = ProgressReport.objects.visible_to(actor).filter(pk=doc.report_id).exists()
    else:
        visible = can_see_submission(actor, doc.submission)
    if not visible:
        raise NotFound(_("未找到该文件"))
    return doc


# ==========================================================================
# documents


@contextmanager
def _atomic_with_files():
    """A transaction that also removes the files it stored if it fails: the
    database rolls back by itself, the file system does not."""
    stored: list[Document] = []
    try:
        with transaction.atomic():
            yield stored
    except BaseException:
        for doc in stored:
            doc.file.storage.delete(doc.file.name)
        raise


def _store_document(
    actor, stored: list[Document], checked: uploads.CheckedFile, *, kind: str, title: str, **owner
) -> Document:
    doc = Document(
        kind=kind,
        title=title[:200],
        original_name=checked.name,
        file_type=checked.file_type,
        size=checked.size,
        sha256=checked.sha256,
        uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
        **owner,
    )
    doc.file.save(checked.name, ContentFile(checked.content), save=False)
    stored.append(doc)
    doc.save()
    return doc


def _title_for(kind: str, given: str, checked: uploads.CheckedFile) -> str:
    given = _clean_text(given, 200)
    return given or checked.name


def add_batch_document(actor, batch: Batch, kind: str, upload, title: str = "") -> Document:
    if not perms.is_ministry_admin(actor):
        raise NotAllowed(_("只有工业和信息化部管理员可以上传批次附件"))
    if kind not in BATCH_KINDS:
        raise ValidationFailed(
            {"kind": _("批次附件类别应为通知文件、编制提纲、指标模板或其他附件")}
        )
    allowed = uploads.MATERIAL_TYPES
    checked = uploads.check_upload(upload, allowed)
    with _atomic_with_files() as stored:
        doc = _store_document(
            actor, stored, checked, kind=kind, title=_title_for(kind, title, checked), batch=batch
        )
        audit.record(
            "pilots.document.add",
            actor=actor,
            obj=doc,
            changes={"batch": batch.pk, "kind": kind, "name": checked.name, "size": checked.size},
        )
    return doc


def add_application_document(
    actor, application: Application, kind: str, upload, title: str = ""
) -> Document:
    """申报文件 must be a PDF (one per application: a new upload replaces the
    old); 相关材料 may be PDF, DOC(X), XLS(X), JPG or PNG."""
    _require_editable(actor, application)
    if kind not in APPLICATION_KINDS:
        raise ValidationFailed({"kind": _("材料类别应为申报文件或相关材料")})
    allowed = uploads.PDF_ONLY if kind == DocumentKind.DECLARATION else uploads.MATERIAL_TYPES
    checked = uploads.check_upload(upload, allowed)
    with _atomic_with_files() as stored:
        replaced = []
        if kind == DocumentKind.DECLARATION:
            replaced = list(application.documents.filter(kind=DocumentKind.DECLARATION))
        doc = _store_document(
            actor,
            stored,
            checked,
            kind=kind,
            title=_title_for(kind, title, checked),
            application=application,
        )
        for old in replaced:
            _delete_document_row(old)
        audit.record(
            "pilots.document.add",
            actor=actor,
            obj=doc,
            changes={
                "application": application.pk,
                "kind": kind,
                "name": checked.name,
                "size": checked.size,
                "replaced": [d.pk for d in replaced],
            },
        )
    return doc


def _delete_document_row(doc: Document) -> None:
    name, storage = doc.file.name, doc.file.storage
    doc.delete()
    transaction.on_commit(lambda: storage.delete(name))


def remove_document(actor, doc: Document) -> None:
    if doc.application_id is not None:
        _require_editable(actor, doc.application)
    elif doc.batch_id is not None:
        if not perms.is_ministry_admin(actor):
            raise NotAllowed(_("只有工业和信息化部管理员可以删除批次附件"))
    elif doc.report_id is not None:
        report = doc.report
        if not perms.is_applicant_admin(actor, report.application.region_id):
            raise NotAllowed(_("无权删除该附件"))
        if report.state != ReportState.DRAFT:
            raise Conflict(_("进展报告已报送，不能再删除附件"), code="report_submitted")
    else:
        submission = doc.submission
        if not perms.is_unit_admin(actor, submission.review_region_id):
            raise NotAllowed(_("无权删除联合上报文件"))
        if submission.state != SubmissionState.OPEN:
            raise Conflict(
                _("推荐名单已确认上报，不能再删除联合上报文件"), code="submission_confirmed"
            )
    with transaction.atomic():
        audit.record(
            "pilots.document.remove",
            actor=actor,
            obj=doc,
            changes={"kind": doc.kind, "name": doc.original_name},
        )
        _delete_document_row(doc)


# ==========================================================================
# batches


def _clean_outline(value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list) or not value:
        raise ValidationFailed({"outline": _("编制提纲至少包含一个章节")})
    outline: list[dict[str, str]] = []
    keys: set[str] = set()
    errors: list[FieldError] = []
    for index, item in enumerate(value):
        if isinstance(item, str):
            item = {"title": item}
        if not isinstance(item, dict):
            errors.append(FieldError(f"outline[{index}]", _("应为章节对象")))
            continue
        title = _clean_text(item.get("title"), 100)
        if not title:
            errors.append(FieldError(f"outline[{index}].title", _("请填写章节标题")))
            continue
        if len(title) > 100:
            errors.append(FieldError(f"outline[{index}].title", _("章节标题不超过 100 字")))
            continue
        key = _clean_text(item.get("key"), 40) or f"section-{index + 1}"
        if not all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in key) or len(key) > 40:
            errors.append(
                FieldError(f"outline[{index}].key", _("代码只能由字母、数字、- 和 _ 组成"))
            )
            continue
        if key in keys:
            errors.append(FieldError(f"outline[{index}].key", _("章节代码重复")))
            continue
        keys.add(key)
        outline.append(
            {"key": key, "title": title, "guidance": _clean_text(item.get("guidance"), 500)}
        )
    if errors:
        raise ValidationFailed(errors)
    return outline


def _batch_fields(data: dict, *, creating: bool) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    fields: dict[str, Any] = {}
    if creating or "number" in data:
        try:
            number = int(data.get("number"))
            if not 1 <= number <= 99:
                raise ValueError
            fields["number"] = number
        except (TypeError, ValueError):
            errors["number"] = _("批次序号应为 1–99 的整数")
    for key, label, max_length, required in (
        ("name", _("批次名称"), 64, True),
        ("notice_title", _("通知标题"), 200, False),
        ("notice_number", _("文号"), 64, False),
        ("notice_text", _("通知正文"), MAX_TEXT, False),
    ):
        if creating and key not in data and required:
            errors[key] = _("请填写%(label)s") % {"label": label}
            continue
        text = _text(data, key, label, max_length, errors, required=required)
        if text is not None and key not in errors:
            fields[key] = text
    for key, label in (
        ("application_deadline", _("申报截止日期")),
        ("provincial_deadline", _("省级确认推荐截止日期")),
    ):
        if creating or key in data:
            value = _date(data, key, label, errors)
            if value is not None:
                fields[key] = value
    if "eligible_level" in data or creating:
        level = data.get("eligible_level") or EligibleLevel.COUNTY
        if level not in EligibleLevel.values:
            errors["eligible_level"] = _("申报对象应为县级及以上或地级及以上")
        else:
            fields["eligible_level"] = level
    for key, label, default, low, high in (
        ("max_period_years", _("实施期上限"), 3, 1, 10),
        ("province_quota", _("各省推荐名额"), 2, 1, 20),
        ("special_quota", _("计划单列市、兵团推荐名额"), 1, 1, 20),
    ):
        if key in data or creating:
            raw = data.get(key, default)
            try:
                number = int(default if raw in (None, "") else raw)
                if not low <= number <= high:
                    raise ValueError
                fields[key] = number
            except (TypeError, ValueError):
                errors[key] = _("%(label)s应为 %(low)s–%(high)s 的整数") % {
                    "label": label,
                    "low": low,
                    "high": high,
                }
    if "outline" in data or creating:
        try:
            fields["outline"] = _clean_outline(data.get("outline") or DEFAULT_OUTLINE)
        except ValidationFailed as exc:
            for e in exc.errors:
                errors[e.field] = e.message
    return fields, errors


def _check_batch_dates(fields: dict[str, Any], batch: Batch | None, errors: dict) -> None:
    app = fields.get("application_deadline", batch.application_deadline if batch else None)
    prov = fields.get("provincial_deadline", batch.provincial_deadline if batch else None)
    if app and prov and prov < app:
        errors["provincial_deadline"] = _("省级确认推荐截止日期不能早于申报截止日期")


def create_batch(actor, data: dict) -> Batch:
    if not perms.is_ministry_admin(actor):
        raise NotAllowed(_("只有工业和信息化部管理员可以创建试点批次"))
    fields, errors = _batch_fields(data, creating=True)
    _check_batch_dates(fields, None, errors)
    if "number" in fields and Batch.objects.filter(number=fields["number"]).exists():
        errors["number"] = _("第%(number)s批已存在") % {"number": fields["number"]}
    if errors:
        raise ValidationFailed(errors)
    try:
        with transaction.atomic():
            batch = Batch.objects.create(created_by=actor, **fields)
            RubricCriterion.objects.bulk_create(
                RubricCriterion(batch=batch, order=i, **row) for i, row in enumerate(DEFAULT_RUBRIC)
            )
            audit.record(
                "pilots.batch.create",
                actor=actor,
                obj=batch,
                changes={k: str(v) if isinstance(v, date) else v for k, v in fields.items()},
            )
    except IntegrityError:
        raise ValidationFailed(
            {"number": _("第%(number)s批已存在") % {"number": fields["number"]}}
        ) from None
    return batch


def update_batch(actor, batch: Batch, data: dict) -> Batch:
    if not perms.is_ministry_admin(actor):
        raise NotAllowed(_("只有工业和信息化部管理员可以修改试点批次"))
    if batch.state == BatchState.PUBLISHED:
        raise Conflict(_("名单已公布，批次不能再修改"), code="batch_published")
    fields, errors = _batch_fields(data, creating=False)
    _check_batch_dates(fields, batch, errors)
    if (
        "number" in fields
        and Batch.objects.filter(number=fields["number"]).exclude(pk=batch.pk).exists()
    ):
        errors["number"] = _("第%(number)s批已存在") % {"number": fields["number"]}
    if (
        "outline" in fields
        and fields["outline"] != batch.outline
        and batch.applications.filter(state=ApplicationState.SUBMITTED).exists()
    ):
        errors["outline"] = _("已有城市提交申报，编制提纲不能再修改")
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        before = {k: getattr(batch, k) for k in fields}
        for key, value in fields.items():
            setattr(batch, key, value)
        batch.save()
        audit.record(
            "pilots.batch.update",
            actor=actor,
            obj=batch,
            changes=audit.diff(
                {k: str(v) if isinstance(v, date) else v for k, v in before.items()},
                {k: str(v) if isinstance(v, date) else v for k, v in fields.items()},
            ),
        )
    return batch


def set_rubric(actor, batch: Batch, rows: list[dict]) -> list[RubricCriterion]:
    """Replace the batch's rubric; refused once anyone has scored."""
    if not perms.is_ministry_admin(actor):
        raise NotAllowed(_("只有工业和信息化部管理员可以设置评分标准"))
    if MinistryScore.objects.filter(review__batch=batch).exists():
        raise Conflict(_("已有评审打分，评分标准不能再修改"), code="rubric_in_use")
    if not isinstance(rows, list) or not rows:
        raise ValidationFailed({"criteria": _("评分标准至少包含一项")})
    errors: list[FieldError] = []
    cleaned = []
    for index, row in enumerate(rows):
        prefix = f"criteria[{index}]"
        if not isinstance(row, dict):
            errors.append(FieldError(prefix, _("应为对象")))
            continue
        name = _clean_text(row.get("name"), 100)
        if not name:
            errors.append(FieldError(f"{prefix}.name", _("请填写评分项名称")))
            continue
        if len(name) > 100:
            errors.append(FieldError(f"{prefix}.name", _("评分项名称不超过 100 字")))
            continue
        try:
            max_score = Decimal(str(row.get("max_score")).strip())
            if not max_score.is_finite() or not Decimal(0) < max_score <= Decimal(1000):
                raise InvalidOperation
            max_score = max_score.quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError):
            errors.append(FieldError(f"{prefix}.max_score", _("满分应为 0–1000 之间的正数")))
            continue
        cleaned.append(
            RubricCriterion(
                batch=batch,
                name=name,
                description=_clean_text(row.get("description"), 500)[:500],
                max_score=max_score,
                order=index,
            )
        )
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        batch.criteria.all().delete()
        created = RubricCriterion.objects.bulk_create(cleaned)
        audit.record(
            "pilots.batch.set_rubric",
            actor=actor,
            obj=batch,
            changes={"criteria": [[c.name, str(c.max_score)] for c in cleaned]},
        )
    return created


def open_batch(actor, batch: Batch) -> Batch:
    """Publish the notice: cities may now apply."""
    if not batch.criteria.exists():
        raise Conflict(_("请先设置评分标准"), code="no_rubric")
    return apply_transition(
        BATCH,
        batch,
        "open",
        actor,
        changes={"opened_at": timezone.now()},
        notify=_notify_batch_opened,
    )


def _notify_batch_opened(batch: Batch, transition, actor) -> None:
    users = User.objects.filter(is_active=True, agency__isnull=False).exclude(
        agency__region__isnull=True
    )
    notify.send(
        users.filter(role="gov_admin"),
        "pilots.batch.open",
        f"{batch.name}产融合作试点城市申报已开始，申报截止日期为{_day(batch.application_deadline)}",
        _link("pilots:batch", batch.pk),
    )


def publish_batch(actor, batch: Batch, *, title: str = "") -> Batch:
    """Publish the list: every application that reached the ministry must have
    a decision, and the provincial deadline must have passed."""
    if not perms.is_ministry_admin(actor):
        raise NotAllowed(_("只有工业和信息化部管理员可以公布名单"))
    if today() <= batch.provincial_deadline:
        raise Conflict(
            _("省级确认推荐截止日期（%(date)s）之后才能公布名单")
            % {"date": _day(batch.provincial_deadline)},
            code="too_early",
        )
    pending = MinistryReview.objects.filter(batch=batch, state=MinistryState.SCORING).count()
    if pending:
        raise Conflict(
            _("还有 %(pending)s 份申报尚未作出评审结论") % {"pending": pending},
            code="reviews_pending",
        )
    if not MinistryReview.objects.filter(batch=batch, state=MinistryState.APPROVED).exists():
        raise Conflict(_("没有确定为试点的城市，无法公布名单"), code="nothing_to_publish")
    title = _clean_text(title, 200)[:200] or f"{batch.name}产融合作试点城市名单"
    return apply_transition(
        BATCH,
        batch,
        "publish",
        actor,
        changes={"published_at": timezone.now(), "result_title": title},
        notify=_notify_published,
    )


def _notify_published(batch: Batch, transition, actor) -> None:
    for review in MinistryReview.objects.filter(batch=batch).select_related("application__region"):
        application = review.application
        approved = review.state == MinistryState.APPROVED
        if application.is_renewal:
            outcome = "已延续试点" if approved else "未予延续"
        else:
            outcome = "已确定为产融合作试点城市" if approved else "未入选"
        notify.send(
            _region_admins(application.region_id),
            "pilots.batch.publish",
            f"{batch.name}名单已公布：{application.region.name}{outcome}",
            _link("pilots:public_batch", batch.number),
        )


# ==========================================================================
# applications


def _region_admins(region_code: str):
    return User.objects.filter(is_active=True, role="gov_admin", agency__region_id=region_code)


def _unit_leads(unit_code: str):
    return User.objects.filter(
        is_active=True,
        agency__region_id=unit_code,
        agency__function=AgencyFunction.INDUSTRY,
    )


def _ministry_admins():
    return User.objects.filter(
        is_active=True,
        role="gov_admin",
        agency__level="national",
        agency__function=AgencyFunction.INDUSTRY,
    )


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


def _period_errors(batch: Batch, start: int | None, end: int | None) -> dict[str, str]:
    """方案实施期不超过3年: at most `batch.max_period_years` calendar years,
    start to end inclusive (2021—2023 is three years)."""
    errors: dict[str, str] = {}
    if start is None or end is None:
        return errors
    if end < start:
        errors["end_year"] = _("实施期截止年份不能早于起始年份")
    elif end - start + 1 > batch.max_period_years:
        errors["end_year"] = _(
            "方案实施期不超过%(max_period_years)s年（当前为%(start)s—%(end)s年，共%(years)s年）"
        ) % {
            "max_period_years": batch.max_period_years,
            "start": start,
            "end": end,
            "years": end - start + 1,
        }
    deadline_year = batch.application_deadline.year
    if start < deadline_year - 1 or start > deadline_year + 2:
        errors["start_year"] = _("实施期起始年份应在 %(low)s–%(high)s 年之间") % {
            "low": deadline_year - 1,
            "high": deadline_year + 2,
        }
    return errors


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
                    **fields,
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


def can_edit(actor, application: Application) -> bool:
    return (
        perms.is_applicant_admin(actor, application.region_id)
        and application.state == ApplicationState.DRAFT
        and application.batch.state == BatchState.OPEN
    )


def _require_editable(actor, application: Application) -> None:
    if not perms.is_applicant_admin(actor, application.region_id):
        raise NotAllowed(_("只有申报城市（区）的政府管理员可以修改申报"))
    if application.state != ApplicationState.DRAFT:
        raise Conflict(_("申报已提交，如需修改请先撤回"), code="not_draft")
    if application.batch.state != BatchState.OPEN:
        raise Conflict(_("本批次已不接受申报"), code="batch_not_open")


def _require_before(deadline: date, what: str, act: str) -> None:
    if today() > deadline:
        raise Conflict(
            _("%(what)s已于%(date)s截止，不能再%(act)s。")
            % {"what": what, "date": _day(deadline), "act": act},
            code="deadline_passed",
        )


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
            changes=audit.diff(before, fields),
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


# --- the 定量指标统计表, kept by the indicator side (chanrong.insights) --------


def _insights():
    from chanrong.insights import services as insights_services

    return insights_services


def _plan_title(application: Application) -> str:
    return (
        f"{application.region.name}产融合作试点城市定量指标统计表"
        f"（{application.start_year}—{application.end_year}年）"
    )


def _sync_indicator_plan(actor, application: Application) -> None:
    """Keep the application's IndicatorPlan covering its period. The plan's
    years cannot change in place, so a new period gets a new plan with the
    targets of the years both share, and the old plan goes."""
    if not (application.start_year and application.end_year):
        return
    insights = _insights()
    plan = application.indicator_plan
    if (
        plan is not None
        and plan.start_year == application.start_year
        and plan.end_year == application.end_year
    ):
        return
    new_plan = insights.create_plan(
        actor,
        application.region,
        _plan_title(application),
        application.start_year,
        application.end_year,
    )
    if plan is not None:
        rows = [
            {
                "definition": t.definition_id,
                "year": t.year,
                "value": t.value,
                "second_value": t.second_value,
            }
            for t in plan.targets.all()
            if application.start_year <= t.year <= application.end_year
        ]
        if rows:
            insights.set_targets(actor, new_plan, rows)
    application.indicator_plan = new_plan
    application.save(update_fields=["indicator_plan"])
    if plan is not None:
        audit.record(
            "pilots.application.replace_plan",
            actor=actor,
            obj=application,
            changes={"indicator_plan": [plan.pk, new_plan.pk]},
        )
        plan.delete()


def indicator_definitions():
    from chanrong.insights.models import IndicatorDefinition

    return list(IndicatorDefinition.objects.all())


def set_indicator_targets(actor, application: Application, rows: list[dict]) -> None:
    """The 定量指标统计表: a target per indicator and year of the period
    (rows as chanrong.insights.services.set_targets takes them)."""
    _require_editable(actor, application)
    if application.indicator_plan is None:
        raise Conflict(_("请先填写方案实施期（起止年份）"), code="no_period")
    with transaction.atomic():
        _insights().set_targets(actor, application.indicator_plan, rows)
        application.save(update_fields=["updated_at"])


def import_indicator_table(actor, application: Application, text: str) -> None:
    """Fill the 定量指标统计表 from the table as printed in the plan."""
    _require_editable(actor, application)
    insights = _insights()
    with transaction.atomic():
        plan = insights.import_plan_table(actor, application.region, text, title=None)
        errors = _period_errors(application.batch, plan.start_year, plan.end_year)
        if errors:
            raise ValidationFailed(
                {"table": _("表中的年份与方案实施期要求不符：") + _("；").join(errors.values())}
            )
        old = application.indicator_plan
        application.indicator_plan = plan
        application.start_year, application.end_year = plan.start_year, plan.end_year
        application.save(update_fields=["indicator_plan", "start_year", "end_year", "updated_at"])
        audit.record(
            "pilots.application.import_indicators",
            actor=actor,
            obj=application,
            changes={"indicator_plan": [old.pk if old else None, plan.pk]},
        )
        if old is not None:
            old.delete()


# --- completeness and submission --------------------------------------------


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


# ==========================================================================
# provincial review


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


# ==========================================================================
# ministry review


def _require_scoring(application: Application) -> MinistryReview:
    review = MinistryReview.objects.filter(application=application).first()
    if review is None:
        raise Conflict(_("该申报尚未进入部级评审阶段，不能打分"), code="not_in_ministry_review")
    if review.state != MinistryState.SCORING:
        raise Conflict(_("部级评审已作出结论，不能再打分"), code="not_in_ministry_review")
    return review


def score(
    actor, application: Application, items: dict[Any, Any], *, comment: str = ""
) -> MinistryScore:
    """One reviewer's scores against the batch's rubric (replaces the
    reviewer's earlier scores for this application)."""
    if not perms.is_ministry_reviewer(actor):
        raise NotAllowed(_("只有五部门的评审人员可以打分"))
    review = _require_scoring(application)
    criteria = list(application.batch.criteria.all())
    if not isinstance(items, dict):
        raise ValidationFailed({"items": _("应为 {评分项编号: 分数}")})
    given = {str(k): v for k, v in items.items()}
    errors: dict[str, str] = {}
    cleaned: dict[str, str] = {}
    total = Decimal(0)
    for criterion in criteria:
        key = str(criterion.pk)
        raw = given.pop(key, None)
        if raw in (None, ""):
            errors[f"items.{key}"] = _("请为「%(criterion)s」打分") % {"criterion": criterion.name}
            continue
        try:
            value = Decimal(str(raw).strip())
            if not value.is_finite():
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors[f"items.{key}"] = _("分数应为数字")
            continue
        if not Decimal(0) <= value <= criterion.max_score:
            errors[f"items.{key}"] = _("分数应在 0–%(max_score)s 之间") % {
                "max_score": criterion.max_score
            }
            continue
        value = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        cleaned[key] = str(value)
        total += value
    for key in given:
        errors[f"items.{key}"] = _("评分标准中没有这一项")
    comment = _clean_text(comment, 5000)
    if len(comment) > 5000:
        errors["comment"] = _("评审意见不超过 5000 字")
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        review = MinistryReview.objects.select_for_update().get(pk=review.pk)
        if review.state != MinistryState.SCORING:
            raise Conflict(_("部级评审已作出结论，不能再打分"), code="not_in_ministry_review")
        result, created = MinistryScore.objects.update_or_create(
            review=review,
            reviewer=actor,
            defaults={"agency": actor.agency, "items": cleaned, "total": total, "comment": comment},
        )
        audit.record(
            "pilots.ministry_review.score",
            actor=actor,
            obj=review,
            changes={"items": cleaned, "total": str(total), "created": created},
        )
    return result


@dataclass
class ScoreSummary:
    count: int
    mean_total: Decimal | None
    max_total: Decimal
    by_criterion: list[tuple[RubricCriterion, Decimal | None]]
    by_function: dict[str, Decimal]
    scores: list[MinistryScore] = field(default_factory=list)

    @property
    def table(self) -> list[tuple[MinistryScore, list[str]]]:
        """Each reviewer's score with the items in rubric order."""
        return [
            (s, [s.items.get(str(c.pk), "") for c, _mean in self.by_criterion]) for s in self.scores
        ]


def _mean(values: list[Decimal]) -> Decimal | None:
    if not values:
        return None
    return (sum(values) / len(values)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def score_summary(review: MinistryReview) -> ScoreSummary:
    """The mean of the reviewers' totals, per rubric item and per ministry."""
    criteria = list(review.batch.criteria.all())
    scores = list(review.scores.select_related("reviewer", "agency").order_by("agency__name", "pk"))
    per_function: dict[str, list[Decimal]] = defaultdict(list)
    for s in scores:
        per_function[s.agency.get_function_display()].append(s.total)
    return ScoreSummary(
        count=len(scores),
        mean_total=_mean([s.total for s in scores]),
        max_total=sum((c.max_score for c in criteria), Decimal(0)),
        by_criterion=[
            (c, _mean([Decimal(s.items[str(c.pk)]) for s in scores if str(c.pk) in s.items]))
            for c in criteria
        ],
        by_function={k: _mean(v) for k, v in per_function.items()},  # type: ignore[misc]
        scores=scores,
    )


def ministry_board(actor, batch: Batch) -> list[tuple[MinistryReview, ScoreSummary]]:
    """The applications under ministry review in a batch, best mean first."""
    if not perms.is_ministry_user(actor) and scope_of(actor).kind != ScopeKind.PLATFORM:
        raise NotFound(_("未找到"))
    reviews = MinistryReview.objects.filter(batch=batch).select_related(
        "application__region", "application__review_region", "application__batch", "batch"
    )
    rows = [(r, score_summary(r)) for r in reviews]
    rows.sort(key=lambda row: (-(row[1].mean_total or Decimal(-1)), row[0].application.region_id))
    return rows


def decide(actor, application: Application, *, approve: bool, note: str = "") -> MinistryReview:
    """确定为试点 (or 延续试点 for a renewal), or not; before publication."""
    if not perms.is_ministry_admin(actor):
        raise NotAllowed(_("只有工业和信息化部管理员可以作出评审结论"))
    if application.batch.state == BatchState.PUBLISHED:
        raise Conflict(_("名单已公布，不能再改变评审结论"), code="batch_published")
    review = _require_scoring(application)
    if not review.scores.exists():
        raise Conflict(_("尚无评审打分，不能作出结论"), code="no_scores")
    note = _clean_text(note, 1000)[:1000]
    return apply_transition(
        MINISTRY_REVIEW,
        review,
        "approve" if approve else "reject",
        actor,
        changes={"decision_note": note, "decided_by": actor, "decided_at": timezone.now()},
    )


def reconsider(actor, application: Application) -> MinistryReview:
    if application.batch.state == BatchState.PUBLISHED:
        raise Conflict(_("名单已公布，不能再改变评审结论"), code="batch_published")
    review = MinistryReview.objects.filter(application=application).first()
    if review is None:
        raise Conflict(_("该申报尚未进入部级评审阶段"), code="not_in_ministry_review")
    return apply_transition(
        MINISTRY_REVIEW,
        review,
        "reconsider",
        actor,
        changes={"decision_note": "", "decided_by": None, "decided_at": None},
    )


# ==========================================================================
# publication (no login)


def published_batches():
    return Batch.objects.filter(state=BatchState.PUBLISHED).order_by("-number")


def published_pilots(batch: Batch) -> list[Application]:
    """The published list of a batch: nothing at all until it is published."""
    if batch.state != BatchState.PUBLISHED:
        return []
    return list(
        Application.objects.filter(batch=batch, ministry_review__state=MinistryState.APPROVED)
        .select_related("region__parent", "review_region")
        .order_by("review_region_id", "region_id")
    )


def pilots_of(actor) -> list[Application]:
    """Published pilots the actor can see (for progress tracking)."""
    return list(
        visible_applications(actor)
        .filter(batch__state=BatchState.PUBLISHED, ministry_review__state=MinistryState.APPROVED)
        .select_related("region", "batch", "indicator_plan")
        .order_by("-batch__number", "region_id")
    )


def is_pilot(application: Application) -> bool:
    """Approved by the ministry and published (read afresh, not from caches)."""
    return Application.objects.filter(
        pk=application.pk,
        batch__state=BatchState.PUBLISHED,
        ministry_review__state=MinistryState.APPROVED,
    ).exists()


# ==========================================================================
# progress reports


def _report_fields(data: dict, *, creating: bool) -> dict[str, Any]:
    errors: dict[str, str] = {}
    fields: dict[str, Any] = {}
    if creating:
        year = _year(data, "year", errors)
        if year is None and "year" not in errors:
            errors["year"] = _("请填写年度")
        fields["year"] = year
        period = data.get("period")
        if period not in ReportPeriod.values:
            errors["period"] = _("报告期应为第一季度、上半年、前三季度或全年")
        fields["period"] = period
    for key, label, required in (
        ("summary", _("工作进展"), True),
        ("problems", _("存在问题"), False),
        ("next_steps", _("下一步计划"), False),
    ):
        if creating and key not in data and required:
            errors[key] = _("请填写%(label)s") % {"label": label}
            continue
        text = _text(data, key, label, MAX_TEXT, errors, required=required)
        if text is not None and key not in errors:
            fields[key] = text
    if errors:
        raise ValidationFailed(errors)
    return fields


def create_report(actor, application: Application, data: dict) -> ProgressReport:
    if not perms.is_applicant_admin(actor, application.region_id):
        raise NotAllowed(_("只有试点城市（区）的政府管理员可以填报进展报告"))
    if not is_pilot(application):
        raise Conflict(_("该申报尚未确定为试点，不能填报进展报告"), code="not_a_pilot")
    fields = _report_fields(data, creating=True)
    if fields["year"] is not None and not (
        (application.start_year or 0) <= fields["year"] <= (application.end_year or 0)
    ):
        raise ValidationFailed(
            {
                "year": _("年度应在实施期 %(start_year)s—%(end_year)s 年之内")
                % {"start_year": application.start_year, "end_year": application.end_year}
            }
        )
    try:
        with transaction.atomic():
            report = ProgressReport.objects.create(
                application=application, created_by=actor, **fields
            )
            audit.record(
                "pilots.progress_report.create",
                actor=actor,
                obj=report,
                changes={"year": report.year, "period": report.period},
            )
    except IntegrityError:
        raise ValidationFailed({"period": _("该报告期的进展报告已存在")}) from None
    return report


def update_report(actor, report: ProgressReport, data: dict) -> ProgressReport:
    if not perms.is_applicant_admin(actor, report.application.region_id):
        raise NotAllowed(_("只有试点城市（区）的政府管理员可以修改进展报告"))
    if report.state != ReportState.DRAFT:
        raise Conflict(_("进展报告已报送，不能再修改"), code="report_submitted")
    fields = _report_fields(data, creating=False)
    with transaction.atomic():
        before = {k: getattr(report, k) for k in fields}
        for key, value in fields.items():
            setattr(report, key, value)
        report.save()
        audit.record(
            "pilots.progress_report.update",
            actor=actor,
            obj=report,
            changes={k: [len(before[k]), len(v)] for k, v in fields.items() if before[k] != v},
        )
    return report


def add_report_document(actor, report: ProgressReport, upload, title: str = "") -> Document:
    if not perms.is_applicant_admin(actor, report.application.region_id):
        raise NotAllowed(_("只有试点城市（区）的政府管理员可以上传附件"))
    if report.state != ReportState.DRAFT:
        raise Conflict(_("进展报告已报送，不能再上传附件"), code="report_submitted")
    checked = uploads.check_upload(upload, uploads.MATERIAL_TYPES)
    with _atomic_with_files() as stored:
        doc = _store_document(
            actor,
            stored,
            checked,
            kind=DocumentKind.PROGRESS,
            title=_title_for(DocumentKind.PROGRESS, title, checked),
            report=report,
        )
        audit.record(
            "pilots.document.add",
            actor=actor,
            obj=doc,
            changes={"report": report.pk, "name": checked.name, "size": checked.size},
        )
    return doc


def submit_report(actor, report: ProgressReport) -> ProgressReport:
    return apply_transition(
        PROGRESS_REPORT,
        report,
        "submit",
        actor,
        changes={"submitted_at": timezone.now()},
        notify=lambda r, t, a: notify.send(
            _ministry_admins(),
            "pilots.progress_report.submit",
            f"{r.application.region.name}报送了{r.year}年{r.get_period_display()}试点进展报告",
            _link("pilots:report", r.pk),
        ),
    )


def return_report(actor, report: ProgressReport) -> ProgressReport:
    return apply_transition(
        PROGRESS_REPORT,
        report,
        "return",
        actor,
        notify=lambda r, t, a: notify.send(
            _region_admins(r.application.region_id),
            "pilots.progress_report.return",
            f"{r.year}年{r.get_period_display()}试点进展报告被退回修改",
            _link("pilots:report", r.pk),
        ),
    )


# ==========================================================================
# evaluation: which pilots lag on which indicators


@dataclass
class LagRow:
    application: Application
    year: int
    rows: list[Any]  # insights.services.CompletionRow
    behind: list[Any]
    met: int
    reports: int

    @property
    def lagging(self) -> bool:
        return bool(self.behind)


def evaluation_year_for(application: Application, year: int | None) -> int:
    """The year to evaluate: the one asked for, clamped into the period."""
    start = application.start_year or today().year
    end = application.end_year or start
    year = year or today().year
    return min(max(year, start), end)


def lagging(actor, *, year: int | None = None, batch: Batch | None = None) -> list[LagRow]:
    """For each visible pilot city, its indicators against the year's target
    (via chanrong.insights.services.completion): which are behind."""
    if scope_of(actor).kind not in (ScopeKind.GOVERNMENT, ScopeKind.PLATFORM):
        raise NotFound(_("未找到"))
    insights = _insights()
    out: list[LagRow] = []
    report_counts = dict(
        ProgressReport.objects.filter(state=ReportState.SUBMITTED)
        .values("application")
        .annotate(n=Count("pk"))
        .values_list("application", "n")
    )
    for application in pilots_of(actor):
        if batch is not None and application.batch_id != batch.pk:
            continue
        the_year = evaluation_year_for(application, year)
        rows = (
            insights.completion(application.indicator_plan, the_year)
            if application.indicator_plan is not None
            else []
        )
        behind = [r for r in rows if r.status == "behind"]
        out.append(
            LagRow(
                application=application,
                year=the_year,
                rows=rows,
                behind=behind,
                met=sum(1 for r in rows if r.status == "met"),
                reports=report_counts.get(application.pk, 0),
            )
        )
    out.sort(key=lambda r: (-len(r.behind), r.application.region_id))
    return out


def export_evaluation(actor, *, year: int | None = None, batch: Batch | None = None) -> bytes:
    """The evaluation summary as .xlsx (openpyxl): one sheet of pilots, one of
    every indicator's completion."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    rows = lagging(actor, year=year, batch=batch)
    book = Workbook()
    summary = book.active
    summary.title = "试点评估汇总"
    header = [
        "批次",
        "试点城市（区）",
        "推荐单位",
        "实施期",
        "评估年度",
        "指标数",
        "已完成",
        "未完成",
        "已报送进展报告",
        "未完成指标",
    ]
    summary.append(header)
    for row in rows:
        a = row.application
        summary.append(
            [
                a.batch.name,
                a.region.name,
                a.review_region.name,
                a.period_label,
                row.year,
                len(row.rows),
                row.met,
                len(row.behind),
                row.reports,
                "；".join(r.definition.name for r in row.behind),
            ]
        )
    detail = book.create_sheet("指标完成情况")
    detail.append(
        ["试点城市（区）", "评估年度", "指标", "指标类型", "目标值", "实际值", "完成率", "状态"]
    )
    labels = getattr(_insights(), "STATUS_LABELS", {})
    for row in rows:
        for r in row.rows:
            detail.append(
                [
                    row.application.region.name,
                    row.year,
                    r.definition.name,
                    str(r.definition.get_kind_display()),
                    r.target_text,
                    r.actual_text,
                    r.percent,
                    str(labels.get(r.status, r.status)),
                ]
            )
    for sheet in (summary, detail):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for column in sheet.columns:
            width = max(len(str(c.value or "")) for c in column)
            sheet.column_dimensions[column[0].column_letter].width = min(60, max(10, width * 2))
    buffer = io.BytesIO()
    book.save(buffer)
    audit.record(
        "pilots.evaluation.export",
        actor=actor,
        changes={"year": year, "batch": batch.pk if batch else None, "pilots": len(rows)},
    )
    return buffer.getvalue()


# ==========================================================================
# what a user may do (for pages and API to show the right buttons)


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
