"""Self-registration (自助注册): an enterprise or a financial institution asks
for an account; a reviewer approves or rejects it (services/registration.py,
the transition table in registration_workflow.py).

No `User` row exists until approval: a user must belong to an organisation
(the `user_organisation_matches_role` constraint) and a pending applicant
belongs to none yet. The application holds the chosen username (reserved:
no one else may take it while the application is pending) and the password
already hashed under the platform's policy; approval creates the account with
them. So a pending applicant has no rights at all: there is nothing to sign
in to. The applicant follows the application on a status page reached by a
secret link (only the SHA-256 of its token is stored).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from chanrong.core.fieldcrypt import EncryptedTextField
from chanrong.core.scope import ScopeKind, scope_of


class RegistrationKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("企业")
    INSTITUTION = "institution", _("金融机构")


class RegistrationStatus(models.TextChoices):
    SUBMITTED = "submitted", _("待审核")
    APPROVED = "approved", _("已通过")
    REJECTED = "rejected", _("未通过")
    WITHDRAWN = "withdrawn", _("已撤回")


class RegistrationQuerySet(models.QuerySet):
    def visible_to(self, user) -> RegistrationQuerySet:
        """The one visibility rule: the platform admin sees every application
        (and reviews institutions'); government sees enterprises' applications
        in its region's subtree; nobody else sees any (the applicant uses the
        status link, or signs in once approved)."""
        scope = scope_of(user)
        if scope.kind == ScopeKind.PLATFORM:
            return self.all()
        if scope.kind == ScopeKind.GOVERNMENT:
            return self.filter(
                kind=RegistrationKind.ENTERPRISE, region__code__startswith=scope.region_prefix
            )
        return self.none()

    def pending(self) -> RegistrationQuerySet:
        return self.filter(status=RegistrationStatus.SUBMITTED)


class Registration(models.Model):
    kind = models.CharField("类型", max_length=12, choices=RegistrationKind.choices)
    status = models.CharField(
        "状态",
        max_length=12,
        choices=RegistrationStatus.choices,
        default=RegistrationStatus.SUBMITTED,
        db_index=True,
    )
    # SHA-256 of the status link's token (the token is shown once, at submission).
    token_hash = models.CharField(max_length=64, unique=True)
    # --- the organisation ---------------------------------------------------------------
    uscc = models.CharField("统一社会信用代码/许可证号", max_length=30)
    name = models.CharField("名称", max_length=100)
    region = models.ForeignKey(
        "core.Region", verbose_name="所在地区", on_delete=models.PROTECT, related_name="+"
    )
    industry = models.ForeignKey(
        "core.Industry",
        verbose_name="所属行业",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    institution_kind = models.CharField("机构类型", max_length=16, blank=True)
    branch_name = models.CharField("分支机构", max_length=100, blank=True)
    # The registry's name for this USCC when it differs from the one typed (shown
    # to the applicant and the reviewer).
    registry_name = models.CharField("名录库登记名称", max_length=100, blank=True)
    # --- the person (encrypted at rest, masked in lists) -----------------------------------
    contact_name = EncryptedTextField("联系人", max_length=50)
    contact_phone = EncryptedTextField("手机", max_length=20)
    contact_email = EncryptedTextField("电子邮箱", max_length=254)
    # --- the account asked for ----------------------------------------------------------
    username = models.CharField("用户名", max_length=150)
    password = models.CharField(max_length=128)
    consent_at = models.DateTimeField("同意隐私政策时间")
    privacy_version = models.CharField("隐私政策版本", max_length=16)
    # --- the outcome ----------------------------------------------------------------------
    enterprise = models.ForeignKey(
        "registry.Enterprise",
        verbose_name="企业",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    institution = models.ForeignKey(
        "finance.FinancialInstitution",
        verbose_name="金融机构",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="开通的账号",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="registrations",
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    reason = models.CharField("审核意见", max_length=500, blank=True)
    created_at = models.DateTimeField("提交时间", auto_now_add=True)

    objects = RegistrationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "注册申请"
        verbose_name_plural = "注册申请"
        constraints = [
            # Duplicates are refused by field in the service; these hold under races.
            models.UniqueConstraint(
                fields=["username"],
                condition=Q(status="submitted"),
                name="registration_pending_username_unique",
            ),
            models.UniqueConstraint(
                fields=["kind", "uscc"],
                condition=Q(status="submitted"),
                name="registration_pending_uscc_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name}"

    @property
    def name_mismatch(self) -> bool:
        return bool(self.registry_name) and self.registry_name != self.name
