"""Django admin for users, agencies, API tokens and login throttles.

Only platform admins may have is_staff / is_superuser: the form refuses it
for any other role, so the admin can never become a back door around the
visibility rule. Tokens are issued by the token pages or `chanrong token
create` (the raw value is shown once); here they can only be read.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from chanrong.core import audit
from chanrong.core.admin import AuditedModelAdmin, ReadOnlyModelAdmin

from . import services
from .models import ApiToken, GovernmentAgency, LoginThrottle, Role, User

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
        if (staff or superuser) and role != Role.PLATFORM_ADMIN:
            self.add_error(None, _("只有平台管理员可以访问系统管理（is_staff / is_superuser）"))
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
    search_fields = ("username", "display_name", "phone", "email")
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
    readonly_fields = ("last_login", "date_joined")

    @admin.display(description=_("所属单位"))
    def organisation_name(self, obj):
        return str(obj.organisation or "")

    def user_change_password(self, request, id, form_url=""):
        with transaction.atomic():
            request._chanrong_password_change = True
            return super().user_change_password(request, id, form_url)

    def log_change(self, request, obj, message):
        if getattr(request, "_chanrong_password_change", False):
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


@admin.register(LoginThrottle)
class LoginThrottleAdmin(ReadOnlyModelAdmin, AuditedModelAdmin):
    """Deleting a row unlocks the account (recorded in the audit log)."""

    list_display = ("username", "failures", "window_started_at", "locked_until")
    search_fields = ("username",)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser
