"""A fund's investment in an enterprise (or in one of its registry projects)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from chanrong.core.scope import ScopeKind, scope_of


class InvestmentRound(models.TextChoices):
    ANGEL = "angel", _("天使轮")
    PRE_A = "pre_a", _("Pre-A 轮")
    A = "a", _("A 轮")
    B = "b", _("B 轮")
    C = "c", _("C 轮")
    LATER = "later", _("D 轮及以后")
    PRE_IPO = "pre_ipo", _("Pre-IPO")
    PRIVATE_PLACEMENT = "private_placement", _("定增")
    PROJECT = "project", _("项目投资")


class FundInvestmentQuerySet(models.QuerySet):
    def visible_to(self, user) -> FundInvestmentQuerySet:
        """The invested enterprise; the fund's manager; the government of the
        enterprise's or the fund's region subtree; platform admins."""
        scope = scope_of(user)
        if scope.kind == ScopeKind.PLATFORM:
            return self.all()
        if scope.kind == ScopeKind.ENTERPRISE:
            return self.filter(enterprise_id=scope.enterprise_id)
        if scope.kind == ScopeKind.INSTITUTION:
            return self.filter(fund__manager_id=scope.institution_id)
        if scope.kind == ScopeKind.GOVERNMENT:
            prefix = scope.region_prefix
            return self.filter(
                Q(enterprise__region__code__startswith=prefix)
                | Q(fund__region__code__startswith=prefix)
            )
        return self.none()


class FundInvestment(models.Model):
    fund = models.ForeignKey(
        "funds.Fund", verbose_name="基金", on_delete=models.PROTECT, related_name="investments"
    )
    enterprise = models.ForeignKey(
        "registry.Enterprise",
        verbose_name="被投企业",
        on_delete=models.PROTECT,
        related_name="fund_investments",
    )
    project = models.ForeignKey(
        "registry.Project",
        verbose_name="投资项目",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="fund_investments",
    )
    round = models.CharField("轮次", max_length=20, choices=InvestmentRound.choices)
    amount = models.DecimalField("投资金额（元）", max_digits=20, decimal_places=2)
    invested_on = models.DateField("投资日期")
    share_pct = models.DecimalField(
        "持股比例（%）", max_digits=7, decimal_places=4, null=True, blank=True
    )
    exited_on = models.DateField("退出日期", null=True, blank=True)
    exit_amount = models.DecimalField(
        "退出金额（元）", max_digits=20, decimal_places=2, null=True, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = FundInvestmentQuerySet.as_manager()

    class Meta:
        ordering = ["-invested_on", "-pk"]
        verbose_name = "基金投资"
        verbose_name_plural = "基金投资"
        indexes = [models.Index(fields=["invested_on"])]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="fund_investment_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.fund} → {self.enterprise}"[:200]
