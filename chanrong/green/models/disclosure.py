"""Models of the green app's disclosure subdomain: a financial institution's
yearly environmental information disclosure (金融机构环境信息披露, JR/T
0227-2021 《金融机构环境信息披露指南》).

One `Disclosure` per institution (head office, 总行/总部) and year, and
one per branch (分支机构) and year for a branch that publishes its own (the
standard covers 金融机构 including branches that publish reports; a county
wants to know which banks' local branches filed): `branch` empty is the head
office's form, set is that branch's. Its text
sections are those of the standard's 披露内容 (`SECTIONS`, in the standard's
order); its key quantitative figures are columns, so they are validated,
compared and summed like any other figure. Filled by the institution's staff,
submitted by its manager, returned for revision by a government agency of a
region where the institution is present (based there or with a branch there,
finance.InstitutionQuerySet.present_in) — workflows_disclosure.py holds the
transition table.

Visibility (one rule, `visible_to`): the institution's own users see its
disclosures in every state; an agency sees those of institutions present in
its region subtree once submitted (a draft is the institution's own work);
platform admins see all; enterprises none.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from chanrong.core.scope import ScopeKind, scope_of

__all__ = [
    "SECTIONS",
    "SECTION_KEYS",
    "FIGURES",
    "Disclosure",
    "DisclosureQuerySet",
    "DisclosureState",
]

#: The 11 text sections of JR/T 0227-2021's 披露内容, in the standard's order:
#: key → (title, what the standard asks for, in a line).
SECTIONS: dict[str, tuple[str, str]] = {
    "overview": (
        _("年度概况"),
        _("环境相关目标愿景、战略规划、政策、行动及主要成效"),
    ),
    "governance": (
        _("环境相关治理结构"),
        _("董事会（理事会）、高管层、专业部门在环境相关事宜中的职责与分工"),
    ),
    "policies": (
        _("环境相关政策制度"),
        _("内部管理制度、对外执行的国家及地方环境政策、行业标准"),
    ),
    "products": (
        _("环境相关产品与服务创新"),
        _("绿色信贷、绿色债券、绿色保险、碳金融等产品与服务"),
    ),
    "risk_management": (
        _("环境风险管理流程"),
        _("识别、评估、管理、控制环境风险的流程与措施"),
    ),
    "impact_on_institution": (
        _("环境因素对金融机构的影响"),
        _("环境相关风险与机遇及其对机构的影响，情景分析或压力测试"),
    ),
    "financing_impact": (
        _("投融资活动的环境影响"),
        _("投融资所产生的碳排放及其他环境影响、绿色投融资的环境效益"),
    ),
    "operations_impact": (
        _("经营活动的环境影响"),
        _("自身经营活动的能源消耗、碳排放、水耗、纸张等及减排措施"),
    ),
    "data": (
        _("数据梳理、校验及保护"),
        _("环境信息数据的统计口径、质量控制与安全保护"),
    ),
    "research": (
        _("绿色金融创新及研究成果"),
        _("绿色金融创新实践、案例及研究成果"),
    ),
    "other": (
        _("其他环境相关信息"),
        _("其他需要说明的环境相关信息（无则写明“无”）"),
    ),
}
SECTION_KEYS: tuple[str, ...] = tuple(SECTIONS)

#: Key quantitative figures: field → (label, unit, required on submission).
FIGURES: dict[str, tuple[str, str, bool]] = {
    "green_loan_balance": (_("绿色信贷余额"), _("元"), True),
    "total_loan_balance": (_("各项贷款余额"), _("元"), True),
    "green_loans_disbursed": (_("本年绿色贷款发放额"), _("元"), False),
    "financed_emissions": (_("投融资活动碳排放量"), _("吨二氧化碳当量"), True),
    "emission_reduction": (_("绿色投融资支持项目碳减排量"), _("吨二氧化碳当量"), False),
    "operational_emissions": (_("经营活动碳排放量（范围一、二）"), _("吨二氧化碳当量"), True),
    "operational_electricity": (_("经营活动耗电量"), _("千瓦时"), False),
}
MONEY_FIGURES = frozenset({"green_loan_balance", "total_loan_balance", "green_loans_disbursed"})

MONEY = {"max_digits": 20, "decimal_places": 2}
QUANTITY = {"max_digits": 20, "decimal_places": 4}


class DisclosureState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")
    RETURNED = "returned", _("已退回修改")


#: States in which the institution may still edit the form.
EDITABLE = frozenset({DisclosureState.DRAFT, DisclosureState.RETURNED})


class DisclosureQuerySet(models.QuerySet):
    def visible_to(self, user) -> DisclosureQuerySet:
        scope = scope_of(user)
        if scope.kind == ScopeKind.PLATFORM:
            return self.all()
        if scope.kind == ScopeKind.INSTITUTION:
            return self.filter(institution_id=scope.institution_id)
        if scope.kind == ScopeKind.GOVERNMENT:
            from chanrong.finance.models import FinancialInstitution

            present = FinancialInstitution.objects.present_in(scope.region_prefix)
            # Head offices' forms where the institution is present; a branch's
            # form where the branch is.
            return self.filter(
                Q(branch__isnull=True, institution__in=present.values("pk"))
                | Q(branch__region__code__startswith=scope.region_prefix)
            ).exclude(state=DisclosureState.DRAFT)
        return self.none()


class Disclosure(models.Model):
    institution = models.ForeignKey(
        "finance.FinancialInstitution", on_delete=models.PROTECT, related_name="env_disclosures"
    )
    #: The branch filing its own disclosure; empty = the head office's form.
    branch = models.ForeignKey(
        "finance.Branch",
        verbose_name=_("分支机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="env_disclosures",
    )
    year = models.PositiveSmallIntegerField(_("披露年度"))
    state = models.CharField(
        _("状态"), max_length=12, choices=DisclosureState.choices, default=DisclosureState.DRAFT
    )
    #: section key (SECTION_KEYS) → text; a missing or blank key is not filled.
    sections = models.JSONField(_("披露内容"), default=dict, blank=True)
    green_loan_balance = models.DecimalField(
        _("绿色信贷余额（元）"), null=True, blank=True, **MONEY
    )
    total_loan_balance = models.DecimalField(
        _("各项贷款余额（元）"), null=True, blank=True, **MONEY
    )
    green_loans_disbursed = models.DecimalField(
        _("本年绿色贷款发放额（元）"), null=True, blank=True, **MONEY
    )
    financed_emissions = models.DecimalField(
        _("投融资活动碳排放量（tCO2e）"), null=True, blank=True, **QUANTITY
    )
    emission_reduction = models.DecimalField(
        _("绿色投融资支持项目碳减排量（tCO2e）"), null=True, blank=True, **QUANTITY
    )
    operational_emissions = models.DecimalField(
        _("经营活动碳排放量（tCO2e）"), null=True, blank=True, **QUANTITY
    )
    operational_electricity = models.DecimalField(
        _("经营活动耗电量（千瓦时）"), null=True, blank=True, **QUANTITY
    )
    return_reason = models.CharField(_("退回理由"), max_length=500, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    returned_at = models.DateTimeField(null=True, blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DisclosureQuerySet.as_manager()

    class Meta:
        ordering = ["-year", "institution__name"]
        verbose_name = _("环境信息披露")
        verbose_name_plural = _("环境信息披露")
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "year"],
                condition=Q(branch__isnull=True),
                name="green_disclosure_head_one_per_year",
            ),
            models.UniqueConstraint(
                fields=["branch", "year"],
                condition=Q(branch__isnull=False),
                name="green_disclosure_branch_one_per_year",
            ),
            models.CheckConstraint(
                condition=Q(year__gte=2000, year__lte=2100), name="green_disclosure_year_range"
            ),
            models.CheckConstraint(
                condition=(
                    Q(green_loan_balance__isnull=True)
                    | Q(total_loan_balance__isnull=True)
                    | Q(green_loan_balance__lte=models.F("total_loan_balance"))
                ),
                name="green_disclosure_green_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.filer_name} {self.year}"

    @property
    def filer_name(self) -> str:
        """Who files: the branch's name, else the institution's."""
        return self.branch.name if self.branch_id else self.institution.name

    @property
    def is_editable(self) -> bool:
        return self.state in EDITABLE

    def missing_sections(self) -> list[str]:
        """Keys of the sections not yet filled (blank or absent)."""
        text = self.sections or {}
        return [key for key in SECTION_KEYS if not str(text.get(key) or "").strip()]

    def missing_figures(self) -> list[str]:
        return [
            name
            for name, (_label, _unit, required) in FIGURES.items()
            if required and getattr(self, name) is None
        ]

    @property
    def green_loan_share(self):
        """绿色信贷占比 (%), shown with its formula; None without both balances."""
        if self.green_loan_balance is None or not self.total_loan_balance:
            return None
        return self.green_loan_balance / self.total_loan_balance * 100

    def section_rows(self) -> list[tuple[str, str, str, str]]:
        """(key, title, hint, text) in the standard's order, for the pages."""
        text = self.sections or {}
        return [(key, title, hint, text.get(key, "")) for key, (title, hint) in SECTIONS.items()]
