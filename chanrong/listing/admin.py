"""上市培育 in the admin: read-only, since pipelines move only through the
services (each stage audited and notified)."""

from django.contrib import admin

from chanrong.core.admin import ReadOnlyModelAdmin

from .models import Pipeline, StageRecord


@admin.register(Pipeline)
class PipelineAdmin(ReadOnlyModelAdmin):
    list_display = ("enterprise", "board", "stage", "agency", "stock_code", "listed_on")
    list_filter = ("board", "stage")
    search_fields = ("enterprise__name", "enterprise__uscc", "stock_code")
    raw_id_fields = ("enterprise", "agency", "created_by")


@admin.register(StageRecord)
class StageRecordAdmin(ReadOnlyModelAdmin):
    list_display = ("pipeline", "stage", "reached_on", "agency", "document_no")
    list_filter = ("stage",)
    search_fields = ("pipeline__enterprise__name", "document_no")
    raw_id_fields = ("pipeline", "agency", "recorded_by")
