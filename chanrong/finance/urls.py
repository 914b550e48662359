from django.urls import path

from . import views

app_name = "finance"
urlpatterns = [
    path("", views.institution_list, name="list"),
]
