"""Users, the organisations they act for, and their API tokens.

A user belongs to exactly one organisation: an enterprise, a financial
institution (optionally one branch of it), or a government agency; platform
admins belong to none. Everything a user may see follows from that
organisation (see `chanrong.core.scope`).
"""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from chanrong.core.fieldcrypt import EncryptedTextField


class Role(models.TextChoices):
    ENTERPRISE_USER = "enterprise_user", _("企业用户")
    INSTITUTION_STAFF = "institution_staff", _("金融机构业务人员")
    INSTITUTION_MANAGER = "institution_manager", _("金融机构管理员")
    GOV_STAFF = "gov_staff", _("政府工作人员")
    GOV_ADMIN = "gov_admin", _("政府管理员")
    # 三权分立 (等保 separation of duties): the platform admin is the system
    # administrator (accounts, configuration); the security administrator keeps
    # the security policy (OTP resets, unlocks); the audit administrator alone
    # reads and exports the audit log. A user holds exactly one role.
    PLATFORM_ADMIN = "platform_admin", _("平台管理员")
    SECURITY_ADMIN = "security_admin", _("安全管理员")
    AUDIT_ADMIN = "audit_admin", _("审计管理员")


ENTERPRISE_ROLES = {Role.ENTERPRISE_USER}
INSTITUTION_ROLES = {Role.INSTITUTION_STAFF, Role.INSTITUTION_MANAGER}
GOVERNMENT_ROLES = {Role.GOV_STAFF, Role.GOV_ADMIN}
#: The three separated administrator roles; none belongs to an organisation.
ADMIN_ROLES = {Role.PLATFORM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN}


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
    # Encrypted at rest like the registry's contact fields (core.fieldcrypt).
    phone = EncryptedTextField("手机", max_length=20, blank=True)
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
    # Password policy (services.policy): set when someone else created or reset
    # the password, so that only its owner ever knows the one in use.
    must_change_password = models.BooleanField("下次登录须修改密码", default=False)
    password_changed_at = models.DateTimeField("密码修改时间", null=True, blank=True)

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
                        role__in=["platform_admin", "security_admin", "audit_admin"],
                        enterprise__isnull=True,
                        institution__isnull=True,
                        agency__isnull=True,
                    )
                ),
            ),
            # 三权分立 held by the database, not only by the admin form: the
            # superuser flag is the system administrator's alone, and only the
            # system and security administrators reach /admin/ at all.
            models.CheckConstraint(
                name="user_superuser_only_platform_admin",
                condition=models.Q(is_superuser=False) | models.Q(role="platform_admin"),
            ),
            models.CheckConstraint(
                name="user_staff_only_system_or_security_admin",
                condition=models.Q(is_staff=False)
                | models.Q(role__in=["platform_admin", "security_admin"]),
            ),
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
    def is_system_admin(self) -> bool:
        """三权分立's system administrator is the platform admin."""
        return self.role == Role.PLATFORM_ADMIN

    @property
    def is_security_admin(self) -> bool:
        return self.role == Role.SECURITY_ADMIN

    @property
    def is_audit_admin(self) -> bool:
        return self.role == Role.AUDIT_ADMIN

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


class PasswordHistory(models.Model):
    """A user's previous password hashes (the newest N are kept), so that an
    old password cannot come back (password policy, 等保)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "历史密码"
        verbose_name_plural = "历史密码"

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.created_at:%Y-%m-%d}"


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
    # Why it was revoked: "manual", "password_change", "deactivated".
    revoked_reason = models.CharField("吊销原因", max_length=24, blank=True)
    expires_at = models.DateTimeField("到期时间")
    # Mutual TLS binding: when set, the token is accepted only with this client
    # certificate (SHA-256, lowercase hex), as reported by the trusted proxy.
    client_cert_sha256 = models.CharField("绑定客户端证书 SHA-256", max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API 令牌"
        verbose_name_plural = "API 令牌"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        from django.utils import timezone

        return self.revoked_at is None and self.expires_at > timezone.now()


class ThrottleScope(models.TextChoices):
    PAIR = "pair", _("账户+地址")
    ADDRESS = "address", _("地址")
    ACCOUNT = "account", _("账户")


class LoginThrottle(models.Model):
    """Failed-login bookkeeping for one key: a (username, address) pair, an
    address, or (only with a high threshold, off by default) a username.
    Usernames are counted whether or not the account exists, so that a lock
    never tells which usernames are real. See services/throttle.py."""

    scope = models.CharField(max_length=8, choices=ThrottleScope.choices, default="pair")
    key = models.CharField(max_length=255)
    failures = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    # Failed-login audit entries are coalesced per address and minute (a
    # flood must not fill the audit log): when the last one was written, and
    # how many failures since went unrecorded.
    audited_at = models.DateTimeField(null=True, blank=True)
    unaudited = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "登录限制"
        verbose_name_plural = "登录限制"
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="login_throttle_scope_key")
        ]

    def __str__(self) -> str:
        return f"{self.get_scope_display()} {self.key}"


# Self-registration applications live in their own module (registration_models.py).
from .registration_models import Registration  # noqa: E402, F401
