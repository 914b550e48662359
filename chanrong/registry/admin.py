"""Django admin for enterprises and their data authorisations (platform
admins only). Enterprise input is checked by the same cleaner the web pages
and API use, and the size is recomputed on save."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin

from chanrong.core.admin import AuditedModelAdmin
from chanrong.core.errors import ValidationFailed

from . import services
from .models import DataAuthorisation, Enterprise

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
