"""产业基金 pages (mounted at /funds/). Route names are stable."""

from django.urls import path

from . import views

app_name = "funds"

urlpatterns = [
    path("", views.fund_list, name="list"),
    path("new/", views.fund_new, name="new"),
    path("stats/", views.stats_page, name="stats"),
    path("<int:pk>/", views.fund_detail, name="detail"),
    path("<int:pk>/investments/", views.investment_new, name="investment_new"),
    path("investments/<int:pk>/exit/", views.investment_exit, name="investment_exit"),
    path("<int:pk>/transition/<slug:name>/", views.fund_transition, name="transition"),
]
