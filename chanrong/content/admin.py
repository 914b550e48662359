"""公开服务 in the admin: read-only, since articles, FAQ entries and
consultations change only through the services (audited, notified)."""

from django.contrib import admin

from chanrong.core.admin import ReadOnlyModelAdmin

from .models import Article, Consultation, Faq


@admin.register(Article)
class ArticleAdmin(ReadOnlyModelAdmin):
    list_display = ("title", "category", "state", "region", "published_on")
    list_filter = ("category", "state")
    search_fields = ("title",)
    raw_id_fields = ("region", "agency", "created_by")


@admin.register(Faq)
class FaqAdmin(ReadOnlyModelAdmin):
    list_display = ("question", "category", "position", "published")
    list_filter = ("category", "published")
    search_fields = ("question",)
    raw_id_fields = ("region", "created_by")


@admin.register(Consultation)
class ConsultationAdmin(ReadOnlyModelAdmin):
    list_display = ("subject", "addressee_kind", "state", "submitted_at")
    list_filter = ("addressee_kind", "state")
    search_fields = ("subject",)
    exclude = ("asker_name", "asker_phone", "asker_email", "asker_phone_hash", "asker_email_hash")
    raw_id_fields = ("agency", "institution", "asker_user", "answered_by")
