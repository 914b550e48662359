"""The LPR page, mounted at /finance/ (namespace "lpr")."""

from django.urls import path

from . import lpr_views

app_name = "lpr"
urlpatterns = [
    path("lpr/", lpr_views.lpr_list, name="list"),
]
