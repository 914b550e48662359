"""Django admin for the shared kernel, and the audited base every app's
admin uses.

The admin is the platform operator's tool (only platform admins have
is_staff). Changes made through it bypass the web pages but not the audit
log: `AuditedModelAdmin` records every save and delete in the same
transaction, and the audit log itself is read-only here.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.db import models, transaction

from . import audit
from .models import AuditEntry, Counter, ImportJob, Industry, Notification, Region
from .text import kind_of_field, validate_name

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


class _AuditedActions:
    """Admin actions (the changelist's "执行" button) are recorded with the
    rows they were run on, whatever the action does; the built-in
    delete_selected is recorded by `delete_queryset`, row by row, once
    confirmed."""

    def response_action(self, request, queryset, *args, **kwargs):
        names = request.POST.getlist("action")
        try:
            name = names[int(request.POST.get("index", 0))]
        except (ValueError, IndexError):
            name = names[0] if names else ""
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        if not selected and name:  # an action on one object's change page
            pks = list(queryset.values_list("pk", flat=True)[:2])
            selected = [str(pks[0])] if len(pks) == 1 else []
        if not name or name == "delete_selected" or not selected:
            return super().response_action(request, queryset, *args, **kwargs)
        with transaction.atomic():
            audit.record(
                f"admin.{self.model._meta.model_name}.action",
                actor=request.user,
                object_type=self.model._meta.label_lower,
                object_id=",".join(selected)[:200],
                object_repr=name,
                changes={"action": name, "selected": selected[:1000], "count": len(selected)},
            )
            return super().response_action(request, queryset, *args, **kwargs)


class _CodeCharField(forms.CharField):
    """A code typed in the admin: NFKC first (full-width → ASCII), as
    `core.text.clean_code` does for the API and the forms."""

    def to_python(self, value):
        value = super().to_python(value)
        return unicodedata.normalize("NFKC", value) if isinstance(value, str) else value


class TextHygieneAdmin:
    """Issue 15 in the admin, without migrations: a CharField whose name
    makes it a name or a code (`core.text.kind_of_field`) refuses bidi,
    zero-width and control characters, and a code is NFKC-normalised. Mixed
    into `AuditedModelAdmin` (so into every admin `audit_every_admin`
    wraps) and into its inlines."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if not isinstance(db_field, models.CharField) or not isinstance(formfield, forms.CharField):
            return formfield
        kind = kind_of_field(db_field.name)
        if kind in ("name", "code") and validate_name not in formfield.validators:
            formfield.validators.append(validate_name)
        if kind == "code" and type(formfield) is forms.CharField:
            formfield.__class__ = _CodeCharField
        return formfield


_HYGIENIC_INLINES: dict[type, type] = {}


def _hygienic(inline_class: type) -> type:
    if issubclass(inline_class, TextHygieneAdmin):
        return inline_class
    if inline_class not in _HYGIENIC_INLINES:
        _HYGIENIC_INLINES[inline_class] = type(
            inline_class.__name__, (TextHygieneAdmin, inline_class), {}
        )
    return _HYGIENIC_INLINES[inline_class]


class AuditedModelAdmin(TextHygieneAdmin, _AuditedActions, admin.ModelAdmin):
    """Every add, change and delete through the admin goes into the audit log
    (as `admin.<model>.create|update|delete`, with the changed fields), in the
    same transaction; so do inline rows (`save_formset`) and admin actions.
    `audit_every_admin()` gives the admins other packages register (auth's
    groups, the task results) the same behaviour."""

    def _action(self, verb: str) -> str:
        return f"admin.{self.model._meta.model_name}.{verb}"

    def get_inline_instances(self, request, obj=None):
        return [
            _hygienic(type(inline))(self.model, self.admin_site)
            for inline in super().get_inline_instances(request, obj)
        ]

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

    def save_formset(self, request, form, formset, change):
        """Inline rows: each one added, changed or deleted, with its diff."""
        deleting = [
            (f.instance, f.instance.pk, str(f.instance))
            for f in getattr(formset, "deleted_forms", ())
            if f.instance.pk is not None
        ]
        with transaction.atomic():
            super().save_formset(request, form, formset, change)
            forms = {f.instance.pk: f for f in formset.forms if f.instance.pk is not None}
            parent = {"parent": [form.instance._meta.label_lower, form.instance.pk]}
            for verb, objects in (
                ("create", formset.new_objects),
                ("update", [obj for obj, _fields in formset.changed_objects]),
            ):
                for obj in objects:
                    changes = form_changes(forms[obj.pk]) if obj.pk in forms else {}
                    audit.record(
                        f"admin.{obj._meta.model_name}.{verb}",
                        actor=request.user,
                        obj=obj,
                        changes={**changes, **parent},
                    )
            for obj, pk, text in deleting:
                audit.record(
                    f"admin.{obj._meta.model_name}.delete",
                    actor=request.user,
                    object_type=obj._meta.label_lower,
                    object_id=pk,
                    object_repr=text,
                    changes=parent,
                )


class ReadOnlyModelAdmin(_AuditedActions, admin.ModelAdmin):
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

    # 三权分立: the log is the audit administrator's (the /audit/ pages); the
    # system administrator's superuser flag does not open it here.
    def has_module_permission(self, request):
        return False

    def has_view_permission(self, request, obj=None):
        return False


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


@admin.register(Counter)
class CounterAdmin(ReadOnlyModelAdmin):
    """The API's rate windows and the refusal counts (core.counters): looked
    at when a caller asks why it was throttled; changed only by requests."""

    list_display = ("name", "value", "expires_at")
    search_fields = ("name",)


def audit_every_admin(site: admin.AdminSite | None = None) -> list[str]:
    """Give every registered ModelAdmin that is neither audited nor read-only
    (those other packages register: auth's groups, django-tasks' results …)
    the audited behaviour, by registering a subclass mixing in
    `AuditedModelAdmin`. Run from CoreConfig.ready(), after the admin's
    autodiscovery; returns the labels it wrapped."""
    site = site or admin.site
    wrapped = []
    for model, model_admin in list(site._registry.items()):
        if isinstance(model_admin, AuditedModelAdmin | ReadOnlyModelAdmin):
            continue
        base = type(model_admin)
        audited = type(f"Audited{base.__name__}", (AuditedModelAdmin, base), {})
        site._registry[model] = audited(model, site)
        wrapped.append(model._meta.label)
    return wrapped
