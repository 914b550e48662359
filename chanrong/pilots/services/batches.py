"""A batch of the programme (第N批): the ministry creates it with its notice,
deadlines, quotas and 编制提纲, sets the scoring rubric and opens it for
applications. Publishing its list is in publication.py."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.accounts.models import User
from chanrong.core import audit, notify
from chanrong.core.errors import Conflict, FieldError, NotAllowed, ValidationFailed
from chanrong.core.workflow import apply_transition

from .. import permissions as perms
from ..defaults import DEFAULT_OUTLINE, DEFAULT_RUBRIC
from ..models import (
    ApplicationState,
    Batch,
    BatchState,
    EligibleLevel,
    MinistryScore,
    RubricCriterion,
)
from ..workflows import BATCH
from .common import MAX_TEXT, _clean_text, _date, _day, _link, _text


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
    if batch.state != BatchState.DRAFT:
        # The notice is out: cities plan to the published dates, so a deadline
        # may be extended but never brought forward.
        for key in ("application_deadline", "provincial_deadline"):
            new, old = fields.get(key), getattr(batch, key)
            if new is not None and old is not None and new < old:
                errors[key] = _("申报通知已发布，截止日期只能延后，不能提前（当前为 %(old)s）") % {
                    "old": old.isoformat()
                }
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
