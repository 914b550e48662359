"""指标与统计."""

from django.urls import path

from . import views, views_compare

app_name = "insights"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("indicators/", views.indicator_list, name="indicator_list"),
    path("plans/", views.plan_list, name="plan_list"),
    path("plans/new/", views.plan_create, name="plan_create"),
    path("plans/<int:pk>/", views.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/targets/", views.plan_targets, name="plan_targets"),
    path("plans/<int:pk>/print/", views.plan_print, name="plan_print"),
    path("plans/<int:pk>/export.xlsx", views.plan_export, name="plan_export"),
    path("report/", views.report, name="report"),
    path("figures/refresh/", views.refresh_figures, name="refresh_figures"),
    path(
        "plans/<int:pk>/statistics.xlsx",
        views_compare.plan_statistics_export,
        name="plan_statistics_export",
    ),
    path("plans/<int:pk>/comparison/", views_compare.plan_comparison, name="plan_comparison"),
]
