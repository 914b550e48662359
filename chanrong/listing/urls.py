"""上市培育 pages (mounted at /listing/). Route names are stable."""

from django.urls import path

from . import views

app_name = "listing"

urlpatterns = [
    path("", views.pipeline_list, name="list"),
    path("new/", views.pipeline_new, name="new"),
    path("<int:pk>/", views.pipeline_detail, name="detail"),
    path("<int:pk>/advance/", views.advance, name="advance"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("stats/", views.stats_page, name="stats"),
    path("reserve/<int:pk>/propose/", views.propose_reserve, name="propose_reserve"),
]
