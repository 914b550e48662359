"""产融对接匹配: pages."""

from django.urls import path

from . import views

app_name = "matching"
urlpatterns = [
    path("policy-weights/", views.policy_weights, name="policy"),
    path("outreach/<int:enterprise_id>/invite/", views.outreach_invite, name="outreach_invite"),
]
