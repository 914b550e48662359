"""Credit records (信用信息) about an enterprise from other departments: 纳税,
社保, 公积金, 水电气, 不动产, 行政处罚, 司法判决, 海关 (issue 19 item 3, first part).

One row per record as the issuing body or data source numbers it. The key
(enterprise, kind, source, reference) makes a re-import or a repeated API
push idempotent: the same record is updated in place, never duplicated. The
enterprise is part of the key because one court case number (案号) names
several parties, each a record of its own.

Visibility follows the enterprise (`Enterprise.objects.visible_to`):
government of the region subtree, the enterprise itself, and institutions
only while the enterprise's `DataAuthorisation` to them is in force.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .enterprises import Enterprise


class CreditKind(models.TextChoices):
    TAX = "tax", _("纳税")
    SOCIAL_INSURANCE = "social_insurance", _("社保")
    HOUSING_FUND = "housing_fund", _("公积金")
    UTILITY = "utility", _("水电气")
    REAL_ESTATE = "real_estate", _("不动产")
    PENALTY = "penalty", _("行政处罚")
    JUDGMENT = "judgment", _("司法判决")
    CUSTOMS = "customs", _("海关")


class CreditRecordQuerySet(models.QuerySet):
    def visible_to(self, user) -> CreditRecordQuerySet:
        """Whoever sees the enterprise sees its credit records: the enterprise,
        government of its region subtree, platform admins, and institutions
        the enterprise has authorised (revocation hides them again)."""
        return self.filter(enterprise__in=Enterprise.objects.visible_to(user))


class CreditRecord(models.Model):
    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.CASCADE, related_name="credit_records"
    )
    kind = models.CharField(_("信息类别"), max_length=24, choices=CreditKind.choices)
    occurred_on = models.DateField(_("发生日期"))
    #: The issuing body (嘉善县市场监督管理局, 嘉善县人民法院) or the data source.
    source = models.CharField(_("来源机构"), max_length=100)
    #: The body's own number: 处罚决定书文号, 案号, 缴费记录编号 …
    reference = models.CharField(_("文书/记录编号"), max_length=100)
    summary = models.CharField(_("内容摘要"), max_length=1000, blank=True)
    amount = models.DecimalField(
        _("金额（元）"), max_digits=20, decimal_places=2, null=True, blank=True
    )
    #: Anything else the source says: {"severity": "较重", "status": "已履行"}.
    extra = models.JSONField(_("其他信息"), default=dict, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CreditRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("信用信息")
        verbose_name_plural = _("信用信息")
        ordering = ["enterprise", "-occurred_on", "-pk"]
        indexes = [
            models.Index(fields=["kind", "occurred_on"]),
            models.Index(fields=["enterprise", "kind", "occurred_on"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "kind", "source", "reference"],
                name="registry_credit_record_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(amount__isnull=True) | models.Q(amount__gte=0),
                name="registry_credit_amount_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.reference}"
