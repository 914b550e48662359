"""Django admin for the shared kernel, and the audited base every app's
admin uses.

The admin is the platform operator's tool (only platform admins have
is_staff). Changes made through it bypass the web pages but not the audit
log: `AuditedModelAdmin` records every save and delete in the same
transaction, and the audit log itself is read-only here.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction

from . import audit
from .models import AuditEntry, ImportJob, Industry, Notification, Region

SECRET_FIELDS = {"password", "password1", "password2", "token_hash"}


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, list | tuple | set) or hasattr(value, "__iter__"):
        try:
            return [_plain(v) for v in value]
        except TypeError:
            pass
    return str(value)


def form_changes(form) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields the admin form changed (never secrets)."""
    changes: dict[str, list[Any]] = {}
    for name in getattr(form, "changed_data", []):
        if name in SECRET_FIELDS:
            changes[name] = ["***", "***"]
            continue
        old = form.initial.get(name)
        new = form.cleaned_data.get(name)
        changes[name] = [_plain(old), _plain(new)]
    return changes


class AuditedModelAdmin(admin.ModelAdmin):
    """Every add, change and delete through the admin goes into the audit log."""

    def _action(self, verb: str) -> str:
        return f"admin.{self.model._meta.model_name}.{verb}"

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit.record(
                self._action("update" if change else "create"),
                actor=request.user,
                obj=obj,
                changes=form_changes(form),
            )

    def delete_model(self, request, obj):
        with transaction.atomic():
            audit.record(self._action("delete"), actor=request.user, obj=obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                audit.record(self._action("delete"), actor=request.user, obj=obj)
            super().delete_queryset(request, queryset)


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """For records nobody may edit by hand (the audit chain, throttles)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Region)
class RegionAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "level", "parent", "is_separate_plan_city", "is_corps")
    list_filter = ("level", "is_separate_plan_city", "is_corps")
    search_fields = ("code", "name")
    raw_id_fields = ("parent",)
    ordering = ("code",)


@admin.register(Industry)
class IndustryAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")
    raw_id_fields = ("parent",)
    ordering = ("code",)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyModelAdmin):
    list_display = (
        "seq",
        "created_at",
        "actor_name",
        "organisation",
        "action",
        "object_type",
        "object_id",
        "ip",
    )
    list_filter = ("action", "object_type")
    search_fields = (
        "actor_name",
        "organisation",
        "action",
        "object_type",
        "object_id",
        "object_repr",
    )
    date_hierarchy = "created_at"
    ordering = ("-seq",)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyModelAdmin):
    list_display = ("created_at", "recipient", "verb", "message", "read_at")
    list_filter = ("verb",)
    search_fields = ("message", "recipient__username")
    raw_id_fields = ("recipient",)


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyModelAdmin):
    """Imports are started and watched on the import pages; here only looked at."""

    list_display = ("pk", "kind", "status", "created_by", "created_at")
    list_filter = ("kind", "status")
    search_fields = ("filename",)
