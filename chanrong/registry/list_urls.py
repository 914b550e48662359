"""名单 pages; the lead mounts them at /lists/."""

from django.urls import path

from . import views_lists as views

app_name = "lists"
urlpatterns = [
    path("", views.list_index, name="index"),
    path("new/", views.list_create, name="create"),
    path("<int:pk>/", views.list_detail, name="detail"),
    path("<int:pk>/edit/", views.list_edit, name="edit"),
    path("<int:pk>/compare/", views.compare, name="compare"),
    path("<int:pk>/versions/new/", views.version_create, name="version_create"),
    path("<int:pk>/versions/<int:number>/", views.version_detail, name="version"),
    path("<int:pk>/versions/<int:number>/edit/", views.version_edit, name="version_edit"),
    path("<int:pk>/versions/<int:number>/entries/", views.entry_add, name="entry_add"),
    path(
        "<int:pk>/versions/<int:number>/entries/<int:entry_id>/remove/",
        views.entry_remove,
        name="entry_remove",
    ),
    path("<int:pk>/versions/<int:number>/export/", views.version_export, name="version_export"),
    path(
        "<int:pk>/versions/<int:number>/<slug:action>/",
        views.version_action,
        name="version_action",
    ),
]
