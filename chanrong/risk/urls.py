from django.urls import path

from . import views, views_alerts, views_consultation, views_groups, views_scorecard

app_name = "risk"

urlpatterns = [
    path("", views.home, name="home"),
    path("refresh/", views.refresh_home, name="home_refresh"),
    path("loans/", views.loan_list, name="loans"),
    path("loans/<int:pk>/", views.loan_detail, name="loan"),
    path("loans/<int:pk>/<slug:action>/", views.loan_action, name="loan_action"),
    path("alerts/", views_alerts.alert_board, name="alerts"),
    path("alerts/<int:pk>/<slug:action>/", views_alerts.alert_action, name="alert_action"),
    path("rules/", views_alerts.rules, name="rules"),
    path("consultations/", views_consultation.consultation_list, name="consultations"),
    path("consultations/new/", views_consultation.consultation_new, name="consultation_new"),
    path("consultations/<int:pk>/", views_consultation.consultation_detail, name="consultation"),
    path(
        "consultations/<int:pk>/<slug:action>/",
        views_consultation.consultation_action,
        name="consultation_action",
    ),
    path("rules/<int:pk>/toggle/", views_alerts.rule_toggle, name="rule_toggle"),
    path("models/", views_scorecard.model_list, name="models"),
    path("models/<int:pk>/", views_scorecard.model_detail, name="model"),
    path("models/<int:pk>/approve/", views_scorecard.model_approve, name="model_approve"),
    path("scores/<int:pk>/", views_scorecard.enterprise_score, name="score"),
    path("groups/", views_groups.group_stats, name="groups"),
    path("groups/refresh/", views_groups.refresh_group_sums, name="groups_refresh"),
    path("no-loan/", views_groups.no_loan, name="no_loan"),
    path("no-loan/send/", views_groups.no_loan_send, name="no_loan_send"),
]
