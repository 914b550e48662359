"""Routes of the green app's carbon pages (included by green/urls.py).
Names are stable; the menu leads to `green:carbon_reports`."""

from django.urls import path

from .views import carbon

urlpatterns: list = [
    path("carbon/", carbon.report_list, name="carbon_reports"),
    path("carbon/new/", carbon.report_new, name="carbon_report_new"),
    path("carbon/<int:pk>/", carbon.report_detail, name="carbon_report"),
    path("carbon/overview/", carbon.overview, name="carbon_overview"),
    path("carbon/factors/", carbon.factor_list, name="carbon_factors"),
]
