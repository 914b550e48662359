"""Matching: what the government steers (policy weights per region).

The engine itself (`engine.py`) holds no models; the adapter loads its
features from the other apps' tables.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

#: The policy criteria a region may weight, in display order.
POLICY_KEYS = ("white_list", "specialised", "tech", "green")
#: Weight of each policy criterion where no region has set one.
DEFAULT_WEIGHT = 1.0
MIN_WEIGHT = 0.0
MAX_WEIGHT = 5.0


def default_weights() -> dict[str, float]:
    return {key: DEFAULT_WEIGHT for key in POLICY_KEYS}


class PolicyWeights(models.Model):
    """The weights of the policy part of the matching score (白名单, 专精特新,
    科创, 绿色) that a government sets for its region. The weights in force for
    an enterprise are those of the nearest region above it (longest prefix)
    that has a row; with none, every weight is `DEFAULT_WEIGHT`."""

    region = models.OneToOneField(
        "core.Region",
        verbose_name="地区",
        on_delete=models.PROTECT,
        related_name="policy_weights",
    )
    weights = models.JSONField("政策权重", default=default_weights)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="设置人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        ordering = ["region"]
        verbose_name = "政策权重"
        verbose_name_plural = "政策权重"

    def __str__(self) -> str:
        return f"{self.region_id} {self.weights}"


class DemandMatch(models.Model):
    """One row of the batch's stored result: the product ranked `rank` (1 =
    best) for an open demand. `chanrong matching_rematch` and the incremental
    re-match tasks replace a demand's rows in one transaction."""

    demand = models.ForeignKey("demands.Demand", on_delete=models.CASCADE, related_name="matches")
    rank = models.PositiveSmallIntegerField("名次")
    product = models.ForeignKey("finance.Product", on_delete=models.CASCADE, related_name="+")
    institution = models.ForeignKey(
        "finance.FinancialInstitution", on_delete=models.CASCADE, related_name="+"
    )
    score = models.FloatField("匹配得分")
    computed_at = models.DateTimeField("计算时间")

    class Meta:
        ordering = ["demand", "rank"]
        verbose_name = "匹配结果"
        verbose_name_plural = "匹配结果"
        constraints = [
            models.UniqueConstraint(fields=["demand", "rank"], name="demand_match_unique_rank")
        ]
        indexes = [models.Index(fields=["institution", "-score"])]

    def __str__(self) -> str:
        return f"{self.demand_id} #{self.rank} → {self.product_id}"


class InstitutionRanking(models.Model):
    """An institution's two 派单工作台 lists, ranked ahead (matching.kept).

    `demands` holds the best KEEP of the open demands dispatched to the
    institution as [demand id, score, best product id, reasons], best first;
    `outreach` the best KEEP of its outreach list as [enterprise id, score,
    best product id, reasons, lists]. `*_complete` says the list holds every
    candidate there was, not only the best KEEP. `stamp` names the product
    table, policy weights and approval model they were ranked with: a row
    whose stamp is no longer current is not used."""

    institution = models.OneToOneField(
        "finance.FinancialInstitution", on_delete=models.CASCADE, related_name="+"
    )
    as_of = models.DateField("数据截至日")
    computed_at = models.DateTimeField("计算开始时间")
    seconds = models.FloatField("计算耗时（秒）", default=0)
    stamp = models.CharField("排序依据版本", max_length=64)
    demands = models.JSONField(default=list)
    demands_complete = models.BooleanField(default=False)
    outreach = models.JSONField(default=list)
    outreach_complete = models.BooleanField(default=False)

    class Meta:
        verbose_name = "机构推荐清单快照"
        verbose_name_plural = "机构推荐清单快照"

    def __str__(self) -> str:
        return f"{self.institution_id} {self.computed_at:%Y-%m-%d %H:%M}"
