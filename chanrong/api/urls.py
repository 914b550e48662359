"""Web pages for webhooks (mount with `path("webhooks/", include("chanrong.api.urls"))`)."""

from django.urls import path

from . import views

app_name = "webhooks"

urlpatterns = [
    path("", views.endpoint_list, name="list"),
    path("new/", views.endpoint_create, name="create"),
    path("<int:pk>/", views.endpoint_detail, name="detail"),
    path(
        "<int:pk>/deactivate/",
        views.endpoint_set_active,
        {"active": False},
        name="deactivate",
    ),
    path("<int:pk>/activate/", views.endpoint_set_active, {"active": True}, name="activate"),
    path("<int:pk>/ping/", views.endpoint_ping, name="ping"),
    path("<int:pk>/rotate-secret/", views.endpoint_rotate, name="rotate"),
    path("deliveries/<int:pk>/", views.delivery_detail, name="delivery"),
    path("deliveries/<int:pk>/redeliver/", views.delivery_redeliver, name="redeliver"),
]
