"""Indicators (定量指标), plans with yearly targets, reported actuals, and the
financing fact table with its incrementally maintained rollup.

Two kinds of indicator behave differently over time and must never be mixed
up: a 时期指标 (`kind="period"`) is a flow, so monthly figures add up to a
quarter or a year; a 时点指标 (`kind="stock"`) is a level at a date, so a
year's value is the latest report at or before the year's end and is never
the sum of the months. The arithmetic lives in services.py; the models only
record what was declared or reported.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from chanrong.core.kept import KeptSnapshot
from chanrong.core.scope import ScopeKind, scope_of


class Category(models.TextChoices):
    INDUSTRY = "产业发展", _("产业发展")
    FINANCE = "金融资源", _("金融资源")
    FINTECH = "金融科技", _("金融科技")
    MATCHING = "信息对接", _("信息对接")
    FISCAL = "财政支持", _("财政支持")


CATEGORY_ORDER = [c.value for c in Category]


class Unit(models.TextChoices):
    YI_YUAN = "亿元", _("亿元")
    PERCENT = "%", "%"
    COUNT = "个", _("个")
    SESSIONS = "场次", _("场次")
    DEALS = "笔", _("笔")
    FUNDS = "支", _("支")


class Kind(models.TextChoices):
    PERIOD = "period", _("时期指标")
    STOCK = "stock", _("时点指标")


class SecondKind(models.TextChoices):
    NONE = "none", _("无")
    # 金额及增速: the second column is the growth over the previous period,
    # computed from actuals, never typed in (targets do carry a target rate).
    GROWTH = "growth", _("金额及增速")
    # Two measures of the same thing, e.g. 基金数量（支）及规模（亿元）.
    MEASURE = "measure", _("两项数值")


class IndicatorDefinition(models.Model):
    code = models.SlugField("代码", max_length=64, unique=True)
    name = models.CharField("指标名称", max_length=128)
    category = models.CharField("类别", max_length=8, choices=Category.choices)
    unit = models.CharField("单位", max_length=4, choices=Unit.choices)
    kind = models.CharField("指标类型", max_length=8, choices=Kind.choices)
    second_kind = models.CharField(
        "第二数值", max_length=8, choices=SecondKind.choices, default=SecondKind.NONE
    )
    second_unit = models.CharField("第二数值单位", max_length=4, choices=Unit.choices, blank=True)
    sort_order = models.PositiveIntegerField("排序", default=0)
    # 不良贷款率, 贷款利率: meeting the target means staying at or below it.
    lower_is_better = models.BooleanField("越低越好", default=False)
    # Key of a registered computed source (insights.sources); blank = reported by hand.
    source = models.CharField("平台计算来源", max_length=64, blank=True)
    # Further sources added to `source` (资本市场直接融资额 = 股权投资额 + 首发募资额).
    added_sources = models.JSONField("相加的其他来源", default=list, blank=True)
    # The computed source of the second measure (数量及规模: the size).
    second_source = models.CharField("第二数值来源", max_length=64, blank=True)
    # 指标口径: what is counted, 时期 or 时点, which date decides, which records.
    definition = models.TextField("指标口径", blank=True)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = "定量指标"
        verbose_name_plural = "定量指标"

    def __str__(self) -> str:
        return self.name

    @property
    def is_rate(self) -> bool:
        """Rates (%) are never summed, neither over time nor over regions."""
        return self.unit == Unit.PERCENT

    @property
    def has_second(self) -> bool:
        return self.second_kind != SecondKind.NONE

    @property
    def computed(self) -> bool:
        """Its source and every added source are registered (else reported)."""
        from .sources import get_source

        keys = [k for k in [self.source, *(self.added_sources or [])] if k]
        return bool(keys) and all(get_source(k) is not None for k in keys)


class PlanQuerySet(models.QuerySet):
    def visible_to(self, user) -> PlanQuerySet:
        """Government sees the plans of its region's subtree; platform admins see
        all. Enterprises and institutions do not see plans (they are the
        government's own targets)."""
        scope = scope_of(user)
        if scope.kind == ScopeKind.PLATFORM:
            return self.all()
        if scope.kind == ScopeKind.GOVERNMENT:
            if not scope.region_prefix:
                return self.all()
            return self.filter(region__code__startswith=scope.region_prefix)
        return self.none()


class IndicatorPlan(models.Model):
    region = models.ForeignKey("core.Region", on_delete=models.PROTECT, related_name="+")
    title = models.CharField("名称", max_length=200)
    start_year = models.PositiveSmallIntegerField("起始年份")
    end_year = models.PositiveSmallIntegerField("截止年份")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = PlanQuerySet.as_manager()

    class Meta:
        ordering = ["region", "-start_year", "pk"]
        verbose_name = "指标计划"
        verbose_name_plural = "指标计划"

    def __str__(self) -> str:
        return self.title

    @property
    def years(self) -> list[int]:
        return list(range(self.start_year, self.end_year + 1))

    @property
    def table_columns(self) -> int:
        """Columns of the printed 定量指标表: category, name, type, two per year."""
        return 3 + 2 * len(self.years)


class IndicatorTarget(models.Model):
    plan = models.ForeignKey(IndicatorPlan, on_delete=models.CASCADE, related_name="targets")
    definition = models.ForeignKey(IndicatorDefinition, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField("年份")
    value = models.DecimalField("目标值", max_digits=20, decimal_places=4, null=True, blank=True)
    second_value = models.DecimalField(
        "第二目标值", max_digits=20, decimal_places=4, null=True, blank=True
    )
    # Decimal places as written in the approved document ("4.90", "1.0"), so
    # the plan renders back exactly as it was approved.
    value_places = models.PositiveSmallIntegerField(null=True, blank=True)
    second_places = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["plan", "definition__sort_order", "year"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "definition", "year"], name="indicator_target_unique"
            )
        ]
        verbose_name = "年度目标"
        verbose_name_plural = "年度目标"

    def __str__(self) -> str:
        return f"{self.definition} {self.year}"


class PeriodType(models.TextChoices):
    MONTH = "month", _("月度")
    QUARTER = "quarter", _("季度")
    YEAR = "year", _("年度")


class IndicatorActual(models.Model):
    """One reported figure for one region and one calendar period.

    For a 时期指标 it is the flow over the period; for a 时点指标 it is the
    level at the period's last day. `second_value` is only stored for
    `second_kind="measure"`; growth is always computed.
    """

    region = models.ForeignKey("core.Region", on_delete=models.PROTECT, related_name="+")
    definition = models.ForeignKey(IndicatorDefinition, on_delete=models.PROTECT, related_name="+")
    period_type = models.CharField("报告期", max_length=8, choices=PeriodType.choices)
    year = models.PositiveSmallIntegerField("年份")
    number = models.PositiveSmallIntegerField("期号", default=1)  # month 1-12, quarter 1-4, year 1
    period_start = models.DateField()
    period_end = models.DateField(db_index=True)
    value = models.DecimalField("数值", max_digits=20, decimal_places=4)
    second_value = models.DecimalField(
        "第二数值", max_digits=20, decimal_places=4, null=True, blank=True
    )
    # Who entered it (the account, recorded by the service) and when.
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="填报人",
    )
    reported_at = models.DateTimeField("填报时间", auto_now=True)
    # Where a reported figure comes from, as the reporter writes it: the
    # reporting body or person (填报单位/人), the document it is taken from
    # (文号 or title) and the date it was reported. The form and the API ask
    # for all three; rows from before they did may have them blank.
    source_body = models.CharField("填报单位/人", max_length=100, blank=True)
    source_document = models.CharField("依据文件（文号/名称）", max_length=200, blank=True)
    source_date = models.DateField("报送日期", null=True, blank=True)
    # For an indicator the platform computes, a reported figure is kept beside
    # the computed one: what the platform computed for the same period when
    # the figure was reported (stored, so the comparison stays as it was
    # explained), and the explanation of the difference.
    computed_value = models.DecimalField(
        "平台计算值", max_digits=20, decimal_places=4, null=True, blank=True
    )
    note = models.TextField("差异说明", blank=True)

    class Meta:
        ordering = ["definition__sort_order", "region", "period_end"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "definition", "period_type", "year", "number"],
                name="indicator_actual_unique",
            )
        ]
        indexes = [models.Index(fields=["definition", "period_end"])]
        verbose_name = "指标实际值"
        verbose_name_plural = "指标实际值"

    def __str__(self) -> str:
        return f"{self.definition} {self.period_end}"


class FinancingRecord(models.Model):
    """A financing outcome (one loan / deal): the fact table behind 累计融资笔数 /
    累计融资额 until (and beside) the demands app. Written only through
    services.record_financing, which updates FinancingRollup in the same
    transaction."""

    region = models.ForeignKey("core.Region", on_delete=models.PROTECT, related_name="+")
    industry = models.ForeignKey(
        "core.Industry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    section = models.CharField("行业门类", max_length=1, blank=True)
    institution = models.ForeignKey(
        "finance.FinancialInstitution", on_delete=models.PROTECT, related_name="+"
    )
    enterprise = models.ForeignKey(
        "registry.Enterprise", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    date = models.DateField("放款日期")
    amount = models.DecimalField("金额（元）", max_digits=20, decimal_places=2)
    # Where it came from ("demand:123", "import:2024-05") so a source is never counted twice.
    source_ref = models.CharField(max_length=64, blank=True, null=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["region", "date"])]
        verbose_name = "融资记录"
        verbose_name_plural = "融资记录"

    def __str__(self) -> str:
        return f"{self.date} {self.amount}"


class FinancingRollup(models.Model):
    """Pre-aggregated financing figures: one row per (region node, industry
    section, institution, month). Region is any node of the tree ("" = the
    whole country, "33" 浙江, "3304" 嘉兴, "330421" 嘉善 — the region's prefix),
    section "" means all sections and institution_id 0 all institutions, so
    a dashboard at any node reads a few hundred rows whatever the size of
    FinancingRecord. Plain columns, not foreign keys, so the upsert key is
    never NULL."""

    region = models.CharField(max_length=6)
    section = models.CharField(max_length=1, default="")
    institution_id = models.BigIntegerField(default=0)
    month = models.DateField()
    count = models.BigIntegerField(default=0)
    amount = models.DecimalField(max_digits=22, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["region", "section", "institution_id", "month"],
                name="financing_rollup_key",
            )
        ]
        # The key index serves "one section, every institution"; this one
        # "one institution, every section" (the by-section breakdown).
        indexes = [
            models.Index(
                fields=["region", "institution_id", "section", "month"],
                name="financing_rollup_by_inst",
            )
        ]
        verbose_name = "融资汇总"
        verbose_name_plural = "融资汇总"

    def __str__(self) -> str:
        return f"{self.region or '全国'} {self.month:%Y-%m}"


class FigureSnapshot(KeptSnapshot):
    """The platform-computed figures (insights.sources) that the indicator
    plans of one region subtree read, computed at one date and kept, so the
    统计分析 page and a plan's 完成情况 read a few rows instead of scanning
    the loan book on every view (issue 20). One row per region prefix (the
    plans' region, as the sources are asked); refreshed nightly by
    `insights.tasks.refresh_figure_snapshots`, by `chanrong demo`, and on a
    government user's request (`requested_at`, audited). `computed_at` is
    empty until the first refresh has finished."""

    region_prefix = models.CharField("地区前缀", max_length=6, unique=True)

    class Meta:
        verbose_name = "指标计算快照"
        verbose_name_plural = "指标计算快照"

    def __str__(self) -> str:
        return f"{self.region_prefix} {self.as_of}"


class FigureSnapshotValue(models.Model):
    """One source's answer for one window (`start` empty for a 时点 source,
    the level at `end`), as the source gave it: `value` is the Decimal's
    exact text ("" = the source had no figure), so a figure read back is the
    very Decimal the live computation gives — a DecimalField would round a
    ratio to its declared places."""

    snapshot = models.ForeignKey(FigureSnapshot, on_delete=models.CASCADE, related_name="values")
    source = models.CharField(max_length=64)
    start = models.DateField(null=True, blank=True)
    end = models.DateField()
    value = models.CharField(max_length=80, blank=True)

    class Meta:
        indexes = [models.Index(fields=["snapshot", "source"], name="figure_snapshot_value_src")]
        verbose_name = "指标计算快照数值"
        verbose_name_plural = "指标计算快照数值"

    def __str__(self) -> str:
        return f"{self.source} {self.start}–{self.end}: {self.value}"
