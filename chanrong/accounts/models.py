"""Users, the organisations they act for, and their API tokens.

A user belongs to exactly one organisation: an enterprise, a financial
institution (optionally one branch of it), or a government agency; platform
admins belong to none. Everything a user may see follows from that
organisation (see `chanrong.core.scope`).
"""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ENTERPRISE_USER = "enterprise_user", _("企业用户")
    INSTITUTION_STAFF = "institution_staff", _("金融机构业务人员")
    INSTITUTION_MANAGER = "institution_manager", _("金融机构管理员")
    GOV_STAFF = "gov_staff", _("政府工作人员")
    GOV_ADMIN = "gov_admin", _("政府管理员")
    PLATFORM_ADMIN = "platform_admin", _("平台管理员")


ENTERPRISE_ROLES = {Role.ENTERPRISE_USER}
INSTITUTION_ROLES = {Role.INSTITUTION_STAFF, Role.INSTITUTION_MANAGER}
GOVERNMENT_ROLES = {Role.GOV_STAFF, Role.GOV_ADMIN}


class AgencyLevel(models.TextChoices):
    NATIONAL = "national", _("国家")
    PROVINCIAL = "provincial", _("省")
    MUNICIPAL = "municipal", _("市")
    COUNTY = "county", _("县")


class AgencyFunction(models.TextChoices):
    INDUSTRY = "industry", _("工信")
    FINANCE = "finance", _("财政")
    PBOC = "pboc", _("人行")
    FINANCIAL_REGULATION = "financial_regulation", _("金融监管")
    SECURITIES = "securities", _("证监")
    DEVELOPMENT = "development", _("发改")
    SCIENCE = "science", _("科技")
    OTHER = "other", _("其他")


class GovernmentAgency(models.Model):
    """A government department at one level, responsible for one region's subtree.

    A national agency has no region: it sees the whole country.
    """

    name = models.CharField("名称", max_length=100)
    level = models.CharField("级别", max_length=12, choices=AgencyLevel.choices)
    function = models.CharField("职能", max_length=24, choices=AgencyFunction.choices)
    region = models.ForeignKey(
        "core.Region",
        verbose_name="辖区",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="agencies",
    )

    class Meta:
        ordering = ["level", "name"]
        verbose_name = "政府部门"
        verbose_name_plural = "政府部门"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(level="national") | models.Q(region__isnull=False),
                name="agency_region_required_below_national",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def region_prefix(self) -> str:
        return self.region.prefix if self.region_id else ""


class User(AbstractUser):
    role = models.CharField("角色", max_length=24, choices=Role.choices)
    display_name = models.CharField("姓名", max_length=64, blank=True)
    phone = models.CharField("手机", max_length=20, blank=True)
    enterprise = models.ForeignKey(
        "registry.Enterprise",
        verbose_name="所属企业",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    institution = models.ForeignKey(
        "finance.FinancialInstitution",
        verbose_name="所属金融机构",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    branch = models.ForeignKey(
        "finance.Branch",
        verbose_name="所属分支机构",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    agency = models.ForeignKey(
        GovernmentAgency,
        verbose_name="所属政府部门",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"
        constraints = [
            models.CheckConstraint(
                name="user_organisation_matches_role",
                condition=(
                    models.Q(
                        role="enterprise_user",
                        enterprise__isnull=False,
                        institution__isnull=True,
                        agency__isnull=True,
                    )
                    | models.Q(
                        role__in=["institution_staff", "institution_manager"],
                        enterprise__isnull=True,
                        institution__isnull=False,
                        agency__isnull=True,
                    )
                    | models.Q(
                        role__in=["gov_staff", "gov_admin"],
                        enterprise__isnull=True,
                        institution__isnull=True,
                        agency__isnull=False,
                    )
                    | models.Q(
                        role="platform_admin",
                        enterprise__isnull=True,
                        institution__isnull=True,
                        agency__isnull=True,
                    )
                ),
            )
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    # --- role predicates: the only place that knows which role is which kind
    @property
    def is_enterprise_user(self) -> bool:
        return self.role in ENTERPRISE_ROLES

    @property
    def is_institution_user(self) -> bool:
        return self.role in INSTITUTION_ROLES

    @property
    def is_institution_manager(self) -> bool:
        return self.role == Role.INSTITUTION_MANAGER

    @property
    def is_government_user(self) -> bool:
        return self.role in GOVERNMENT_ROLES

    @property
    def is_government_admin(self) -> bool:
        return self.role == Role.GOV_ADMIN

    @property
    def is_platform_admin(self) -> bool:
        return self.role == Role.PLATFORM_ADMIN

    @property
    def organisation(self):
        return self.enterprise or self.institution or self.agency

    def organisation_label(self) -> str:
        if self.enterprise_id:
            return f"enterprise:{self.enterprise_id} {self.enterprise.name}"
        if self.institution_id:
            branch = f"/{self.branch.name}" if self.branch_id else ""
            return f"institution:{self.institution_id} {self.institution.name}{branch}"
        if self.agency_id:
            return f"agency:{self.agency_id} {self.agency.name}"
        return "platform"


class ApiToken(models.Model):
    """A bearer token for an institution's own system (or any user's scripts).

    Only the SHA-256 of the token is stored; the token itself is shown once.
    `prefix` (the first characters) lets a person tell tokens apart in a list.
    The token acts as its user: same organisation, same visibility.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField("名称", max_length=64)
    prefix = models.CharField(max_length=12, db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API 令牌"
        verbose_name_plural = "API 令牌"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class LoginThrottle(models.Model):
    """Failed-login bookkeeping per username (known or not, so that a
    lockout does not reveal whether an account exists)."""

    username = models.CharField(max_length=150, unique=True)
    failures = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.username
