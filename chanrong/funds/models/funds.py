"""A fund (产业基金 and the other equity funds) and who keeps it.

A fund is registered in a region (its 注册地 and 投资区域) and managed by a
financial institution of the fund or securities kind (基金管理人). Its
basic facts are a public directory to every signed-in user (like the
institutions' directory: names, kinds, sizes and focus are what a fund
publishes to find enterprises); who may KEEP a fund is
`chanrong.funds.permissions`. Amounts in 元.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from chanrong.core.scope import ScopeKind, scope_of


class FundKind(models.TextChoices):
    GUIDANCE = "guidance", _("政府引导基金")
    GOVERNMENT = "government", _("政府投资基金")
    INDUSTRY = "industry", _("产业投资基金")
    VENTURE = "venture", _("创业投资基金")
    PRIVATE_EQUITY = "private_equity", _("私募股权基金")
    ANGEL = "angel", _("天使投资基金")


#: 政府引导基金 / 政府投资基金 (财预〔2015〕210号《政府投资基金暂行管理办法》).
GOVERNMENT_KINDS = (FundKind.GUIDANCE, FundKind.GOVERNMENT)


class FundStage(models.TextChoices):
    SEED = "seed", _("种子期")
    STARTUP = "startup", _("初创期")
    GROWTH = "growth", _("成长期")
    MATURE = "mature", _("成熟期")


#: An enterprise's stage read from its age (whole years since 成立日期), as
#: [lower, upper) bounds; the platform records no stage of its own.
STAGE_YEARS: dict[str, tuple[int, int | None]] = {
    FundStage.SEED: (0, 1),
    FundStage.STARTUP: (1, 3),
    FundStage.GROWTH: (3, 8),
    FundStage.MATURE: (8, None),
}


class FundStatus(models.TextChoices):
    RAISING = "raising", _("募集中")
    INVESTING = "investing", _("投资期")
    EXITING = "exiting", _("退出期")
    CLOSED = "closed", _("已清算")


class FundQuerySet(models.QuerySet):
    def visible_to(self, user) -> FundQuerySet:
        """The fund directory: every signed-in, active user sees every fund's
        basic facts; investments have their own, narrower rule."""
        if scope_of(user).kind == ScopeKind.NONE:
            return self.none()
        return self.all()

    def kept_by(self, user) -> FundQuerySet:
        """Funds the user keeps: its manager's staff, the government of the
        fund's region subtree, platform admins."""
        scope = scope_of(user)
        if scope.kind == ScopeKind.PLATFORM:
            return self.all()
        if scope.kind == ScopeKind.INSTITUTION:
            return self.filter(manager_id=scope.institution_id)
        if scope.kind == ScopeKind.GOVERNMENT:
            return self.filter(region__code__startswith=scope.region_prefix)
        return self.none()

    def active_on(self, day) -> FundQuerySet:
        """Set up by `day` and not wound up by then (清算日 after it)."""
        return self.filter(inception_date__lte=day).filter(
            Q(closed_on__isnull=True) | Q(closed_on__gt=day)
        )


class Fund(models.Model):
    name = models.CharField("基金名称", max_length=100, unique=True)
    kind = models.CharField("基金类型", max_length=16, choices=FundKind.choices)
    target_size = models.DecimalField("目标规模（元）", max_digits=20, decimal_places=2)
    paid_in_size = models.DecimalField("实缴规模（元）", max_digits=20, decimal_places=2)
    manager = models.ForeignKey(
        "finance.FinancialInstitution",
        verbose_name="基金管理人",
        on_delete=models.PROTECT,
        related_name="managed_funds",
    )
    region = models.ForeignKey(
        "core.Region", verbose_name="注册地（投资区域）", on_delete=models.PROTECT, related_name="+"
    )
    #: GB/T 4754 codes (sections such as "C" or divisions such as "C39").
    focus_industries = models.JSONField("重点投资行业", default=list, blank=True)
    #: FundStage values.
    focus_stages = models.JSONField("重点投资阶段", default=list, blank=True)
    ticket_min = models.DecimalField(
        "单笔投资下限（元）", max_digits=20, decimal_places=2, null=True, blank=True
    )
    ticket_max = models.DecimalField(
        "单笔投资上限（元）", max_digits=20, decimal_places=2, null=True, blank=True
    )
    inception_date = models.DateField("成立日期")
    closed_on = models.DateField("清算日期", null=True, blank=True)
    status = models.CharField(
        "状态", max_length=12, choices=FundStatus.choices, default=FundStatus.INVESTING
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = FundQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "产业基金"
        verbose_name_plural = "产业基金"
        constraints = [
            models.CheckConstraint(condition=Q(target_size__gt=0), name="fund_target_positive"),
            models.CheckConstraint(condition=Q(paid_in_size__gte=0), name="fund_paid_in_nonneg"),
            models.CheckConstraint(
                condition=Q(paid_in_size__lte=models.F("target_size")),
                name="fund_paid_in_within_target",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_government(self) -> bool:
        return self.kind in GOVERNMENT_KINDS
