"""Models of the green app's library subdomain: the 绿色产业指导目录 (by edition)
and the 绿色融资企业（项目）库 applications.

The catalogue is reference data: an edition (2019年版, a later one) with its
items coded as in the original (1 节能环保产业 → 1.1 高效节能装备制造 →
1.1.1 节能锅炉制造). Editions sit side by side; an application names one
edition's item, so an entry keeps the classification it was approved under
when a newer edition is loaded.

The library itself is the registry's green list (ListType.GREEN): an
application, once approved by the agency keeping that list, is drafted into
the list's next version (`added_in`) and is in the library when that version
is published. Withdrawal or removal is a state of the application (kept, with
its reason) and a "removed" row of the next version (`removed_in`), so the
history stays on both sides.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chanrong.core.scope import ScopeKind, scope_of

__all__ = [
    "CatalogueEdition",
    "CatalogueItem",
    "LibraryApplication",
    "LibraryEvidence",
    "LibraryStatus",
    "OPEN_LIBRARY_STATUSES",
]


class CatalogueEdition(models.Model):
    """One edition of the 绿色产业指导目录, with where it comes from."""

    code = models.CharField("版本代码", max_length=16, unique=True)  # "2019", "2024"
    name = models.CharField("目录名称", max_length=100)
    issuer = models.CharField("发布部门", max_length=200)
    document_no = models.CharField("文号", max_length=60)
    issued_on = models.DateField("发布日期", null=True, blank=True)
    source = models.CharField("来源", max_length=500)
    completeness = models.CharField("收录说明", max_length=500, blank=True)
    loaded_at = models.DateTimeField("载入时间", default=timezone.now)

    class Meta:
        ordering = ["-code"]
        verbose_name = "绿色产业指导目录版本"
        verbose_name_plural = "绿色产业指导目录版本"

    def __str__(self) -> str:
        return self.name


class CatalogueItem(models.Model):
    """A category (level 1, 2) or item (level 3) of one edition."""

    edition = models.ForeignKey(CatalogueEdition, on_delete=models.PROTECT, related_name="items")
    code = models.CharField("编号", max_length=16)
    name = models.CharField("名称", max_length=200)
    level = models.PositiveSmallIntegerField("层级")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    #: The code's numbers zero-padded ("001.010.002"), so 1.1.10 sorts after 1.1.9.
    sort_key = models.CharField(max_length=40)

    class Meta:
        ordering = ["edition", "sort_key"]
        verbose_name = "绿色产业目录条目"
        verbose_name_plural = "绿色产业目录条目"
        constraints = [
            models.UniqueConstraint(fields=["edition", "code"], name="green_item_unique_code")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def top_code(self) -> str:
        return self.code.split(".", 1)[0]


class LibraryStatus(models.TextChoices):
    SUBMITTED = "submitted", _("待审核")
    APPROVED = "approved", _("审核通过")
    REJECTED = "rejected", _("未通过")
    WITHDRAWN = "withdrawn", _("企业撤回")
    REMOVED = "removed", _("已移出")


#: One application at a time per subject and list (the others are history;
#: after a rejection the enterprise applies again, the rejected one stays).
OPEN_LIBRARY_STATUSES = (LibraryStatus.SUBMITTED, LibraryStatus.APPROVED)


class LibraryApplicationQuerySet(models.QuerySet):
    def visible_to(self, user) -> LibraryApplicationQuerySet:
        """The applications themselves (with their evidence and review notes):
        an enterprise sees its own; government those of enterprises in its
        subtree and those made to lists its agency keeps; platform admins all;
        institutions none (they see the published library, `published_to`)."""
        scope = scope_of(user)
        if scope.kind == ScopeKind.PLATFORM:
            return self.all()
        if scope.kind == ScopeKind.ENTERPRISE:
            return self.filter(enterprise_id=scope.enterprise_id)
        if scope.kind == ScopeKind.GOVERNMENT:
            if not scope.region_prefix:
                return self.all()
            return self.filter(
                Q(enterprise__region__code__startswith=scope.region_prefix)
                | Q(green_list__agency_id=scope.agency_id)
            )
        return self.none()

    def published_to(self, user) -> LibraryApplicationQuerySet:
        """The published library as `user` may browse it: approved entries
        whose version is published and in force (started), of lists whose
        published versions the user sees (registry.version_visibility) — and,
        for an enterprise, any list whose region contains its own (a green
        library is public recognition, unlike a 黑名单)."""
        from chanrong.registry.models import Enterprise
        from chanrong.registry.models.lists import _code_prefixes, version_visibility

        today = timezone.localdate()
        base = self.filter(
            status=LibraryStatus.APPROVED,
            added_in__status="published",
            added_in__effective_from__lte=today,
        )
        scope = scope_of(user)
        if scope.kind == ScopeKind.ENTERPRISE:
            region = (
                Enterprise.objects.filter(pk=scope.enterprise_id)
                .values_list("region_id", flat=True)
                .first()
            )
            prefixes = sorted(_code_prefixes(region or ""))
            return base.filter(
                Q(green_list__region__isnull=True) | Q(green_list__region__prefix__in=prefixes)
            )
        return base.filter(version_visibility(user, "added_in__"))


class LibraryApplication(models.Model):
    """An enterprise's application to put itself, or one of its projects, in
    a 绿色融资企业（项目）库 (a registry green list) under a catalogue item."""

    green_list = models.ForeignKey(
        "registry.EnterpriseList",
        verbose_name="绿色融资企业（项目）库",
        on_delete=models.PROTECT,
        related_name="green_applications",
    )
    enterprise = models.ForeignKey(
        "registry.Enterprise", on_delete=models.PROTECT, related_name="green_applications"
    )
    project = models.ForeignKey(
        "registry.Project",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="green_applications",
    )
    item = models.ForeignKey(
        CatalogueItem, verbose_name="目录条目", on_delete=models.PROTECT, related_name="+"
    )
    #: The item's first-level category, kept for grouping (statistics).
    category = models.ForeignKey(
        CatalogueItem, verbose_name="一级分类", on_delete=models.PROTECT, related_name="+"
    )
    description = models.TextField("绿色属性说明", max_length=2000)
    status = models.CharField(
        "状态", max_length=12, choices=LibraryStatus.choices, default=LibraryStatus.SUBMITTED
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField("提交时间", default=timezone.now)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    review_note = models.CharField("审核意见", max_length=500, blank=True)
    closed_reason = models.CharField("撤回/移出原因", max_length=500, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    #: The list version it was drafted into, and the one that took it out.
    added_in = models.ForeignKey(
        "registry.ListVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    removed_in = models.ForeignKey(
        "registry.ListVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = LibraryApplicationQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        verbose_name = "绿色库入库申请"
        verbose_name_plural = "绿色库入库申请"
        constraints = [
            models.UniqueConstraint(
                fields=["green_list", "enterprise"],
                condition=Q(project__isnull=True, status__in=["submitted", "approved"]),
                name="green_app_one_open_enterprise",
            ),
            models.UniqueConstraint(
                fields=["green_list", "project"],
                condition=Q(project__isnull=False, status__in=["submitted", "approved"]),
                name="green_app_one_open_project",
            ),
        ]
        indexes = [models.Index(fields=["green_list", "status"], name="green_app_list_status")]

    def __str__(self) -> str:
        return self.subject_name

    def get_absolute_url(self) -> str:
        return reverse("green:library_detail", args=[self.pk])

    @property
    def subject_name(self) -> str:
        return self.project.name if self.project_id else self.enterprise.name


class LibraryEvidence(models.Model):
    """A document supporting an application, by reference: its name, number
    and date (a 节能评估审查意见, 环评批复, 绿色工厂 公告, 认证证书 …)."""

    application = models.ForeignKey(
        LibraryApplication, on_delete=models.CASCADE, related_name="evidence"
    )
    name = models.CharField("材料名称", max_length=200)
    number = models.CharField("文号/证书编号", max_length=100, blank=True)
    issued_on = models.DateField("日期", null=True, blank=True)

    class Meta:
        ordering = ["application", "pk"]
        verbose_name = "入库佐证材料"
        verbose_name_plural = "入库佐证材料"

    def __str__(self) -> str:
        return self.name
