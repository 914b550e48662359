"""融资需求."""

from django.urls import path

from . import views

app_name = "demands"
urlpatterns = [
    path("", views.demand_list, name="list"),
    path("new/", views.demand_create, name="create"),
    path("workbench/", views.workbench, name="workbench"),
    path("supervision/", views.supervision, name="supervision"),
    path(
        "supervision/refresh/",
        views.refresh_supervision_stats,
        name="supervision_refresh",
    ),
    path("<int:pk>/", views.demand_detail, name="detail"),
    path("<int:pk>/edit/", views.demand_edit, name="edit"),
    path("<int:pk>/feedback/", views.feedback, name="feedback"),
    path("<int:pk>/offers/<int:offer_pk>/accept/", views.offer_accept, name="accept_offer"),
    path("<int:pk>/authorisation/<str:action>/", views.authorisation, name="authorisation"),
    path("<int:pk>/<str:action>/", views.demand_action, name="action"),
    path("dispatches/<int:pk>/claim/", views.dispatch_claim, name="dispatch_claim"),
    path("dispatches/<int:pk>/<str:action>/", views.dispatch_form, name="dispatch_form"),
]
