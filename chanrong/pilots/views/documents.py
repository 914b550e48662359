"""Stored files: the one way to download a file (visibility checked, sent as
an attachment, never cached) and removing one, wherever it belongs."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from chanrong.core.errors import NotAllowed, ServiceError

from .. import services
from ..uploads import CONTENT_TYPES
from .common import _flash, _translate_errors


@login_required
@require_POST
@_translate_errors
def document_delete(request, pk: int):
    doc = services.get_visible_document(request.user, pk)
    target = (
        ("pilots:application", doc.application_id)
        if doc.application_id
        else ("pilots:batch", doc.batch_id)
        if doc.batch_id
        else ("pilots:report", doc.report_id)
        if doc.report_id
        else ("pilots:province_batch", doc.submission.batch_id)
    )
    try:
        services.remove_document(request.user, doc)
    except NotAllowed:
        raise
    except ServiceError as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("文件已删除"))
    return redirect(target[0], target[1])


@login_required
@require_GET
@_translate_errors
def document_download(request, pk: int):
    """The only way to a stored file: visibility is checked, the file goes
    out as an attachment under the person's own file name."""
    doc = services.get_visible_document(request.user, pk)
    try:
        handle = doc.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=doc.original_name,
        content_type=CONTENT_TYPES.get(doc.file_type, "application/octet-stream"),
    )
    response["Cache-Control"] = "private, no-store"
    return response
