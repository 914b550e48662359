"""Routes of the green app's library pages (included by green/urls.py), and
the app's hub page `green:home`."""

from django.urls import path

from .views import home, library

urlpatterns = [
    path("", home.home, name="home"),
    path("library/", library.browse, name="library_browse"),
    path("library/catalogue/", library.catalogue, name="library_catalogue"),
    path("library/applications/", library.applications, name="library_applications"),
    path("library/applications/new/", library.apply, name="library_apply"),
    path("library/applications/<int:pk>/", library.detail, name="library_detail"),
    path(
        "library/applications/<int:pk>/<str:name>/",
        library.action,
        name="library_action",
    ),
    path("library/publish/", library.publish, name="library_publish"),
    path("library/publish/<int:list_pk>/", library.propose, name="library_propose"),
    path("library/stats/", library.stats_page, name="library_stats"),
]
