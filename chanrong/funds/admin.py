"""Funds and investments in the admin: read-only — both are written only by
the services (validation by field, the paid-in ceiling, the audit log)."""

from django.contrib import admin

from chanrong.core.admin import ReadOnlyModelAdmin

from .models import Fund, FundInvestment


@admin.register(Fund)
class FundAdmin(ReadOnlyModelAdmin):
    list_display = ("name", "kind", "manager", "region", "paid_in_size", "status")
    list_filter = ("kind", "status")
    search_fields = ("name",)


@admin.register(FundInvestment)
class FundInvestmentAdmin(ReadOnlyModelAdmin):
    list_display = ("fund", "enterprise", "round", "amount", "invested_on", "exited_on")
    list_filter = ("round",)
    search_fields = ("fund__name", "enterprise__name")
