"""互联互通 pages (mounted at /exchange/). Route names are stable."""

from django.urls import path

from . import views

app_name = "exchange"

urlpatterns = [
    path("", views.home, name="home"),
    path("identity/", views.edit_identity, name="identity"),
    path("codes/", views.issue_code, name="code"),
    path("register/", views.register, name="register"),
    path("queue/", views.queue, name="queue"),
    path("peers/<int:pk>/push/", views.push_now, name="push"),
    path("peers/<int:pk>/pull/", views.pull_now, name="pull"),
    path("peers/<int:pk>/state/", views.peer_state, name="peer_state"),
    path("outbound/", views.outbound, name="outbound"),
    path("inbound/", views.inbound, name="inbound"),
    path("inbound/<uuid:batch_id>/", views.inbound_detail, name="inbound_detail"),
    path("refusals/", views.refusals, name="refusals"),
    path("received/", views.received, name="received"),
]
