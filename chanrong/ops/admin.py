"""The heartbeats in the Django admin, read-only: they are written by the
worker and scheduler processes only."""

from __future__ import annotations

from django.contrib import admin

from chanrong.core.admin import ReadOnlyModelAdmin

from .models import ProcessHeartbeat


@admin.register(ProcessHeartbeat)
class ProcessHeartbeatAdmin(ReadOnlyModelAdmin):
    list_display = ("kind", "ident", "host", "pid", "started_at", "seen_at", "stopped_at")
    list_filter = ("kind", "host")
    search_fields = ("ident", "host")
    ordering = ("kind", "-seen_at")
