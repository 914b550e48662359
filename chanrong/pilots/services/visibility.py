"""Who sees which batch, application, progress report and document. Anything
not visible raises NotFound (a 404, never a 403), so a guessed id reveals
nothing; pages and API reach the programme's rows only through here."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from chanrong.core.errors import NotFound
from chanrong.core.scope import ScopeKind, scope_of

from .. import permissions as perms
from ..models import (
    Application,
    Batch,
    BatchState,
    Document,
    ProgressReport,
    ProvincialSubmission,
    SubmissionState,
)


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
