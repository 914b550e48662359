"""财政金融政策 (mounted at /policy/). The UI grows here; route names are
stable (services link to "policy:application")."""

from django.urls import path

from . import views

app_name = "policy"

urlpatterns = [
    path("applications/<int:pk>/", views.application_detail, name="application"),
]
