"""Django admin for users, agencies, API tokens, login throttles and OTP devices.

三权分立: the system administrator (platform admin, the only superuser)
keeps accounts and configuration; the security administrator (is_staff, not
superuser) sees only login locks (deleting one unlocks) and second-factor
devices (deleting them resets a lost phone), and the system administrator
cannot touch those; nobody reads the audit log here (core's admin hides it:
it is the audit administrator's, on /audit/). The form refuses is_staff /
is_superuser for any other role, and database constraints hold it too.
Tokens are issued by the token pages or `chanrong token create` (the raw
value is shown once); here they can only be read.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from chanrong.core import audit
from chanrong.core.admin import AuditedModelAdmin, ReadOnlyModelAdmin

from . import services
from .models import (
    ApiToken,
    GovernmentAgency,
    LoginThrottle,
    PasswordHistory,
    Registration,
    Role,
    User,
)
from .services import otp

ORGANISATION_FIELDS = (
    "role",
    "display_name",
    "phone",
    "enterprise",
    "institution",
    "branch",
    "agency",
)


class _StaffOnlyForPlatformAdmins:
    def clean(self):
        data = super().clean()
        role = data.get("role", getattr(self.instance, "role", ""))
        staff = data.get("is_staff", getattr(self.instance, "is_staff", False))
        superuser = data.get("is_superuser", getattr(self.instance, "is_superuser", False))
        if superuser and role != Role.PLATFORM_ADMIN:
            self.add_error(None, _("只有平台管理员（系统管理员）可以是超级用户（is_superuser）"))
        elif staff and role not in (Role.PLATFORM_ADMIN, Role.SECURITY_ADMIN):
            self.add_error(None, _("只有系统管理员和安全管理员可以访问系统管理（is_staff）"))
        return data


class ChanrongUserCreationForm(_StaffOnlyForPlatformAdmins, UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", *ORGANISATION_FIELDS)


class ChanrongUserChangeForm(_StaffOnlyForPlatformAdmins, UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin, AuditedModelAdmin):
    form = ChanrongUserChangeForm
    add_form = ChanrongUserCreationForm
    list_display = (
        "username",
        "display_name",
        "role",
        "organisation_name",
        "is_active",
        "last_login",
    )
    list_filter = ("role", "is_active", "is_staff")
    search_fields = ("username", "display_name", "email")  # phone is encrypted: not searchable
    raw_id_fields = ("enterprise", "institution", "branch", "agency")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("个人信息"), {"fields": ("display_name", "phone", "email")}),
        (_("角色与单位"), {"fields": ("role", "enterprise", "institution", "branch", "agency")}),
        (_("权限"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (_("重要日期"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "password1", "password2")}),
        (_("角色与单位"), {"fields": ORGANISATION_FIELDS}),
    )
    readonly_fields = ("last_login", "date_joined", "password_changed_at")

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return (
            *fieldsets,
            (_("密码策略"), {"fields": ("must_change_password", "password_changed_at")}),
        )

    def save_model(self, request, obj, form, change):
        if not change:
            # Created by someone else: its owner chooses a password at first sign-in.
            obj.must_change_password = True
        super().save_model(request, obj, form, change)

    @admin.display(description=_("所属单位"))
    def organisation_name(self, obj):
        return str(obj.organisation or "")

    def user_change_password(self, request, id, form_url=""):
        with transaction.atomic():
            request._chanrong_password_change = True
            return super().user_change_password(request, id, form_url)

    def log_change(self, request, obj, message):
        if getattr(request, "_chanrong_password_change", False):
            # Reset by an administrator: the owner must change it at next sign-in.
            User.objects.filter(pk=obj.pk).update(must_change_password=True)
            audit.record(
                "admin.user.password_change",
                actor=request.user,
                obj=obj,
                changes={"password": ["***", "***"]},
            )
        return super().log_change(request, obj, message)


@admin.register(GovernmentAgency)
class GovernmentAgencyAdmin(AuditedModelAdmin):
    list_display = ("name", "level", "function", "region")
    list_filter = ("level", "function")
    search_fields = ("name",)
    autocomplete_fields = ("region",)


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyModelAdmin):
    list_display = ("name", "prefix", "user", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "user__username")
    exclude = ("token_hash",)
    actions = ["revoke_selected"]

    def has_change_permission(self, request, obj=None):
        # Needed for the revoke action; every field stays read-only.
        return obj is None and request.user.is_active and request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name != "token_hash"]

    @admin.action(description=_("吊销所选令牌"))
    def revoke_selected(self, request, queryset):
        for token in queryset:
            services.revoke_token(request.user, token)


def _is_security_admin(request) -> bool:
    user = request.user
    return bool(user.is_active and user.is_staff and getattr(user, "is_security_admin", False))


class SecurityAdminOnly(ReadOnlyModelAdmin):
    """Visible to the security administrator only (not even the superuser).
    Read-only but for deleting, which goes through an audited service (so
    core's `audit_every_admin` leaves these alone rather than auditing twice)."""

    def has_module_permission(self, request):
        return _is_security_admin(request)

    def has_view_permission(self, request, obj=None):
        return _is_security_admin(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return _is_security_admin(request)


@admin.register(LoginThrottle)
class LoginThrottleAdmin(SecurityAdminOnly):
    """Deleting a row lifts that lock now (`services.unlock`, audited)."""

    list_display = ("scope", "key", "failures", "window_started_at", "locked_until")
    list_filter = ("scope",)
    search_fields = ("key",)
    readonly_fields = ("scope", "key", "failures", "window_started_at", "locked_until")
    exclude = ("audited_at", "unaudited")

    def delete_model(self, request, obj):
        services.unlock(request.user, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            services.unlock(request.user, obj)


@admin.register(PasswordHistory)
class PasswordHistoryAdmin(SecurityAdminOnly):
    """Listed for completeness; the hashes are never shown or edited."""

    list_display = ("user", "created_at")
    fields = ("user", "created_at")
    readonly_fields = ("user", "created_at")

    def has_delete_permission(self, request, obj=None):
        return False


class _OtpDeviceAdmin(SecurityAdminOnly):
    """Deleting a user's devices resets their second factor (`otp.reset`,
    audited); the secret itself is never shown."""

    list_display = ("user", "name", "confirmed")
    search_fields = ("user__username",)
    fields = ("user", "name", "confirmed")
    readonly_fields = ("user", "name", "confirmed")

    def delete_model(self, request, obj):
        otp.reset(request.user, obj.user)

    def delete_queryset(self, request, queryset):
        for user in {device.user for device in queryset.select_related("user")}:
            otp.reset(request.user, user)


for _model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(_model, _OtpDeviceAdmin)


@admin.register(Registration)
class RegistrationAdmin(ReadOnlyModelAdmin):
    """Written only by the registration services (review at /accounts/registrations/)."""

    list_display = ("name", "kind", "status", "region", "username", "created_at", "reviewed_at")
    list_filter = ("kind", "status")
    search_fields = ("name", "uscc", "username")
    exclude = ("token_hash", "password", "contact_name", "contact_phone", "contact_email")
