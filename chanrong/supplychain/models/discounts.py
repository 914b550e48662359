"""A voucher holder's application to discount (part of) a voucher node at a
bank it chose among those it authorised.

The application names an amount up to the node's (the node must still be
held, unsplit, when the bank accepts it); the bank accepts — which records
the discount through the ordinary discount logic, splitting off the part
first — or declines with a reason; the holder may withdraw it while pending.
At most one pending application per node and bank (a partial unique
constraint); applications to different banks may wait side by side, and the
first accepted takes the node (the others then find it no longer held: 409).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from chanrong.core.scope import ScopeKind, scope_of


class DiscountApplicationState(models.TextChoices):
    PENDING = "pending", _("待银行受理")
    ACCEPTED = "accepted", _("已贴现")
    DECLINED = "declined", _("银行已拒绝")
    WITHDRAWN = "withdrawn", _("已撤回")


class DiscountApplicationQuerySet(models.QuerySet):
    def visible_to(self, user) -> DiscountApplicationQuerySet:
        """The applying holder and the chosen bank; an agency those whose
        voucher issuer is in its region's subtree; platform admins all."""
        scope = scope_of(user)
        if scope.kind == ScopeKind.PLATFORM:
            return self.all()
        if scope.kind == ScopeKind.ENTERPRISE:
            return self.filter(holder_id=scope.enterprise_id)
        if scope.kind == ScopeKind.INSTITUTION:
            return self.filter(bank_id=scope.institution_id)
        if scope.kind == ScopeKind.GOVERNMENT:
            return self.filter(voucher__issuer__region__code__startswith=scope.region_prefix)
        return self.none()


class DiscountApplication(models.Model):
    voucher = models.ForeignKey(
        "supplychain.Voucher",
        verbose_name="数字债权凭证",
        on_delete=models.PROTECT,
        related_name="discount_applications",
    )
    holder = models.ForeignKey(
        "registry.Enterprise", verbose_name="申请企业", on_delete=models.PROTECT, related_name="+"
    )
    bank = models.ForeignKey(
        "finance.FinancialInstitution",
        verbose_name="贴现银行",
        on_delete=models.PROTECT,
        related_name="+",
    )
    amount = models.DecimalField("申请贴现金额（元）", max_digits=20, decimal_places=2)
    note = models.CharField("说明", max_length=500, blank=True)
    state = models.CharField(
        "状态",
        max_length=12,
        choices=DiscountApplicationState.choices,
        default=DiscountApplicationState.PENDING,
        db_index=True,
    )
    decline_reason = models.CharField("拒绝理由", max_length=500, blank=True)
    #: The node the bank discounted (the voucher itself, or the part split off).
    discounted = models.ForeignKey(
        "supplychain.Voucher",
        verbose_name="贴现节点",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = DiscountApplicationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "贴现申请"
        verbose_name_plural = "贴现申请"
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="discount_app_amount_positive"),
            models.UniqueConstraint(
                fields=["voucher", "bank"],
                condition=Q(state="pending"),
                name="discount_app_one_pending_per_bank",
            ),
            models.CheckConstraint(
                condition=~Q(state="accepted") | Q(discounted__isnull=False),
                name="discount_app_accepted_names_node",
            ),
        ]
        indexes = [models.Index(fields=["bank", "state"], name="discount_app_bank_state")]

    def __str__(self) -> str:
        return f"{self.voucher_id}@{self.bank_id}"
