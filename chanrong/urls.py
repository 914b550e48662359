from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from chanrong.accounts.admin_site import ChanrongAdminSite
from chanrong.api.api import api

# /admin/ needs a verified second factor (django-otp's documented way to swap the site).
admin.site.__class__ = ChanrongAdminSite

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("accounts/", include("chanrong.accounts.urls")),
    path("enterprises/", include("chanrong.registry.urls")),
    path("projects/", include("chanrong.registry.project_urls")),
    path("lists/", include("chanrong.registry.list_urls")),
    path("institutions/", include("chanrong.finance.urls")),
    path("finance/", include("chanrong.finance.lpr_urls")),
    path("demands/", include("chanrong.demands.urls")),
    path("events/", include("chanrong.events.urls")),
    path("pilot/", include("chanrong.pilots.urls")),
    path("policy/", include("chanrong.policy.urls")),
    path("supplychain/", include("chanrong.supplychain.urls")),
    path("green/", include("chanrong.green.urls")),
    path("exchange/", include("chanrong.exchange.urls")),
    path("risk/", include("chanrong.risk.urls")),
    path("funds/", include("chanrong.funds.urls")),
    path("listing/", include("chanrong.listing.urls")),
    path("public/", include("chanrong.content.urls")),
    path("insights/", include("chanrong.insights.urls")),
    path("matching/", include("chanrong.matching.urls")),
    path("webhooks/", include("chanrong.api.urls")),
    path("ops/", include("chanrong.ops.urls")),
    path("", include("chanrong.portal.urls")),
    path("", include("chanrong.core.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# A request Django refuses itself (a body over the upload limit, a broken
# form): the platform's own page in the user's language, not "Bad Request (400)".
handler400 = "chanrong.core.error_views.bad_request"
