"""Django admin for enterprises and their data authorisations (platform
admins only). Enterprise input is checked by the same cleaner the web pages
and API use, and the size is recomputed on save."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin

from chanrong.core.admin import AuditedModelAdmin, ReadOnlyModelAdmin
from chanrong.core.errors import ValidationFailed

from . import services
from .models import (
    CreditRecord,
    DataAuthorisation,
    Enterprise,
    EnterpriseList,
    ListEntry,
    ListVersion,
    OperatingRecord,
    Project,
    Qualification,
    TaxCreditGrade,
)

# The service's input names -> this form's fields.
_FIELD_OF = {
    "region_code": "region",
    "industry_code": "industry",
    "revenue_wan": "revenue",
    "assets_wan": "assets",
}


class EnterpriseAdminForm(forms.ModelForm):
    class Meta:
        model = Enterprise
        fields = ("uscc", "name", "region", "industry", "employees", "revenue", "assets")

    def clean(self):
        data = super().clean()
        if self.errors:
            return data

        def wan(value):
            return None if value is None else value / Decimal(10000)

        raw = {
            "uscc": data.get("uscc"),
            "name": data.get("name"),
            "region_code": data["region"].pk if data.get("region") else None,
            "industry_code": data["industry"].pk if data.get("industry") else None,
            "employees": data.get("employees"),
            "revenue_wan": wan(data.get("revenue")),
            "assets_wan": wan(data.get("assets")),
        }
        try:
            values = services.clean_enterprise_data(raw)
        except ValidationFailed as exc:
            for error in exc.errors:
                field = _FIELD_OF.get(error.field, error.field)
                self.add_error(field if field in self.fields else None, error.message)
            return data
        data["uscc"] = values["uscc"]
        data["name"] = values["name"]
        return data


@admin.register(Enterprise)
class EnterpriseAdmin(AuditedModelAdmin):
    form = EnterpriseAdminForm
    list_display = ("name", "uscc", "region", "industry", "size", "employees")
    list_filter = ("size",)
    search_fields = ("name", "uscc")
    autocomplete_fields = ("region", "industry")
    readonly_fields = ("size", "created_at", "updated_at")

    def save_model(self, request, obj, form, change):
        obj.size = services.compute_size(obj)
        super().save_model(request, obj, form, change)


@admin.register(DataAuthorisation)
class DataAuthorisationAdmin(AuditedModelAdmin):
    list_display = ("enterprise", "institution", "granted_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("enterprise__name", "institution__name")
    autocomplete_fields = ("enterprise",)
    raw_id_fields = ("institution",)
    readonly_fields = ("granted_at",)


# The rest of the 名录库 is shown, not edited, here: its changes carry rules
# (history kept, published list versions frozen, the approval workflow,
# plausibility flags) that only the services apply, on the web pages and API.


@admin.register(TaxCreditGrade)
class TaxCreditGradeAdmin(ReadOnlyModelAdmin):
    list_display = ("enterprise", "year", "grade", "updated_at")
    list_filter = ("grade", "year")
    search_fields = ("enterprise__name", "enterprise__uscc")


@admin.register(Qualification)
class QualificationAdmin(ReadOnlyModelAdmin):
    list_display = ("enterprise", "kind", "board", "issuer", "valid_from", "valid_until", "source")
    list_filter = ("kind", "source")
    search_fields = ("enterprise__name", "enterprise__uscc", "certificate_no")


@admin.register(Project)
class ProjectAdmin(ReadOnlyModelAdmin):
    list_display = ("name", "owner", "kind", "stage", "region", "total_investment")
    list_filter = ("kind", "stage", "project_class")
    search_fields = ("name", "owner__name")


@admin.register(EnterpriseList)
class EnterpriseListAdmin(ReadOnlyModelAdmin):
    list_display = ("name", "list_type", "agency", "region")
    list_filter = ("list_type",)
    search_fields = ("name", "agency__name")


@admin.register(ListVersion)
class ListVersionAdmin(ReadOnlyModelAdmin):
    list_display = ("list", "number", "status", "effective_from", "effective_until")
    list_filter = ("status",)
    search_fields = ("list__name",)


@admin.register(ListEntry)
class ListEntryAdmin(ReadOnlyModelAdmin):
    list_display = ("version", "enterprise", "project", "change", "reason")
    list_filter = ("change",)
    search_fields = ("enterprise__name", "enterprise__uscc", "project__name", "version__list__name")


@admin.register(OperatingRecord)
class OperatingRecordAdmin(ReadOnlyModelAdmin):
    list_display = ("enterprise", "period_type", "period_start", "revenue", "review_status")
    list_filter = ("review_status", "period_type")
    search_fields = ("enterprise__name", "enterprise__uscc")


@admin.register(CreditRecord)
class CreditRecordAdmin(ReadOnlyModelAdmin):
    """Read-only: records arrive by import or the API (idempotent, audited,
    scoped to the recorder's region); the admin only looks them up."""

    list_display = ("enterprise", "kind", "occurred_on", "source", "reference", "amount")
    list_filter = ("kind",)
    search_fields = ("enterprise__name", "enterprise__uscc", "reference", "source")
    date_hierarchy = "occurred_on"
