"""A receivable's supporting documents: the contract, invoice scans,
delivery and acceptance notes (issue 14 item 3).

Every file passes the kernel's upload check (`chanrong.core.uploads`, as the
pilot and policy applications): the extension must be PDF, JPG, PNG or OFD
AND the content must say it is that type; at most `max_bytes()` each
(`CHANRONG_SUPPLYCHAIN_MAX_UPLOAD_BYTES`, default 10 MB) and `MAX_FILES` on a
receivable. It is stored under an unguessable name — the person's file name
is kept in `original_name` and only sent back in Content-Disposition — and a
transaction that fails removes the files it stored, so nothing is half
written.

Only the creditor attaches or removes documents, and only while the
receivable is unconfirmed (registered or disputed): what the debtor
confirmed is the receivable with the papers it saw. Who may download:
`ReceivableAttachment.visible_to` (the parties and the banks), else 404.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, TypeVar

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from chanrong.core import audit, uploads
from chanrong.core.errors import Conflict, FieldError, NotAllowed, NotFound, ValidationFailed

from ..models import AttachmentKind, Receivable, ReceivableAttachment, ReceivableState
from ..permissions import is_creditor

ALLOWED_TYPES = ("pdf", "jpg", "png", "ofd")
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 20
#: States in which the creditor may still add or remove documents.
OPEN_STATES = (ReceivableState.REGISTERED, ReceivableState.DISPUTED)

T = TypeVar("T")


def max_bytes() -> int:
    return int(getattr(settings, "CHANRONG_SUPPLYCHAIN_MAX_UPLOAD_BYTES", DEFAULT_MAX_BYTES))


def can_change(actor, receivable: Receivable) -> bool:
    return receivable.state in OPEN_STATES and is_creditor(actor, receivable)


def _require_change(actor, receivable: Receivable) -> None:
    if not is_creditor(actor, receivable):
        raise NotAllowed(_("只有债权人（供应商）可以上传或删除附件"))
    if receivable.state not in OPEN_STATES:
        raise Conflict(
            _("应收账款当前为「%(s)s」，不能再修改附件") % {"s": receivable.get_state_display()},
            code="attachments_closed",
        )


def check_files(
    files: Iterable[tuple[Any, Any]], *, field: str = "file"
) -> list[tuple[str, uploads.CheckedFile]]:
    """Check (kind, upload) pairs before anything is written; 422 naming
    `field` (with the row index when there are several) on the first bad one."""
    checked: list[tuple[str, uploads.CheckedFile]] = []
    rows = list(files)
    for index, (kind, upload) in enumerate(rows):
        name = field if len(rows) == 1 else f"{field}[{index}]"
        if kind not in AttachmentKind.values:
            raise ValidationFailed([FieldError("kind", _("请选择材料类型"))])
        checked.append(
            (kind, uploads.check_upload(upload, ALLOWED_TYPES, field=name, max_bytes=max_bytes()))
        )
    return checked


def _store(actor, receivable: Receivable, checked, stored: list) -> list[ReceivableAttachment]:
    """Write the files and rows (inside the caller's transaction); the names
    written go to `stored` so the caller can remove them if it fails."""
    existing = ReceivableAttachment.objects.filter(receivable=receivable).count()
    if existing + len(checked) > MAX_FILES:
        raise ValidationFailed(
            [FieldError("file", _("每笔应收账款最多 %(n)s 个附件") % {"n": MAX_FILES})]
        )
    created = []
    for kind, file in checked:
        attachment = ReceivableAttachment(
            receivable=receivable,
            kind=kind,
            original_name=file.name,
            file_type=file.file_type,
            size=file.size,
            sha256=file.sha256,
            uploaded_by=actor,
        )
        attachment.file.save(
            f"{uuid.uuid4().hex}.{file.file_type}", ContentFile(file.content), save=False
        )
        stored.append((attachment.file.storage, attachment.file.name))
        attachment.save()
        audit.record(
            "supplychain.attachment.add",
            actor=actor,
            obj=receivable,
            changes={"kind": kind, "name": file.name, "size": file.size, "sha256": file.sha256},
        )
        created.append(attachment)
    return created


def _atomically(work: Callable[[list], T]) -> T:
    """Run `work(stored)` in one transaction; if it fails, delete the files it stored."""
    stored: list = []
    try:
        with transaction.atomic():
            return work(stored)
    except BaseException:
        for storage, name in stored:
            storage.delete(name)
        raise


def add_attachments(
    actor, receivable: Receivable, files: Iterable[tuple[Any, Any]]
) -> list[ReceivableAttachment]:
    """The creditor attaches documents ((kind, upload) pairs) to its
    unconfirmed receivable. 403 not the creditor; 409 confirmed or
    withdrawn; 422 a file of the wrong type, content, size, or too many."""
    _require_change(actor, receivable)
    checked = check_files(files)
    if not checked:
        raise ValidationFailed([FieldError("file", _("请选择要上传的文件"))])

    def work(stored):
        locked = Receivable.objects.select_for_update().get(pk=receivable.pk)
        _require_change(actor, locked)  # confirmed a moment ago: the papers are closed
        return _store(actor, locked, checked, stored)

    return _atomically(work)


def add_attachment(actor, receivable: Receivable, kind: str, upload) -> ReceivableAttachment:
    return add_attachments(actor, receivable, [(kind, upload)])[0]


def register_with_attachments(
    actor, data: dict[str, Any], files: Iterable[tuple[Any, Any]], *, today: date | None = None
) -> Receivable:
    """Register a receivable and attach its documents in one transaction:
    a bad file refuses the whole registration (nothing written)."""
    from .receivables import register_receivable

    checked = check_files(files)

    def work(stored):
        receivable = register_receivable(actor, data, today=today)
        if checked:
            _store(actor, receivable, checked, stored)
        return receivable

    return _atomically(work)


def remove_attachment(actor, attachment: ReceivableAttachment) -> None:
    receivable = attachment.receivable
    _require_change(actor, receivable)
    storage, name = attachment.file.storage, attachment.file.name
    with transaction.atomic():
        audit.record(
            "supplychain.attachment.remove",
            actor=actor,
            obj=receivable,
            changes={"kind": attachment.kind, "name": attachment.original_name},
        )
        attachment.delete()
        transaction.on_commit(lambda: storage.delete(name))


def visible_attachment(user, pk: int, *, receivable_id: int | None = None) -> ReceivableAttachment:
    """An attachment `user` may download, else NotFound (also when it is not
    one of `receivable_id`'s)."""
    found = ReceivableAttachment.objects.visible_to(user).select_related("receivable").filter(pk=pk)
    if receivable_id is not None:
        found = found.filter(receivable_id=receivable_id)
    attachment = found.first()
    if attachment is None:
        raise NotFound(_("未找到该附件"))
    return attachment


def content_type(attachment: ReceivableAttachment) -> str:
    return uploads.CONTENT_TYPES.get(attachment.file_type, "application/octet-stream")
