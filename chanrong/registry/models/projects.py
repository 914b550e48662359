"""Projects of the 名录库 (see the package docstring)."""

from __future__ import annotations

from django.apps import apps
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from chanrong.core.scope import ScopeKind, scope_of

from .enterprises import DataAuthorisation, Enterprise


class ProjectKind(models.TextChoices):
    TECH_UPGRADE = "tech_upgrade", _("技术改造")
    NEW = "new", _("新建")
    EXPANSION = "expansion", _("扩建")
    RESEARCH = "research", _("研发")
    OTHER = "other", _("其他")


class ProjectClass(models.TextChoices):
    """重庆's "五类项目" (seed 001)."""

    MADE_IN_CHINA_2025 = "made_in_china_2025", _("符合“中国制造2025”的项目")
    INTEGRATION = "integration", _("两化融合项目")
    UPGRADING = "upgrading", _("传统产业转型升级项目")
    DEMONSTRATION_BASE = "demonstration_base", _("新型工业化示范基地项目")
    GOING_GLOBAL = "going_global", _("企业“走出去”项目")


class ProjectStage(models.TextChoices):
    PLANNING = "planning", _("谋划储备")
    PREPARATION = "preparation", _("前期准备")
    CONSTRUCTION = "construction", _("在建")
    COMPLETED = "completed", _("建成投产")


class ProjectQuerySet(models.QuerySet):
    def visible_to(self, user) -> ProjectQuerySet:
        """An enterprise sees its own projects; government the projects located
        in, or owned by an enterprise in, its region's subtree; an institution
        the projects of enterprises that authorised it and the projects on the
        published list versions it sees; platform admins all."""
        scope = scope_of(user)
        if scope.kind == ScopeKind.PLATFORM:
            return self.all()
        if scope.kind == ScopeKind.ENTERPRISE:
            return self.filter(owner_id=scope.enterprise_id)
        if scope.kind == ScopeKind.GOVERNMENT:
            if not scope.region_prefix:
                return self.all()
            return self.filter(
                Q(region__code__startswith=scope.region_prefix)
                | Q(owner__region__code__startswith=scope.region_prefix)
            )
        if scope.kind == ScopeKind.INSTITUTION:
            ListEntry = apps.get_model("registry", "ListEntry")  # noqa: N806 (lists refer to Project)

            authorised = DataAuthorisation.objects.filter(
                institution_id=scope.institution_id, revoked_at__isnull=True
            ).values("enterprise_id")
            listed = (
                ListEntry.objects.visible_to(user)
                .filter(project__isnull=False)
                .values("project_id")
            )
            return self.filter(Q(owner_id__in=authorised) | Q(pk__in=listed))
        return self.none()


class Project(models.Model):
    """A 重点项目 of one enterprise. Amounts in 元."""

    owner = models.ForeignKey(
        Enterprise, verbose_name="项目单位", on_delete=models.PROTECT, related_name="projects"
    )
    name = models.CharField("项目名称", max_length=100)
    kind = models.CharField("项目类型", max_length=16, choices=ProjectKind.choices)
    project_class = models.CharField(
        "五类项目", max_length=20, choices=ProjectClass.choices, blank=True
    )
    total_investment = models.DecimalField("总投资（元）", max_digits=20, decimal_places=2)
    financing_need = models.DecimalField(
        "融资需求（元）", max_digits=20, decimal_places=2, null=True, blank=True
    )
    stage = models.CharField("项目阶段", max_length=16, choices=ProjectStage.choices)
    region = models.ForeignKey(
        "core.Region", verbose_name="建设地点", on_delete=models.PROTECT, related_name="+"
    )
    start_year = models.PositiveSmallIntegerField("开工年份", null=True, blank=True)
    description = models.CharField("建设内容", max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = "重点项目"
        verbose_name_plural = "重点项目"
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="project_unique_name_per_owner"),
            models.CheckConstraint(
                condition=Q(financing_need__isnull=True)
                | Q(financing_need__lte=models.F("total_investment")),
                name="project_financing_within_investment",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("projects:detail", args=[self.pk])


# --- versioned lists -----------------------------------------------------------------
