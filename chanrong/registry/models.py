"""The 名录库: enterprises and their profiles, tax credit grades, qualifications,
projects, versioned lists (白名单 / 红名单 / 黑名单 …) and operating data.

Visibility is one `visible_to(user)` per family: enterprises (and what hangs
off them: grades, qualifications, operating data), projects, and lists
(lists, versions, entries). Business rules live in `services`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from chanrong.core.codes import EnterpriseSize
from chanrong.core.errors import Conflict
from chanrong.core.scope import ScopeKind, scope_of


class StrategicEmergingCategory(models.TextChoices):
    """The nine first-level categories of 战略性新兴产业分类（2018）."""

    NEXT_GENERATION_IT = "1", _("新一代信息技术产业")
    HIGH_END_EQUIPMENT = "2", _("高端装备制造产业")
    NEW_MATERIALS = "3", _("新材料产业")
    BIOTECHNOLOGY = "4", _("生物产业")
    NEW_ENERGY_VEHICLES = "5", _("新能源汽车产业")
    NEW_ENERGY = "6", _("新能源产业")
    ENERGY_SAVING = "7", _("节能环保产业")
    DIGITAL_CREATIVE = "8", _("数字创意产业")
    RELATED_SERVICES = "9", _("相关服务业")


class ChongqingClass(models.TextChoices):
    """重庆's "三类企业" (seed 001): the enterprises its 银企对接清单名录库 collects."""

    MARKET = "market", _("有市场、有项目、有自主技术支撑、有发展前景的企业")
    STRATEGIC = "strategic", _("符合“中国制造2025”和战略性新兴产业发展方向的企业")
    SPECIALISED = "specialised", _("“双创”领域“专精特新”企业")


class TaxGrade(models.TextChoices):
    """纳税信用等级, best first; M (新设立企业) ranks between B and C."""

    A = "A", _("A 级")
    B = "B", _("B 级")
    M = "M", _("M 级")
    C = "C", _("C 级")
    D = "D", _("D 级")


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

    # --- registry filters (web list and API alike); they narrow, never widen

    def with_active_qualification(self, kind: str, on: date | None = None) -> EnterpriseQuerySet:
        """Holding a qualification of `kind` that is valid on `on` (default today)."""
        held = Qualification.objects.active_on(on).filter(kind=kind, enterprise_id=OuterRef("pk"))
        return self.filter(Exists(held))

    def on_list(
        self,
        *,
        list_id: int | None = None,
        list_type: str | None = None,
        on: date | None = None,
        viewer=None,
    ) -> EnterpriseQuerySet:
        """A member (itself, not only through a project) of the version of a
        list that is in force on `on` (default today). With `viewer`, only
        the lists that user may see count."""
        entries = ListEntry.objects.in_force(on).filter(
            enterprise_id=OuterRef("pk"), project__isnull=True
        )
        if viewer is not None:
            entries = entries.filter(version_visibility(viewer, "version__"))
        if list_id is not None:
            entries = entries.filter(version__list_id=list_id)
        if list_type:
            entries = entries.filter(version__list__list_type=list_type)
        return self.filter(Exists(entries))

    def with_tax_grade(self, grades: list[str] | tuple[str, ...] | str) -> EnterpriseQuerySet:
        """Whose latest tax credit grade is one of `grades`."""
        if isinstance(grades, str):
            grades = [grades]
        return self.filter(tax_grade__in=list(grades))


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
    # --- profile (企业档案) ------------------------------------------------
    founded_on = models.DateField("成立日期", null=True, blank=True)
    registered_capital = models.DecimalField(
        "注册资本（元）", max_digits=20, decimal_places=2, null=True, blank=True
    )
    legal_representative = models.CharField("法定代表人", max_length=50, blank=True)
    contact_name = models.CharField("联系人", max_length=50, blank=True)
    contact_phone = models.CharField("联系电话", max_length=30, blank=True)
    contact_email = models.EmailField("电子邮箱", max_length=254, blank=True)
    address = models.CharField("地址", max_length=200, blank=True)
    main_products = models.CharField("主要产品", max_length=500, blank=True)
    rd_expense = models.DecimalField(
        "上年度研发费用（元）", max_digits=20, decimal_places=2, null=True, blank=True
    )
    # None = not known (never read as "no"): eligibility asks for unknown facts.
    is_above_scale = models.BooleanField("规模以上工业企业", null=True, blank=True)
    strategic_emerging_category = models.CharField(
        "战略性新兴产业类别",
        max_length=2,
        choices=StrategicEmergingCategory.choices,
        blank=True,
    )
    chongqing_class = models.CharField(
        "三类企业", max_length=16, choices=ChongqingClass.choices, blank=True
    )
    # The grade of the latest year in TaxCreditGrade, kept in step by
    # services.set_tax_grade so "latest grade is A" is an indexed filter at a
    # million enterprises instead of a correlated subquery.
    tax_grade = models.CharField(
        "纳税信用等级（最近年度）",
        max_length=1,
        choices=TaxGrade.choices,
        blank=True,
        db_index=True,
    )
    tax_grade_year = models.PositiveSmallIntegerField("纳税信用评价年度", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EnterpriseQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "企业"
        verbose_name_plural = "企业"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("registry:detail", args=[self.pk])

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


# --- tax credit grades and qualifications ------------------------------------------


class TaxCreditGrade(models.Model):
    """One year's 纳税信用等级. One row per enterprise and year, so the years
    are the history; a correction of a year's grade is audited (before/after)."""

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="tax_grades")
    year = models.PositiveSmallIntegerField("评价年度")
    grade = models.CharField("纳税信用等级", max_length=1, choices=TaxGrade.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["enterprise", "-year"]
        verbose_name = "纳税信用等级"
        verbose_name_plural = "纳税信用等级"
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "year"], name="one_tax_grade_per_year")
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.grade}"


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
    def label(self) -> str:
        if self.board:
            return f"{self.get_kind_display()}（{self.get_board_display()}）"
        return self.get_kind_display()


# --- projects ----------------------------------------------------------------------


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


class PeriodType(models.TextChoices):
    MONTH = "month", _("月度")
    QUARTER = "quarter", _("季度")


class ReviewStatus(models.TextChoices):
    OK = "ok", _("正常")
    FLAGGED = "flagged", _("待核实")
    CONFIRMED = "confirmed", _("已核实")


class OperatingRecordQuerySet(models.QuerySet):
    def visible_to(self, user) -> OperatingRecordQuerySet:
        return self.filter(enterprise__in=Enterprise.objects.visible_to(user))


class OperatingRecord(models.Model):
    """One month's or quarter's figures for one enterprise. Amounts in 元.

    Implausible figures are kept and flagged (`flags`: [{"field", "reason"}])
    for a government reviewer to confirm or correct; see
    services.plausibility_flags.
    """

    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.CASCADE, related_name="operating_records"
    )
    period_type = models.CharField("周期", max_length=8, choices=PeriodType.choices)
    period_start = models.DateField("期初日期")
    output_value = models.DecimalField(
        "工业总产值（元）", max_digits=20, decimal_places=2, null=True, blank=True
    )
    revenue = models.DecimalField(
        "营业收入（元）", max_digits=20, decimal_places=2, null=True, blank=True
    )
    profit = models.DecimalField(
        "利润总额（元）", max_digits=20, decimal_places=2, null=True, blank=True
    )
    tax_paid = models.DecimalField(
        "实缴税金（元）", max_digits=20, decimal_places=2, null=True, blank=True
    )
    employees = models.IntegerField("从业人员（人）", null=True, blank=True)
    electricity_kwh = models.DecimalField(
        "用电量（千瓦时）", max_digits=20, decimal_places=2, null=True, blank=True
    )
    flags = models.JSONField("异常提示", default=list, blank=True)
    review_status = models.CharField(
        "核实状态", max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.OK
    )
    review_note = models.CharField("核实意见", max_length=500, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OperatingRecordQuerySet.as_manager()

    class Meta:
        ordering = ["enterprise", "period_type", "period_start"]
        verbose_name = "经营数据"
        verbose_name_plural = "经营数据"
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "period_type", "period_start"],
                name="operating_record_one_per_period",
            )
        ]
        indexes = [models.Index(fields=["review_status"], name="operating_review_status")]

    def __str__(self) -> str:
        return f"{self.enterprise} {self.period_label}"

    @property
    def period_label(self) -> str:
        year, month = self.period_start.year, self.period_start.month
        if self.period_type == PeriodType.QUARTER:
            return gettext("%(year)s年第%(quarter)s季度") % {
                "year": year,
                "quarter": (month - 1) // 3 + 1,
            }
        return gettext("%(year)s年%(month)s月") % {"year": year, "month": month}

    @property
    def period_code(self) -> str:
        if self.period_type == PeriodType.QUARTER:
            return f"{self.period_start.year}Q{(self.period_start.month - 1) // 3 + 1}"
        return f"{self.period_start.year}-{self.period_start.month:02d}"
