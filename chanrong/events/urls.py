"""银企对接活动."""

from django.urls import path

from . import views

app_name = "events"
urlpatterns = [
    path("", views.event_list, name="list"),
    path("new/", views.event_create, name="create"),
    path("<int:pk>/", views.event_detail, name="detail"),
    path("<int:pk>/edit/", views.event_edit, name="edit"),
    path("<int:pk>/invite/", views.event_invite, name="invite"),
    path("<int:pk>/register/", views.event_register, name="register"),
    path("<int:pk>/withdraw/", views.event_withdraw, name="withdraw"),
    path("<int:pk>/demands/", views.event_add_demand, name="add_demand"),
    path("<int:pk>/deals/", views.event_add_deal, name="add_deal"),
    path("<int:pk>/deals/<int:deal_pk>/delete/", views.event_delete_deal, name="delete_deal"),
    path("<int:pk>/<str:action>/", views.event_transition, name="transition"),
]
