"""Routes of the green app's disclosure pages (included by green/urls.py)."""

from django.urls import path

from .views import disclosure as views

urlpatterns: list = [
    path("disclosures/", views.disclosure_list, name="disclosure_list"),
    path("disclosures/open/", views.disclosure_open, name="disclosure_open"),
    path("disclosures/checklist/", views.disclosure_checklist, name="disclosure_checklist"),
    path("disclosures/<int:pk>/", views.disclosure_detail, name="disclosure"),
    path("disclosures/<int:pk>/save/", views.disclosure_save, name="disclosure_save"),
    path("disclosures/<int:pk>/return/", views.disclosure_return, name="disclosure_return"),
]
