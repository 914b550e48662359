"""Supporting material of an application: 借款合同, 付息凭证, 担保合同 …

Every file passes the kernel's upload check (`chanrong.core.uploads`, the
same one the pilot application uses: the extension must be allowed AND the
content must say it is that type; size limit `CHANRONG_MAX_UPLOAD_BYTES`).
It is stored under an unguessable name — the person's file name is kept in
`original_name` and only sent back in Content-Disposition — in a transaction
that removes the stored file again if the row is not written.

Only the applicant adds or removes material, and only while the application
has not reached 初审; anyone who may see the application may download it.
"""

from __future__ import annotations

import uuid

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chanrong.core import audit, uploads
from chanrong.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed

from .. import permissions as perms
from ..models import Application, ApplicationState, Attachment

#: The kinds of material an applicant may attach.
SLOTS = {
    "loan_contract": gettext_lazy("借款合同"),
    "interest_receipt": gettext_lazy("付息凭证"),
    "guarantee_contract": gettext_lazy("担保合同"),
    "fee_invoice": gettext_lazy("担保费发票"),
    "award_proof": gettext_lazy("奖励事项证明材料"),
    "other": gettext_lazy("其他材料"),
}
#: States in which the applicant may still add or remove material.
OPEN_STATES = (
    ApplicationState.PROPOSED,
    ApplicationState.BANK_PENDING,
    ApplicationState.SUBMITTED,
)


def slot_label(slot: str) -> str:
    return str(SLOTS.get(slot, slot))


def can_change(actor, application: Application) -> bool:
    return application.state in OPEN_STATES and perms.is_applicant(actor, application)


def _require_change(actor, application: Application) -> None:
    if not perms.is_applicant(actor, application):
        raise NotAllowed(_("只有申请人可以上传或删除申请材料"))
    if application.state not in OPEN_STATES:
        raise Conflict(
            _("申请已进入审核（%(s)s），不能再修改材料") % {"s": application.get_state_display()},
            code="materials_closed",
        )


def add_attachment(actor, application: Application, slot: str, upload) -> Attachment:
    _require_change(actor, application)
    if slot not in SLOTS:
        raise ValidationFailed({"slot": _("请选择材料类型")})
    checked = uploads.check_upload(upload, uploads.MATERIAL_TYPES, field="file")
    attachment = Attachment(
        application=application,
        slot=slot,
        original_name=checked.name,
        size=checked.size,
        sha256=checked.sha256,
        uploaded_by=actor,
    )
    stored = False
    try:
        with transaction.atomic():
            attachment.file.save(
                f"{uuid.uuid4().hex}.{checked.file_type}", ContentFile(checked.content), save=False
            )
            stored = True
            attachment.save()
            audit.record(
                "policy.attachment.add",
                actor=actor,
                obj=application,
                changes={"slot": slot, "name": checked.name, "size": checked.size},
            )
    except BaseException:
        if stored:
            attachment.file.storage.delete(attachment.file.name)
        raise
    return attachment


def remove_attachment(actor, attachment: Attachment) -> None:
    application = attachment.application
    _require_change(actor, application)
    name = attachment.file.name
    storage = attachment.file.storage
    with transaction.atomic():
        audit.record(
            "policy.attachment.remove",
            actor=actor,
            obj=application,
            changes={"slot": attachment.slot, "name": attachment.original_name},
        )
        attachment.delete()
        transaction.on_commit(lambda: storage.delete(name))


def visible_attachment(user, pk: int) -> Attachment:
    """An attachment of an application `user` may see, else NotFound."""
    found = (
        Attachment.objects.filter(application__in=Application.objects.visible_to(user))
        .select_related("application")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise NotFound()
    return found


def content_type(attachment: Attachment) -> str:
    extension = attachment.file.name.rsplit(".", 1)[-1].lower()
    return uploads.CONTENT_TYPES.get(extension, "application/octet-stream")
