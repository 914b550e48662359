"""Django admin for demands (platform admins only), read-only: states move
only through demands.services, which check each transition and audit it."""

from django.contrib import admin

from chanrong.core.admin import ReadOnlyModelAdmin

from .models import Demand, DemandEvent, Dispatch, Feedback, Offer


@admin.register(Demand)
class DemandAdmin(ReadOnlyModelAdmin):
    list_display = ("purpose", "enterprise", "kind", "amount", "state", "published_at")
    list_filter = ("state", "kind", "urgency")
    search_fields = ("purpose", "enterprise__name", "enterprise__uscc")
    raw_id_fields = ("enterprise", "created_by", "accepted_offer", "outcome_institution")


@admin.register(Dispatch)
class DispatchAdmin(ReadOnlyModelAdmin):
    list_display = ("demand", "institution", "branch", "state", "dispatched_at", "claim_due_at")
    list_filter = ("state",)
    search_fields = ("institution__name", "demand__enterprise__name")
    raw_id_fields = ("demand", "institution", "branch", "claimed_by")


@admin.register(Offer)
class OfferAdmin(ReadOnlyModelAdmin):
    list_display = ("demand", "institution", "amount", "rate", "term_months", "accepted_at")
    search_fields = ("institution__name", "demand__enterprise__name")
    raw_id_fields = ("demand", "dispatch", "institution", "product", "created_by")


@admin.register(DemandEvent)
class DemandEventAdmin(ReadOnlyModelAdmin):
    list_display = ("created_at", "demand", "verb", "message")
    list_filter = ("verb",)
    search_fields = ("message",)
    raw_id_fields = ("demand", "actor", "institution")


@admin.register(Feedback)
class FeedbackAdmin(ReadOnlyModelAdmin):
    list_display = ("institution", "score", "comment", "created_at")
    list_filter = ("score",)
    search_fields = ("institution__name", "comment")
    raw_id_fields = ("demand", "institution", "enterprise", "created_by")
