"""A receivable's documents on the web: the creditor uploads (one or more
files of one kind at a time) and removes them while the receivable is
unconfirmed; the parties and the banks download them. Downloads go through
here only (visibility checked, sent as an attachment under the person's own
file name, never cached); for anyone else an attachment is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from chanrong.core.errors import NotFound

from .. import services
from ..forms import AttachmentForm
from ..models import Receivable
from ..services.attachments import content_type
from .common import attempt
from .receivables import _detail


def file_response(attachment) -> FileResponse:
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.original_name,
        content_type=content_type(attachment),
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def upload(request, pk: int):
    user = request.user
    receivable = get_object_or_404(Receivable.objects.visible_to(user), pk=pk)
    form = AttachmentForm(request.POST)
    status = 422
    if form.is_valid():
        kind = form.cleaned_data.get("kind") or ""
        files = [(kind, f) for f in request.FILES.getlist("file")] or [(kind, None)]
        done, status = attempt(
            request, lambda: services.add_attachments(user, receivable, files), form
        )
        if done is not None:
            messages.success(request, _("已上传 %(n)s 个附件") % {"n": len(done)})
            return redirect("supplychain:receivable", receivable.pk)
    if status == 409:
        return redirect("supplychain:receivable", receivable.pk)
    return _detail(request, receivable, attachment_form=form, status=status)


@login_required
@require_GET
def download(request, pk: int):
    try:
        attachment = services.visible_attachment(request.user, pk)
    except NotFound:
        raise Http404 from None
    return file_response(attachment)


@login_required
@require_POST
def remove(request, pk: int):
    user = request.user
    try:
        attachment = services.visible_attachment(user, pk)
    except NotFound:
        raise Http404 from None
    receivable_id = attachment.receivable_id
    done, _status = attempt(request, lambda: services.remove_attachment(user, attachment) or True)
    if done is not None:
        messages.success(request, _("已删除附件 %(n)s") % {"n": attachment.original_name})
    return redirect("supplychain:receivable", receivable_id)
