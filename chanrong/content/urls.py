"""公开服务 (mounted at /public/). Route names are stable."""

from django.urls import path

from . import views, views_manage

app_name = "content"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("knowledge/", views.article_list, name="articles"),
    path("knowledge/<int:pk>/", views.article_detail, name="article"),
    path("faq/", views.faq, name="faq"),
    path("ask/", views.ask, name="ask"),
    path("ask/done/", views.asked, name="asked"),
    path("answers/", views.answers, name="answers"),
    path("answers/<int:pk>/", views.consultation, name="consultation"),
    path("manage/", views_manage.manage, name="manage"),
    path("manage/knowledge/new/", views_manage.article_edit, name="article_new"),
    path("manage/knowledge/<int:pk>/edit/", views_manage.article_edit, name="article_edit"),
    path(
        "manage/knowledge/<int:pk>/<str:action>/",
        views_manage.article_action,
        name="article_action",
    ),
    path("manage/faq/new/", views_manage.faq_edit, name="faq_new"),
    path("manage/faq/<int:pk>/edit/", views_manage.faq_edit, name="faq_edit"),
    path("manage/faq/<int:pk>/delete/", views_manage.faq_delete, name="faq_delete"),
    path("manage/consultations/", views_manage.queue, name="queue"),
    path(
        "manage/consultations/<int:pk>/",
        views_manage.consultation,
        name="manage_consultation",
    ),
    path(
        "manage/consultations/<int:pk>/<str:action>/",
        views_manage.consultation_action,
        name="consultation_action",
    ),
]
