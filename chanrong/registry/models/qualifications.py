"""Qualifications of the 名录库 (see the package docstring)."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .enterprises import Enterprise, FactStatus


class QualificationKind(models.TextChoices):
    # Codes shared with finance.eligibility.QUALIFICATION_LABELS where they overlap.
    SPECIALISED_SME = "specialised_sme", _("专精特新中小企业")
    LITTLE_GIANT = "little_giant", _("专精特新“小巨人”企业")
    HIGH_TECH = "high_tech", _("高新技术企业")
    TECH_SME = "tech_sme", _("科技型中小企业")
    MILITARY_CIVIL = "military_civil", _("军民融合企业")
    GREEN_FACTORY = "green_factory", _("绿色工厂")
    LISTED = "listed", _("上市/挂牌")
    LISTING_RESERVE = "listing_reserve", _("上市后备企业")


class ListingBoard(models.TextChoices):
    MAIN = "main", _("主板")
    CHINEXT = "chinext", _("创业板")
    STAR = "star", _("科创板")
    BSE = "bse", _("北交所")
    NEEQ = "neeq", _("新三板")
    REGIONAL = "regional", _("区域性股权市场")


class QualificationSource(models.TextChoices):
    ENTERPRISE = "enterprise", _("企业自报")
    GOVERNMENT = "government", _("政府认定")
    PLATFORM = "platform", _("平台录入")
    IMPORT = "import", _("官方导入")


class QualificationQuerySet(models.QuerySet):
    def visible_to(self, user) -> QualificationQuerySet:
        return self.filter(enterprise__in=Enterprise.objects.visible_to(user))

    def active_on(self, on: date | None = None) -> QualificationQuerySet:
        """Valid on `on` (default today): valid_from <= on <= valid_until, an
        open end meaning no expiry. Computed in the query, so a qualification
        stops counting on its end date without any job running."""
        day = on or timezone.localdate()
        return self.filter(valid_from__lte=day).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=day)
        )

    def counting(self) -> QualificationQuerySet:
        """Not rejected: verified ones and those declared and waiting."""
        return self.exclude(status=FactStatus.REJECTED)

    def verified(self) -> QualificationQuerySet:
        return self.filter(status=FactStatus.VERIFIED)

    def declared(self) -> QualificationQuerySet:
        return self.filter(status=FactStatus.DECLARED)

    def expired_on(self, on: date | None = None) -> QualificationQuerySet:
        day = on or timezone.localdate()
        return self.filter(valid_until__lt=day)


class Qualification(models.Model):
    """A certificate or status with its issuing body and validity period.

    Rows are never overwritten by a renewal (a renewal is a new row) and never
    deleted; an edit (a typo in the certificate number) is audited with the
    values before and after; revocation ends the validity period early.
    """

    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.CASCADE, related_name="qualifications"
    )
    kind = models.CharField("资质类型", max_length=20, choices=QualificationKind.choices)
    board = models.CharField(
        "上市/挂牌板块", max_length=10, choices=ListingBoard.choices, blank=True
    )
    issuer = models.CharField("认定/发证机构", max_length=100)
    certificate_no = models.CharField("证书/文件编号", max_length=100, blank=True)
    valid_from = models.DateField("生效日期")
    valid_until = models.DateField("有效期至", null=True, blank=True)
    note = models.CharField("备注", max_length=200, blank=True)
    source = models.CharField(
        "来源", max_length=12, choices=QualificationSource.choices, default="government"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Provenance: what an enterprise declares stays declared until the agency
    # of its region verifies it or an official import confirms it.
    status = models.CharField(
        "核验状态", max_length=10, choices=FactStatus.choices, default=FactStatus.VERIFIED
    )
    verified_by = models.ForeignKey(
        "accounts.GovernmentAgency",
        verbose_name="核验机构",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    verified_at = models.DateTimeField("核验时间", null=True, blank=True)
    review_note = models.CharField("核验意见", max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = QualificationQuerySet.as_manager()

    class Meta:
        ordering = ["enterprise", "kind", "-valid_from"]
        verbose_name = "企业资质"
        verbose_name_plural = "企业资质"
        indexes = [
            models.Index(
                fields=["kind", "valid_from", "valid_until"], name="qualification_kind_valid"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="qualification_period_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.enterprise} {self.get_kind_display()}"

    def is_active(self, on: date | None = None) -> bool:
        day = on or timezone.localdate()
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)

    @property
    def is_verified(self) -> bool:
        return self.status == FactStatus.VERIFIED

    @property
    def is_declared(self) -> bool:
        return self.status == FactStatus.DECLARED

    @property
    def label(self) -> str:
        if self.board:
            return f"{self.get_kind_display()}（{self.get_board_display()}）"
        return self.get_kind_display()


# --- projects ----------------------------------------------------------------------
