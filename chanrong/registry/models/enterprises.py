"""Enterprises of the 名录库 (see the package docstring)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from chanrong.core.codes import EnterpriseSize
from chanrong.core.fieldcrypt import EncryptedTextField, KeyedHashField
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


class FactStatus(models.TextChoices):
    """Provenance of a fact the platform relies on (a qualification, the
    enterprise's headcount and figures). Only a verified fact counts as
    passed in eligibility and matching; a declared one reads "需核验"."""

    DECLARED = "declared", _("企业自报，待核验")
    VERIFIED = "verified", _("已核验")
    REJECTED = "rejected", _("核验未通过")


class FactSource(models.TextChoices):
    """Who put a fact on record."""

    ENTERPRISE = "enterprise", _("企业自报")
    GOVERNMENT = "government", _("政府认定")
    PLATFORM = "platform", _("平台录入")
    IMPORT = "import", _("官方导入")


#: Positions 3–8 of a USCC registered by a national authority (国家市场监督管理总局
#: and the like): no province to compare with.
NATIONAL_REGISTRATION_PREFIX = "10"


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

    def with_active_qualification(
        self, kind: str, on: date | None = None, *, verified_only: bool = False
    ) -> EnterpriseQuerySet:
        """Holding a qualification of `kind` that is valid on `on` (default
        today) and not rejected; with `verified_only`, verified ones only."""
        # Qualification refers to Enterprise: looked up through the app
        # registry rather than imported, so the model modules form no cycle.
        Qualification = apps.get_model("registry", "Qualification")  # noqa: N806

        held = Qualification.objects.active_on(on).filter(kind=kind, enterprise_id=OuterRef("pk"))
        held = held.verified() if verified_only else held.counting()
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
        ListEntry = apps.get_model("registry", "ListEntry")  # noqa: N806 (lists refer to Enterprise)
        ListVersion = apps.get_model("registry", "ListVersion")  # noqa: N806

        entries = ListEntry.objects.in_force(on).filter(
            enterprise_id=OuterRef("pk"), project__isnull=True
        )
        if viewer is not None:
            entries = entries.filter(version__in=ListVersion.objects.visible_to(viewer))
        if list_id is not None:
            entries = entries.filter(version__list_id=list_id)
        if list_type:
            entries = entries.filter(version__list__list_type=list_type)
        return self.filter(Exists(entries))

    def region_mismatched(self) -> EnterpriseQuerySet:
        """Whose USCC registration authority (characters 3–4: its province)
        is in another province than the enterprise's region. Computed in the
        query, so a move or a corrected code needs no job to update a flag."""
        from django.db.models.functions import Substr

        return (
            self.annotate(
                _uscc_province=Substr("uscc", 3, 2), _region_province=Substr("region_id", 1, 2)
            )
            .exclude(_uscc_province=models.F("_region_province"))
            .exclude(_uscc_province=NATIONAL_REGISTRATION_PREFIX)
        )

    def figures_to_review(self) -> EnterpriseQuerySet:
        """Declared figures flagged as implausible, waiting for the agency (待复核)."""
        return self.filter(figures_flagged=True, figures_status=FactStatus.DECLARED)

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
    # Personal data, encrypted at rest (core.fieldcrypt) and masked on display
    # (core.masking, registry.services.personal); the *_hash columns are the
    # only way to find a row by phone, e-mail or ID number.
    legal_representative = EncryptedTextField("法定代表人", max_length=50, blank=True)
    legal_rep_id_number = EncryptedTextField("法定代表人身份证号", max_length=18, blank=True)
    legal_rep_id_hash = KeyedHashField(source="legal_rep_id_number", purpose="id_number")
    contact_name = EncryptedTextField("联系人", max_length=50, blank=True)
    contact_phone = EncryptedTextField("联系电话", max_length=30, blank=True)
    contact_phone_hash = KeyedHashField(source="contact_phone", purpose="phone")
    contact_email = EncryptedTextField("电子邮箱", max_length=254, blank=True)
    contact_email_hash = KeyedHashField(source="contact_email", purpose="email")
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
    # --- provenance of employees / revenue / assets (one status for the three:
    # they are declared and verified together, from the same annual report) --
    figures_status = models.CharField(
        "规模数据核验状态",
        max_length=10,
        choices=FactStatus.choices,
        default=FactStatus.VERIFIED,
        db_index=True,
    )
    figures_source = models.CharField(
        "规模数据来源", max_length=12, choices=FactSource.choices, default=FactSource.GOVERNMENT
    )
    figures_verified_by = models.ForeignKey(
        "accounts.GovernmentAgency",
        verbose_name="规模数据核验机构",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    figures_verified_at = models.DateTimeField("规模数据核验时间", null=True, blank=True)
    #: Plausibility findings on the declared figures, one Chinese sentence a
    #: line; the agency reviews them (待复核). Stored, never refused. Text, not
    #: JSON: the bulk import writes every column through unnest() arrays.
    figures_flags = models.TextField("规模数据待复核事项", blank=True)
    figures_flagged = models.BooleanField("规模数据待复核", default=False, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EnterpriseQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "企业"
        verbose_name_plural = "企业"
        permissions = [("unmask_personal", "查看企业联系人等个人信息的完整内容")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("registry:detail", args=[self.pk])

    @property
    def uscc_region_code(self) -> str:
        """Characters 3–8 of the USCC: the registration authority's region."""
        return self.uscc[2:8] if self.uscc and len(self.uscc) >= 8 else ""

    @property
    def region_mismatch(self) -> bool:
        """The USCC was issued in another province than the enterprise's
        region (注册地与统一社会信用代码登记机关不一致). Only the province is
        compared: a move between counties or a registration by the city's
        market regulator (330400 for an enterprise in 330421) is ordinary."""
        code = self.uscc_region_code
        if len(code) != 6 or not code.isdigit() or not self.region_id:
            return False
        if code.startswith(NATIONAL_REGISTRATION_PREFIX):
            return False
        return code[:2] != str(self.region_id)[:2]

    @property
    def figures_verified(self) -> bool:
        return self.figures_status == FactStatus.VERIFIED

    @property
    def figure_flag_list(self) -> list[str]:
        return [line for line in (self.figures_flags or "").splitlines() if line]

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
