"""What came back from the 中征应收账款融资服务平台 (issue 19 item 4): one row
per receivable, written only by `supplychain.zhongzheng.import_linkage`
(never by hand), so a re-import of the same file changes nothing."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ZhongzhengStatus(models.TextChoices):
    PENDING = "pending", _("待确权")
    CONFIRMED = "confirmed", _("已确权")
    PARTLY_CONFIRMED = "partly_confirmed", _("部分确权")
    DISPUTED = "disputed", _("有异议")


class ZhongzhengLinkQuerySet(models.QuerySet):
    def visible_to(self, user) -> ZhongzhengLinkQuerySet:
        """Whoever sees the receivable sees what came back about it."""
        from . import Receivable

        return self.filter(receivable__in=Receivable.objects.visible_to(user))


class ZhongzhengLink(models.Model):
    receivable = models.OneToOneField(
        "supplychain.Receivable",
        verbose_name=_("应收账款"),
        on_delete=models.CASCADE,
        related_name="zhongzheng",
    )
    #: 动产融资统一登记公示系统（中登网）登记编号.
    registration_no = models.CharField(_("中登网登记编号"), max_length=32, blank=True)
    status = models.CharField(
        _("中征平台确权状态"), max_length=20, choices=ZhongzhengStatus.choices, blank=True
    )
    status_on = models.DateField(_("状态日期"), null=True, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ZhongzhengLinkQuerySet.as_manager()

    class Meta:
        verbose_name = _("中征平台回执")
        verbose_name_plural = _("中征平台回执")
        ordering = ["-updated_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.receivable_id} {self.registration_no}"
