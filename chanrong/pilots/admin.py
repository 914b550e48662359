"""The pilot programme in the admin: read-only. Every change goes through the
web pages and API (services.py and the state machines), never around them."""

from django.contrib import admin

from chanrong.core.admin import ReadOnlyModelAdmin

from .models import Application, Batch, Document, MinistryReview, ProgressReport, ProvincialReview


@admin.register(Batch)
class BatchAdmin(ReadOnlyModelAdmin):
    list_display = ("number", "name", "state", "application_deadline", "provincial_deadline")


@admin.register(Application)
class ApplicationAdmin(ReadOnlyModelAdmin):
    list_display = ("region", "batch", "kind", "state", "submitted_at")
    list_filter = ("batch", "kind", "state")
    search_fields = ("region__name", "title")


@admin.register(ProvincialReview)
class ProvincialReviewAdmin(ReadOnlyModelAdmin):
    list_display = ("application", "review_region", "state", "slot", "decided_at")
    list_filter = ("batch", "state")


@admin.register(MinistryReview)
class MinistryReviewAdmin(ReadOnlyModelAdmin):
    list_display = ("application", "state", "decided_at")
    list_filter = ("batch", "state")


@admin.register(ProgressReport)
class ProgressReportAdmin(ReadOnlyModelAdmin):
    list_display = ("application", "year", "period", "state", "submitted_at")


@admin.register(Document)
class DocumentAdmin(ReadOnlyModelAdmin):
    list_display = ("original_name", "kind", "file_type", "size", "uploaded_at")
    list_filter = ("kind",)
    exclude = ("file",)  # downloads only through the view that checks visibility
