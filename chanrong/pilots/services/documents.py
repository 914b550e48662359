"""Uploaded files: a batch's notice and templates, an application's 申报文件
and 相关材料, and removing them. Every upload is checked by uploads.py and
stored in a transaction that also removes the stored file when it fails;
a removed row's file goes only after commit."""

from __future__ import annotations

from contextlib import contextmanager

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.errors import Conflict, NotAllowed, ValidationFailed

from .. import permissions as perms
from .. import uploads
from ..models import (
    APPLICATION_KINDS,
    BATCH_KINDS,
    Application,
    Batch,
    Document,
    DocumentKind,
    ReportState,
    SubmissionState,
)
from .common import _clean_text
from .drafts import _require_editable


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
