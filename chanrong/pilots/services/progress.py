"""Progress reports (试点进展报告) of a published pilot: written by the city
per year and period, with attachments, submitted to the ministry and
returned by it for changes."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import audit, notify
from chanrong.core.errors import Conflict, NotAllowed, ValidationFailed
from chanrong.core.workflow import apply_transition

from .. import permissions as perms
from .. import uploads
from ..models import Application, Document, DocumentKind, ProgressReport, ReportPeriod, ReportState
from ..workflows import PROGRESS_REPORT
from .common import MAX_TEXT, _link, _ministry_admins, _region_admins, _text, _year
from .documents import _atomic_with_files, _store_document, _title_for
from .publication import is_pilot


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
