"""Operating of the 名录库 (see the package docstring)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .enterprises import Enterprise


class PeriodType(models.TextChoices):
    MONTH = "month", _("月度")
    QUARTER = "quarter", _("季度")


class ReviewStatus(models.TextChoices):
    OK = "ok", _("正常")
    FLAGGED = "flagged", _("待核实")
    CONFIRMED = "confirmed", _("已核实")


class OperatingRecordQuerySet(models.QuerySet):
    def visible_to(self, user) -> OperatingRecordQuerySet:
        return self.filter(enterprise__in=Enterprise.objects.visible_to(user))


class OperatingRecord(models.Model):
    """One month's or quarter's figures for one enterprise. Amounts in 元.

    Implausible figures are kept and flagged (`flags`: [{"field", "reason"}])
    for a government reviewer to confirm or correct; see
    services.plausibility_flags.
    """

    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.CASCADE, related_name="operating_records"
    )
    period_type = models.CharField("周期", max_length=8, choices=PeriodType.choices)
    period_start = models.DateField("期初日期")
    output_value = models.DecimalField(
        "工业总产值（元）", max_digits=20, decimal_places=2, null=True, blank=True
    )
    revenue = models.DecimalField(
        "营业收入（元）", max_digits=20, decimal_places=2, null=True, blank=True
    )
    profit = models.DecimalField(
        "利润总额（元）", max_digits=20, decimal_places=2, null=True, blank=True
    )
    tax_paid = models.DecimalField(
        "实缴税金（元）", max_digits=20, decimal_places=2, null=True, blank=True
    )
    employees = models.IntegerField("从业人员（人）", null=True, blank=True)
    electricity_kwh = models.DecimalField(
        "用电量（千瓦时）", max_digits=20, decimal_places=2, null=True, blank=True
    )
    flags = models.JSONField("异常提示", default=list, blank=True)
    review_status = models.CharField(
        "核实状态", max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.OK
    )
    review_note = models.CharField("核实意见", max_length=500, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OperatingRecordQuerySet.as_manager()

    class Meta:
        ordering = ["enterprise", "period_type", "period_start"]
        verbose_name = "经营数据"
        verbose_name_plural = "经营数据"
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "period_type", "period_start"],
                name="operating_record_one_per_period",
            )
        ]
        indexes = [models.Index(fields=["review_status"], name="operating_review_status")]

    def __str__(self) -> str:
        return f"{self.enterprise} {self.period_label}"

    @property
    def period_label(self) -> str:
        year, month = self.period_start.year, self.period_start.month
        if self.period_type == PeriodType.QUARTER:
            return gettext("%(year)s年第%(quarter)s季度") % {
                "year": year,
                "quarter": (month - 1) // 3 + 1,
            }
        return gettext("%(year)s年%(month)s月") % {"year": year, "month": month}

    @property
    def period_code(self) -> str:
        if self.period_type == PeriodType.QUARTER:
            return f"{self.period_start.year}Q{(self.period_start.month - 1) // 3 + 1}"
        return f"{self.period_start.year}-{self.period_start.month:02d}"
