"""财政金融政策 (mounted at /policy/). The UI grows here; route names are
stable (services link to "policy:application")."""

from django.urls import include, path

from . import urls_gov, urls_public, views
from .views import outreach, pools, stats

app_name = "policy"

urlpatterns = [
    path("applications/<int:pk>/", views.application_detail, name="application"),
    path("", include(urls_gov.urlpatterns)),
    path("gov/programmes/<int:pk>/outreach/", include(outreach.urlpatterns)),
    path("pools/", include(pools.urlpatterns)),
    path("stats/", include(stats.urlpatterns)),
    path("", include(urls_public.urlpatterns)),
]
