"""Enterprises (the 名录库's core) and the authorisations they give institutions."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q

from chanrong.accounts.scope import ScopeKind, scope_of


class EnterpriseSize(models.TextChoices):
    LARGE = "large", "大型"
    MEDIUM = "medium", "中型"
    SMALL = "small", "小型"
    MICRO = "micro", "微型"


class EnterpriseQuerySet(models.QuerySet):
    def visible_to(self, user) -> EnterpriseQuerySet:
        """An enterprise sees itself; an institution sees the enterprises that
        authorised it; government sees its region's subtree; platform admins
        see all; anyone else sees nothing."""
        scope = scope_of(user)
        if scope.kind == ScopeKind.PLATFORM:
            return self.all()
        if scope.kind == ScopeKind.ENTERPRISE:
            return self.filter(pk=scope.enterprise_id)
        if scope.kind == ScopeKind.INSTITUTION:
            return self.filter(
                pk__in=DataAuthorisation.objects.filter(
                    institution_id=scope.institution_id, revoked_at__isnull=True
                ).values("enterprise_id")
            )
        if scope.kind == ScopeKind.GOVERNMENT:
            if not scope.region_prefix:
                return self.all()
            return self.filter(region__code__startswith=scope.region_prefix)
        return self.none()


class Enterprise(models.Model):
    """An enterprise. Amounts are stored in 元; `size` is computed (see services)."""

    uscc = models.CharField("统一社会信用代码", max_length=18, unique=True)
    name = models.CharField("企业名称", max_length=100, db_index=True)
    region = models.ForeignKey(
        "core.Region", verbose_name="所在地区", on_delete=models.PROTECT, related_name="+"
    )
    industry = models.ForeignKey(
        "core.Industry", verbose_name="所属行业", on_delete=models.PROTECT, related_name="+"
    )
    employees = models.PositiveIntegerField("从业人员（人）", null=True, blank=True)
    revenue = models.DecimalField(
        "营业收入（元）", max_digits=20, decimal_places=2, null=True, blank=True
    )
    assets = models.DecimalField(
        "资产总额（元）", max_digits=20, decimal_places=2, null=True, blank=True
    )
    size = models.CharField(
        "企业规模", max_length=8, choices=EnterpriseSize.choices, blank=True, db_index=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EnterpriseQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "企业"
        verbose_name_plural = "企业"

    def __str__(self) -> str:
        return self.name

    @property
    def revenue_wan(self) -> Decimal | None:
        return None if self.revenue is None else self.revenue / Decimal(10000)

    @property
    def assets_wan(self) -> Decimal | None:
        return None if self.assets is None else self.assets / Decimal(10000)


class DataAuthorisation(models.Model):
    """An enterprise lets one institution see its profile data; revocable.

    Revocation keeps the row (revoked_at), so the record of who could see
    what, and when, survives.
    """

    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.CASCADE, related_name="authorisations"
    )
    institution = models.ForeignKey(
        "finance.FinancialInstitution", on_delete=models.CASCADE, related_name="+"
    )
    granted_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "数据授权"
        verbose_name_plural = "数据授权"
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "institution"],
                condition=Q(revoked_at__isnull=True),
                name="one_active_authorisation",
            )
        ]

    def __str__(self) -> str:
        return f"{self.enterprise} → {self.institution}"
