"""The loan prime rate (贷款市场报价利率, LPR) history, as reference data.

One row per tenor per publication. Since the reform of August 2019 the
National Interbank Funding Center (全国银行间同业拆借中心) publishes both tenors
on the 20th of every month (the next working day when the 20th is not one),
so a row's `published_on` is that day and the rate is in force from it
until the next publication. The rows shipped with the platform come from
`chanrong/finance/data/lpr.csv` (loaded by a data migration); platform admins
add later months through `finance.lpr.save_lpr` (the LPR page or the API).

Imported by `finance/models.py`, so Django sees the model as the finance app's
(and `LprTenor`, which `Product.lpr_tenor` uses too, is importable from there).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _


class LprTenor(models.TextChoices):
    ONE_YEAR = "1y", _("1 年期 LPR")
    FIVE_YEAR = "5y", _("5 年期以上 LPR")


class LprRate(models.Model):
    published_on = models.DateField("公布日期")
    tenor = models.CharField("品种", max_length=4, choices=LprTenor.choices)
    # Annual percent, as published: 3.4500 means 3.45%.
    rate = models.DecimalField("利率（%）", max_digits=6, decimal_places=4)
    source = models.CharField("来源", max_length=100, blank=True)
    note = models.CharField("备注", max_length=500, blank=True)
    # Null for the rows shipped with the platform; set once an admin saves the row.
    updated_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-published_on", "tenor"]
        verbose_name = "贷款市场报价利率（LPR）"
        verbose_name_plural = "贷款市场报价利率（LPR）"
        constraints = [
            models.UniqueConstraint(
                fields=["tenor", "published_on"], name="lpr_unique_publication"
            ),
            models.CheckConstraint(
                condition=models.Q(rate__gt=0) & models.Q(rate__lt=100), name="lpr_rate_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_tenor_display()} {self.published_on:%Y-%m-%d} {self.rate_text}%"

    @property
    def rate_text(self) -> str:
        """The rate as published: 3.4500 → "3.45"; all four places only when used."""
        cents = self.rate.quantize(Decimal("0.01"))
        return format(cents if cents == self.rate else self.rate.normalize(), "f")
