"""Django admin for institutions and branches (platform admins only)."""

from django.contrib import admin

from chanrong.core.admin import AuditedModelAdmin, ReadOnlyModelAdmin

from .models import Branch, FinancialInstitution, LprRate, Product


class BranchInline(admin.TabularInline):
    model = Branch
    fk_name = "institution"
    extra = 0
    fields = ("name", "level", "region", "parent", "address", "phone")
    autocomplete_fields = ("region",)
    raw_id_fields = ("parent",)
    show_change_link = True


@admin.register(FinancialInstitution)
class FinancialInstitutionAdmin(AuditedModelAdmin):
    list_display = ("name", "short_name", "kind", "region", "uscc")
    list_filter = ("kind",)
    search_fields = ("name", "short_name", "uscc")
    autocomplete_fields = ("region",)
    inlines = [BranchInline]

    def save_formset(self, request, form, formset, change):
        from django.db import transaction

        from chanrong.core import audit

        with transaction.atomic():
            instances = formset.save()
            for obj in instances:
                audit.record("admin.branch.save", actor=request.user, obj=obj)
            for obj in formset.deleted_objects:
                audit.record(
                    "admin.branch.delete",
                    actor=request.user,
                    object_type="finance.branch",
                    object_repr=str(obj),
                )


@admin.register(Branch)
class BranchAdmin(AuditedModelAdmin):
    list_display = ("name", "institution", "level", "region")
    list_filter = ("level", "institution")
    search_fields = ("name", "institution__name", "address")
    autocomplete_fields = ("region", "institution")
    raw_id_fields = ("parent",)


@admin.register(Product)
class ProductAdmin(ReadOnlyModelAdmin):
    """Read-only: products move through review (draft → published …) only by
    the finance services, which check each transition and audit it."""

    list_display = ("name", "institution", "kind", "state", "published_at", "updated_at")
    list_filter = ("state", "kind")
    search_fields = ("name", "institution__name")


@admin.register(LprRate)
class LprRateAdmin(ReadOnlyModelAdmin):
    """Read-only here: a month is added or corrected on /finance/lpr/, where
    finance.lpr.save_lpr validates and audits it."""

    list_display = ("published_on", "tenor", "rate", "source", "updated_at")
    list_filter = ("tenor",)
    date_hierarchy = "published_on"
