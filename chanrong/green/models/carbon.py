"""Models of the green app's carbon subdomain: the emission-factor database
(every factor with its source and year), enterprises' carbon reports (one per
enterprise and year, or year and month) with their lines, the 碳效 grades
computed from them and the benchmarks an administrator may configure per
industry.

What may be reported, in which units, is `chanrong.green.services.carbon_items`
(code, not data: the engine and the forms rely on each item's meaning); the
factors those items use are data, shipped in `chanrong/green/data/` and
extended by platform admins with newer years.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

#: 44/12, the mass ratio of CO2 to C (GB/T 32150-2015 formula (3)).
CO2_PER_C = Decimal(44) / Decimal(12)


class FactorCategory(models.TextChoices):
    FUEL = "fuel", _("化石燃料燃烧")
    PROCESS = "process", _("工业生产过程")
    ELECTRICITY = "electricity", _("外购电力")
    HEAT = "heat", _("外购热力")


class EmissionFactorQuerySet(models.QuerySet):
    def national(self) -> EmissionFactorQuerySet:
        return self.filter(region__isnull=True)


class EmissionFactor(models.Model):
    """One factor of one year. A fuel's factor is its 低位发热量 (GJ per unit)
    × 单位热值含碳量 (tC/GJ) × 碳氧化率 × 44/12; electricity, heat and
    process factors are given directly in t CO2 per unit. `source` is
    required (a factor nobody can trace is refused by the service)."""

    code = models.CharField("品种代码", max_length=32, db_index=True)
    name = models.CharField("名称", max_length=50)
    category = models.CharField("类别", max_length=12, choices=FactorCategory.choices)
    unit = models.CharField("计量单位", max_length=16)
    year = models.PositiveSmallIntegerField("适用年度")
    region = models.ForeignKey(
        "core.Region",
        verbose_name="适用地区（空为全国）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    ncv = models.DecimalField(
        "低位发热量（GJ/单位）", max_digits=12, decimal_places=4, null=True, blank=True
    )
    carbon_content = models.DecimalField(
        "单位热值含碳量（tC/GJ）", max_digits=12, decimal_places=6, null=True, blank=True
    )
    oxidation = models.DecimalField(
        "碳氧化率", max_digits=6, decimal_places=4, null=True, blank=True
    )
    factor = models.DecimalField(
        "排放因子（tCO2/单位）", max_digits=12, decimal_places=6, null=True, blank=True
    )
    source = models.TextField("来源")
    note = models.CharField("说明", max_length=300, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = EmissionFactorQuerySet.as_manager()

    class Meta:
        ordering = ["category", "code", "-year"]
        verbose_name = "排放因子"
        verbose_name_plural = "排放因子"
        constraints = [
            models.UniqueConstraint(
                fields=["code", "year"],
                condition=Q(region__isnull=True),
                name="green_factor_one_national_per_year",
            ),
            models.UniqueConstraint(
                fields=["code", "year", "region"],
                condition=Q(region__isnull=False),
                name="green_factor_one_regional_per_year",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.year}"

    @property
    def is_fuel(self) -> bool:
        return self.category == FactorCategory.FUEL

    @property
    def co2_per_unit(self) -> Decimal:
        """t CO2 per unit of activity."""
        if self.is_fuel:
            return self.ncv * self.carbon_content * self.oxidation * CO2_PER_C
        return self.factor


class ReportSource(models.TextChoices):
    ENTERPRISE = "enterprise", _("企业填报")
    IMPORT = "import", _("政府导入")
    PLATFORM = "platform", _("平台录入")


class CarbonReportQuerySet(models.QuerySet):
    def visible_to(self, user) -> CarbonReportQuerySet:
        """The enterprise's own rule (registry): itself, an institution it
        authorised, government of its region, platform admins."""
        from chanrong.registry.models import Enterprise

        return self.filter(enterprise__in=Enterprise.objects.visible_to(user))

    def yearly(self) -> CarbonReportQuerySet:
        return self.filter(month__isnull=True)


class CarbonReport(models.Model):
    """One enterprise's energy and material use for a year (month empty) or
    a month, with the emissions the engine computed from it. Re-reporting
    the same period replaces its lines (audited)."""

    enterprise = models.ForeignKey(
        "registry.Enterprise", on_delete=models.CASCADE, related_name="carbon_reports"
    )
    year = models.PositiveSmallIntegerField("年度")
    month = models.PositiveSmallIntegerField("月份（空为全年）", null=True, blank=True)
    revenue = models.DecimalField(
        "营业收入（元）", max_digits=20, decimal_places=2, null=True, blank=True
    )
    revenue_basis = models.CharField("营业收入来源", max_length=100, blank=True)
    output_quantity = models.DecimalField(
        "产品产量", max_digits=20, decimal_places=4, null=True, blank=True
    )
    output_unit = models.CharField("产量单位", max_length=20, blank=True)
    scope1 = models.DecimalField("范围一排放（tCO2）", max_digits=18, decimal_places=4)
    scope2 = models.DecimalField("范围二排放（tCO2）", max_digits=18, decimal_places=4)
    total = models.DecimalField("排放总量（tCO2）", max_digits=18, decimal_places=4)
    intensity_revenue = models.DecimalField(
        "万元营业收入排放（tCO2/万元）", max_digits=18, decimal_places=6, null=True, blank=True
    )
    intensity_output = models.DecimalField(
        "单位产品排放（tCO2/单位）", max_digits=18, decimal_places=6, null=True, blank=True
    )
    source = models.CharField(
        "数据来源", max_length=12, choices=ReportSource.choices, default=ReportSource.ENTERPRISE
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CarbonReportQuerySet.as_manager()

    class Meta:
        ordering = ["enterprise", "-year", "month"]
        verbose_name = "碳排放报告"
        verbose_name_plural = "碳排放报告"
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "year"],
                condition=Q(month__isnull=True),
                name="green_carbon_one_yearly_report",
            ),
            models.UniqueConstraint(
                fields=["enterprise", "year", "month"],
                condition=Q(month__isnull=False),
                name="green_carbon_one_monthly_report",
            ),
        ]
        indexes = [models.Index(fields=["year", "month"], name="green_carbon_period")]

    def __str__(self) -> str:
        return f"{self.enterprise} {self.period_label}"

    @property
    def period_label(self) -> str:
        if self.month is None:
            return _("%(year)s年度") % {"year": self.year}
        return _("%(year)s年%(month)s月") % {"year": self.year, "month": self.month}


class CarbonLine(models.Model):
    """One item of a report as entered (quantity and unit), the quantity in
    the factor's unit, the factor used and the t CO2 it gives."""

    report = models.ForeignKey(CarbonReport, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    item = models.CharField("品种", max_length=32)
    quantity = models.DecimalField("数量", max_digits=20, decimal_places=4)
    unit = models.CharField("单位", max_length=16)
    quantity_base = models.DecimalField("折算数量", max_digits=24, decimal_places=6)
    factor = models.ForeignKey(EmissionFactor, on_delete=models.PROTECT, related_name="+")
    co2 = models.DecimalField("排放量（tCO2）", max_digits=18, decimal_places=4)

    class Meta:
        ordering = ["report", "position"]
        verbose_name = "碳排放报告明细"
        verbose_name_plural = "碳排放报告明细"

    def __str__(self) -> str:
        return f"{self.item} {self.quantity} {self.unit}"


class GradeBasis(models.TextChoices):
    BENCHMARK = "benchmark", _("行业基准值")
    PROVINCE = "province", _("本省同行业分位")
    NATIONAL = "national", _("全国同行业分位")


class CarbonGradeQuerySet(models.QuerySet):
    def visible_to(self, user) -> CarbonGradeQuerySet:
        """Same rule as the reports: a bank sees a grade only when the
        enterprise authorised it (registry.DataAuthorisation)."""
        from chanrong.registry.models import Enterprise

        return self.filter(enterprise__in=Enterprise.objects.visible_to(user))


class CarbonGrade(models.Model):
    """碳效等级 of an enterprise for a year: 1 (best, lowest t CO2 per 万元
    revenue among its peers) to 5 (worst); recomputed when reports change."""

    enterprise = models.ForeignKey(
        "registry.Enterprise", on_delete=models.CASCADE, related_name="carbon_grades"
    )
    year = models.PositiveSmallIntegerField("年度")
    grade = models.PositiveSmallIntegerField("碳效等级")
    intensity = models.DecimalField(
        "万元营业收入排放（tCO2/万元）", max_digits=18, decimal_places=6
    )
    basis = models.CharField("评级依据", max_length=10, choices=GradeBasis.choices)
    division = models.CharField("行业大类", max_length=5)
    peer_region = models.CharField("比较地区", max_length=6, blank=True)
    peers = models.PositiveIntegerField("同组企业数", default=0)
    #: The four upper bounds of grades 1–4 (t CO2 / 万元), as strings.
    bounds = models.JSONField("分级界限", default=list)
    computed_at = models.DateTimeField(auto_now=True)

    objects = CarbonGradeQuerySet.as_manager()

    class Meta:
        ordering = ["enterprise", "-year"]
        verbose_name = "碳效等级"
        verbose_name_plural = "碳效等级"
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "year"], name="green_one_grade_per_year"),
            models.CheckConstraint(
                condition=Q(grade__gte=1, grade__lte=5), name="green_grade_1_to_5"
            ),
        ]
        indexes = [models.Index(fields=["year", "division"], name="green_grade_year_div")]

    def __str__(self) -> str:
        return f"{self.enterprise} {self.year} {self.grade}"


class CarbonBenchmark(models.Model):
    """A configured benchmark for one industry division: the upper bounds of
    grades 1–4 in t CO2 per 万元 revenue (above the fourth: grade 5). When
    present it is used instead of the peer quantiles."""

    division = models.OneToOneField(
        "core.Industry", verbose_name="行业大类", on_delete=models.PROTECT, related_name="+"
    )
    bound1 = models.DecimalField("一级上限", max_digits=18, decimal_places=6)
    bound2 = models.DecimalField("二级上限", max_digits=18, decimal_places=6)
    bound3 = models.DecimalField("三级上限", max_digits=18, decimal_places=6)
    bound4 = models.DecimalField("四级上限", max_digits=18, decimal_places=6)
    source = models.TextField("依据")
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "碳效基准"
        verbose_name_plural = "碳效基准"

    def __str__(self) -> str:
        return str(self.division)

    @property
    def bounds(self) -> list[Decimal]:
        return [self.bound1, self.bound2, self.bound3, self.bound4]


__all__ = [
    "CO2_PER_C",
    "CarbonBenchmark",
    "CarbonGrade",
    "CarbonLine",
    "CarbonReport",
    "EmissionFactor",
    "FactorCategory",
    "GradeBasis",
    "ReportSource",
]
