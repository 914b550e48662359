"""The supporting documents of a receivable: the contract, invoice scans,
delivery and acceptance notes (PDF, JPG, PNG or OFD 版式文件).

Who sees them is narrower than who sees the receivable: the papers are the
parties' commercial documents, so only the creditor that attached them, the
debtor (by USCC, or the purchasing agency of a 政采 contract) and the banks
the receivable is offered to or that finance it may list and download them.
A supervising agency sees the receivable's figures but not its papers, and so
does a platform admin; for everyone else an attachment does not exist (404).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from chanrong.core.scope import ScopeKind, scope_of


class AttachmentKind(models.TextChoices):
    CONTRACT = "contract", _("合同")
    INVOICE = "invoice", _("发票扫描件")
    DELIVERY = "delivery", _("送货单 / 验收单")
    OTHER = "other", _("其他材料")


class ReceivableAttachmentQuerySet(models.QuerySet):
    def visible_to(self, user) -> ReceivableAttachmentQuerySet:
        """The attachments of receivables the user is a party to, or a bank
        that sees the receivable (module docstring); none for others."""
        from . import Receivable

        scope = scope_of(user)
        if scope.kind in (ScopeKind.ENTERPRISE, ScopeKind.INSTITUTION):
            # For these two, Receivable.visible_to is exactly the parties and the banks.
            return self.filter(receivable__in=Receivable.objects.visible_to(user))
        if scope.kind == ScopeKind.GOVERNMENT:
            return self.filter(receivable__purchaser_agency_id=scope.agency_id)
        return self.none()


def _upload_to(instance: ReceivableAttachment, filename: str) -> str:
    """Set by the service to an unguessable name; never served from MEDIA_URL."""
    return f"supplychain/{filename}"


class ReceivableAttachment(models.Model):
    receivable = models.ForeignKey(
        "supplychain.Receivable", on_delete=models.CASCADE, related_name="attachments"
    )
    kind = models.CharField("材料类型", max_length=12, choices=AttachmentKind.choices)
    file = models.FileField(upload_to=_upload_to, max_length=200)
    original_name = models.CharField("文件名", max_length=255)
    file_type = models.CharField(max_length=8)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    objects = ReceivableAttachmentQuerySet.as_manager()

    class Meta:
        ordering = ["receivable", "kind", "pk"]
        verbose_name = "应收账款附件"
        verbose_name_plural = "应收账款附件"

    def __str__(self) -> str:
        return self.original_name
