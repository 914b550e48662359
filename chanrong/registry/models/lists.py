"""Lists of the 名录库 (see the package docstring)."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from chanrong.core.errors import Conflict
from chanrong.core.scope import ScopeKind, scope_of

from .enterprises import Enterprise
from .projects import Project


class ListType(models.TextChoices):
    KEY_ENTERPRISES = "key_enterprises", _("重点企业白名单")
    KEY_PROJECTS = "key_projects", _("重点项目白名单")
    FINANCING_KEY = "financing_key", _("融资信息清单（重点企业和项目）")
    FINANCING_MILITARY_CIVIL = "financing_military_civil", _("融资信息清单（军民融合）")
    FINANCING_TECH_SME = "financing_tech_sme", _("融资信息清单（科技型中小企业）")
    RED = "red", _("金融守信红名单")
    BLACK = "black", _("失信黑名单")
    GREEN = "green", _("绿色融资企业（项目）库")
    LISTING_RESERVE = "listing_reserve", _("上市后备库")
    CHAIN_SME = "chain_sme", _("产业链中小企业名单")
    RECEIVABLES_CORE = "receivables_core", _("应收账款核心企业名单")


#: What each type of list holds: enterprises, projects, or both.
LIST_SUBJECTS: dict[str, frozenset[str]] = {
    ListType.KEY_PROJECTS: frozenset({"project"}),
    ListType.FINANCING_KEY: frozenset({"enterprise", "project"}),
    ListType.GREEN: frozenset({"enterprise", "project"}),
}
DEFAULT_SUBJECTS = frozenset({"enterprise"})


class ListSector(models.TextChoices):
    """What a white list is for, where an agency keeps several (嘉善: 科创, 制造业)."""

    GENERAL = "", _("综合")
    MANUFACTURING = "manufacturing", _("制造业")
    TECH_INNOVATION = "tech_innovation", _("科技创新")


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("待审批")
    REJECTED = "rejected", _("已退回")
    PUBLISHED = "published", _("已发布")


OPEN_STATUSES = (VersionStatus.DRAFT, VersionStatus.SUBMITTED, VersionStatus.REJECTED)


def _code_prefixes(code: str) -> set[str]:
    """Every prefix of a region code: a list whose region's `prefix` is one of
    them contains that region (no parent walk needed)."""
    return {code[:n] for n in range(1, len(code) + 1)}


def version_visibility(user, path: str = "") -> Q:
    """Which list versions `user` sees, as a Q over ListVersion reached by `path`
    ("" from ListVersion, "version__" from ListEntry). The one rule of the
    lists family:

    - platform admins: everything;
    - government: every version (drafts too) of lists whose region is in its
      subtree or that its own agency keeps, and the published versions of
      lists above it (its province's, the national ones);
    - institutions: published versions of lists whose region contains one of
      the institution's regions (its branches' and its head office's) or lies
      inside one of them; national lists (no region) contain every region;
    - enterprises: published versions that name them (or their projects);
    - anyone else: nothing.
    """
    scope = scope_of(user)
    none = Q(pk__in=[])
    published = Q(**{f"{path}status": VersionStatus.PUBLISHED})
    region = f"{path}list__region"
    if scope.kind == ScopeKind.PLATFORM:
        return Q()
    if scope.kind == ScopeKind.GOVERNMENT:
        if not scope.region_prefix:
            return Q()
        own = Q(**{f"{region}__code__startswith": scope.region_prefix}) | Q(
            **{f"{path}list__agency_id": scope.agency_id}
        )
        above = Q(**{f"{region}__isnull": True}) | Q(
            **{f"{region}__prefix__in": sorted(_code_prefixes(user.agency.region_id))}
        )
        return own | (published & above)
    if scope.kind == ScopeKind.INSTITUTION:
        # Through the user's own institution (a relation accounts declares), so
        # the registry needs no import of the finance app above it.
        institution = user.institution
        places = set(institution.branches.values_list("region__code", "region__prefix"))
        if institution.region_id:
            places.add((institution.region.code, institution.region.prefix))
        if not places:
            return none
        containing: set[str] = set()
        inside = Q(**{f"{region}__isnull": True})
        for code, prefix in sorted(places):
            containing |= _code_prefixes(code)
            inside |= Q(**{f"{region}__code__startswith": prefix})
        return published & (inside | Q(**{f"{region}__prefix__in": sorted(containing)}))
    if scope.kind == ScopeKind.ENTERPRISE:
        named = ListEntry.objects.filter(enterprise_id=scope.enterprise_id).values("version_id")
        return published & Q(**{f"{path}pk__in": named})
    return none


def no_entries() -> list:
    """Default of ListVersion.unmatched (`list` is a field name in that class)."""
    return []


def provenance_text(source: str, number: int, day: date | None) -> str:
    """The provenance of a received list version, as appended to what it decides."""
    return str(
        _("（来源：%(source)s，第%(n)s版，%(day)s）")
        % {"source": source, "n": number, "day": day.isoformat() if day else ""}
    )


def received_label(source: str, list_type: str, name: str, number: int, day) -> str:
    """E.g. 浙江省产融合作平台推送的失信黑名单“…”（来源：…，第3版，2026-11-02）."""
    return str(
        _("%(source)s推送的%(type)s“%(name)s”%(provenance)s")
        % {
            "source": source,
            "type": ListType(list_type).label,
            "name": name,
            "provenance": provenance_text(source, number, day),
        }
    )


class EnterpriseListQuerySet(models.QuerySet):
    def visible_to(self, user) -> EnterpriseListQuerySet:
        """A list is visible when one of its versions is (see
        version_visibility), or, for government, when it is in its subtree or
        its own agency's (a new list has no version yet)."""
        scope = scope_of(user)
        if scope.kind == ScopeKind.PLATFORM or (
            scope.kind == ScopeKind.GOVERNMENT and not scope.region_prefix
        ):
            return self.all()
        versions = ListVersion.objects.filter(version_visibility(user)).filter(
            list_id=OuterRef("pk")
        )
        condition = Q(Exists(versions))
        if scope.kind == ScopeKind.GOVERNMENT:
            condition |= Q(region__code__startswith=scope.region_prefix) | Q(
                agency_id=scope.agency_id
            )
        return self.filter(condition)


class EnterpriseList(models.Model):
    """A named list kept by one agency for one region (null: nationwide)."""

    list_type = models.CharField("名单类型", max_length=32, choices=ListType.choices)
    sector = models.CharField(
        "适用领域", max_length=20, choices=ListSector.choices, blank=True, default=""
    )
    name = models.CharField("名单名称", max_length=100)
    agency = models.ForeignKey(
        "accounts.GovernmentAgency",
        verbose_name="维护部门",
        on_delete=models.PROTECT,
        related_name="enterprise_lists",
    )
    region = models.ForeignKey(
        "core.Region",
        verbose_name="适用地区",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    description = models.CharField("说明", max_length=500, blank=True)
    # A list received from another deployment (issue 19 part 2): the source
    # platform's name and a key naming the list there ("<deployment id>/<type>/
    # <region>/<name>"); empty for the lists kept here. Plain fields, so the
    # registry needs nothing of the exchange app that fills them.
    source_deployment = models.CharField("来源平台", max_length=100, blank=True)
    source_ref = models.CharField(max_length=200, blank=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = EnterpriseListQuerySet.as_manager()

    class Meta:
        ordering = ["list_type", "name", "pk"]
        verbose_name = "名单"
        verbose_name_plural = "名单"
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="list_unique_name_per_agency")
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("lists:detail", args=[self.pk])

    @property
    def is_received(self) -> bool:
        return bool(self.source_ref)

    @property
    def subjects(self) -> frozenset[str]:
        return LIST_SUBJECTS.get(self.list_type, DEFAULT_SUBJECTS)


class ListVersionQuerySet(models.QuerySet):
    def visible_to(self, user) -> ListVersionQuerySet:
        return self.filter(version_visibility(user))

    def in_force(self, on: date | None = None) -> ListVersionQuerySet:
        day = on or timezone.localdate()
        return self.filter(
            Q(status=VersionStatus.PUBLISHED, effective_from__lte=day)
            & (Q(effective_until__isnull=True) | Q(effective_until__gte=day))
        )


class ListVersion(models.Model):
    """One version of a list: its full membership, not a delta.

    A published version is frozen (only `effective_until` is set, once, when
    the next version takes over), so what a bank relied on can always be
    shown as it was. It is in force from `effective_from` until the day
    before its successor's `effective_from`.
    """

    list = models.ForeignKey(EnterpriseList, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField("版本号")
    status = models.CharField(
        "状态", max_length=12, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    note = models.CharField("调整说明", max_length=500, blank=True)
    effective_from = models.DateField("生效日期", null=True, blank=True)
    effective_until = models.DateField("失效日期", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField("审批意见", max_length=500, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    # Of a received version: the source's own version number, the batch it
    # came in, and the entries naming enterprises not in this registry
    # ([{uscc, name}], kept so that nothing received is silently dropped).
    source_number = models.PositiveIntegerField("来源版本号", null=True, blank=True)
    source_batch = models.CharField("来源批次", max_length=64, blank=True)
    unmatched = models.JSONField("未匹配的成员", default=no_entries, blank=True)

    objects = ListVersionQuerySet.as_manager()

    # What may never change once published.
    FROZEN_FIELDS = (
        "list_id",
        "number",
        "status",
        "note",
        "effective_from",
        "approved_by_id",
        "published_at",
    )

    class Meta:
        ordering = ["list", "-number"]
        verbose_name = "名单版本"
        verbose_name_plural = "名单版本"
        constraints = [
            models.UniqueConstraint(fields=["list", "number"], name="list_version_unique_number"),
            # At most one version being prepared at a time.
            models.UniqueConstraint(
                fields=["list"],
                condition=Q(status__in=["draft", "submitted", "rejected"]),
                name="list_one_open_version",
            ),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(effective_from__isnull=False),
                name="list_version_published_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.list} 第 {self.number} 版"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values(*self.FROZEN_FIELDS).first()
            if stored and stored["status"] == VersionStatus.PUBLISHED:
                changed = [f for f in self.FROZEN_FIELDS if getattr(self, f) != stored[f]]
                if changed:
                    raise ImmutableVersion()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.status == VersionStatus.PUBLISHED:
            raise ImmutableVersion()
        return super().delete(*args, **kwargs)

    @property
    def provenance(self) -> str:
        """E.g. （来源：浙江省产融合作平台，第3版，2026-11-02） for a received
        version, "" for one kept here: appended wherever the version decides
        something (eligibility, matching, badges)."""
        if not self.list.source_ref:
            return ""
        return provenance_text(
            self.list.source_deployment, self.source_number or self.number, self.effective_from
        )

    @property
    def is_published(self) -> bool:
        return self.status == VersionStatus.PUBLISHED

    def in_force_on(self, on: date | None = None) -> bool:
        day = on or timezone.localdate()
        return (
            self.is_published
            and self.effective_from is not None
            and self.effective_from <= day
            and (self.effective_until is None or day <= self.effective_until)
        )


class ImmutableVersion(Conflict):
    def __init__(self):
        super().__init__(
            "已发布的名单版本不可修改；请新建一个版本进行调整", code="version_published"
        )


class EntryChange(models.TextChoices):
    ADDED = "added", _("新增")
    KEPT = "kept", _("保留")
    REMOVED = "removed", pgettext_lazy("list entry change", "移出")


class ListEntryQuerySet(models.QuerySet):
    def visible_to(self, user) -> ListEntryQuerySet:
        """Entries of the versions `user` sees; an enterprise sees only its own
        entries (not who else is on a 黑名单 with it)."""
        queryset = self.filter(version_visibility(user, "version__"))
        scope = scope_of(user)
        if scope.kind == ScopeKind.ENTERPRISE:
            queryset = queryset.filter(enterprise_id=scope.enterprise_id)
        return queryset

    def members(self) -> ListEntryQuerySet:
        return self.exclude(change=EntryChange.REMOVED)

    def in_force(self, on: date | None = None) -> ListEntryQuerySet:
        """Members of the versions in force on `on` (default today)."""
        day = on or timezone.localdate()
        return self.members().filter(
            Q(version__status=VersionStatus.PUBLISHED, version__effective_from__lte=day)
            & (Q(version__effective_until__isnull=True) | Q(version__effective_until__gte=day))
        )

    def before(self, on: date | None = None) -> ListEntryQuerySet:
        """Members of versions whose time ended before `on` (versions replaced
        on the day they took effect were never in force and are left out)."""
        day = on or timezone.localdate()
        return self.members().filter(
            version__status=VersionStatus.PUBLISHED,
            version__effective_until__lt=day,
            version__effective_until__gte=models.F("version__effective_from"),
        )


class ListEntry(models.Model):
    """One member of one version: an enterprise, or a project (with its owner
    enterprise, so "which lists is this enterprise on" is one query).

    `change` says how the version differs from the one it was drafted from:
    added (with the reason), kept, or removed (kept as a row with the reason,
    but not a member).
    """

    version = models.ForeignKey(ListVersion, on_delete=models.CASCADE, related_name="entries")
    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.PROTECT, related_name="list_entries"
    )
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.PROTECT, related_name="list_entries"
    )
    change = models.CharField("变动", max_length=8, choices=EntryChange.choices)
    reason = models.CharField("理由", max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ListEntryQuerySet.as_manager()

    class Meta:
        ordering = ["version", "pk"]
        verbose_name = "名单成员"
        verbose_name_plural = "名单成员"
        constraints = [
            models.UniqueConstraint(
                fields=["version", "enterprise"],
                condition=Q(project__isnull=True),
                name="list_entry_unique_enterprise",
            ),
            models.UniqueConstraint(
                fields=["version", "project"],
                condition=Q(project__isnull=False),
                name="list_entry_unique_project",
            ),
        ]
        indexes = [models.Index(fields=["enterprise", "version"], name="list_entry_enterprise")]

    def __str__(self) -> str:
        return str(self.project or self.enterprise)

    def save(self, *args, **kwargs):
        self._check_open()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._check_open()
        return super().delete(*args, **kwargs)

    def _check_open(self) -> None:
        status = ListVersion.objects.filter(pk=self.version_id).values_list("status", flat=True)
        if status.first() != VersionStatus.DRAFT:
            raise ImmutableVersion()


# --- operating data (工业运行数据) -----------------------------------------------------
