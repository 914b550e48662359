"""产融合作试点城市 (mounted at /pilot/)."""

from django.urls import path

from . import views

app_name = "pilots"

urlpatterns = [
    path("", views.index, name="index"),
    # The published lists, open to everyone (no login).
    path("public/", views.public_list, name="public"),
    path("public/<int:number>/", views.public_batch, name="public_batch"),
    # Batches (the ministry side).
    path("batches/", views.batch_list, name="batches"),
    path("batches/new/", views.batch_create, name="batch_create"),
    path("batches/<int:pk>/", views.batch_detail, name="batch"),
    path("batches/<int:pk>/edit/", views.batch_edit, name="batch_edit"),
    path("batches/<int:pk>/documents/", views.batch_document, name="batch_document"),
    path("batches/<int:pk>/rubric/", views.batch_rubric, name="batch_rubric"),
    path("batches/<int:pk>/open/", views.batch_open, name="batch_open"),
    path("batches/<int:pk>/publish/", views.batch_publish, name="batch_publish"),
    path("batches/<int:pk>/apply/", views.application_create, name="apply"),
    # Applications.
    path("applications/", views.application_list, name="applications"),
    path("applications/<int:pk>/", views.application_detail, name="application"),
    path("applications/<int:pk>/unmask/", views.application_unmask, name="application_unmask"),
    path("applications/<int:pk>/edit/", views.application_edit, name="application_edit"),
    path("applications/<int:pk>/plan/", views.application_plan, name="application_plan"),
    path(
        "applications/<int:pk>/indicators/",
        views.application_indicators,
        name="application_indicators",
    ),
    path(
        "applications/<int:pk>/documents/",
        views.application_document,
        name="application_document",
    ),
    path("applications/<int:pk>/submit/", views.application_submit, name="application_submit"),
    path(
        "applications/<int:pk>/withdraw/", views.application_withdraw, name="application_withdraw"
    ),
    path("applications/<int:pk>/opinion/", views.application_opinion, name="application_opinion"),
    path(
        "applications/<int:pk>/recommend/",
        views.application_recommend,
        name="application_recommend",
    ),
    path("applications/<int:pk>/decline/", views.application_decline, name="application_decline"),
    path("applications/<int:pk>/reopen/", views.application_reopen, name="application_reopen"),
    path("applications/<int:pk>/score/", views.application_score, name="application_score"),
    path("applications/<int:pk>/decide/", views.application_decide, name="application_decide"),
    path(
        "applications/<int:pk>/reconsider/",
        views.application_reconsider,
        name="application_reconsider",
    ),
    path("applications/<int:pk>/reports/new/", views.report_create, name="report_create"),
    # Provincial unit and ministry.
    path("province/", views.province_index, name="province"),
    path("province/<int:pk>/", views.province_batch, name="province_batch"),
    path(
        "province/<int:pk>/joint-report/",
        views.province_joint_report,
        name="province_joint_report",
    ),
    path("province/<int:pk>/confirm/", views.province_confirm, name="province_confirm"),
    path("ministry/<int:pk>/", views.ministry_board, name="ministry"),
    # Files: only through this view, which checks visibility.
    path("files/<int:pk>/", views.document_download, name="file"),
    path("files/<int:pk>/delete/", views.document_delete, name="file_delete"),
    # Progress reports and evaluation.
    path("reports/<int:pk>/", views.report_detail, name="report"),
    path("reports/<int:pk>/documents/", views.report_document, name="report_document"),
    path("reports/<int:pk>/submit/", views.report_submit, name="report_submit"),
    path("reports/<int:pk>/return/", views.report_return, name="report_return"),
    path("tracking/", views.tracking, name="tracking"),
    path("tracking/export.xlsx", views.tracking_export, name="tracking_export"),
]
