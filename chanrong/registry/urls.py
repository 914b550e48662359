from django.urls import path

from . import pickers, views, views_credit, views_credit_report, views_personal, views_provenance

app_name = "registry"
urlpatterns = [
    path("", views.enterprise_list, name="list"),
    path("new/", views.enterprise_create, name="create"),
    path("pick/", pickers.pick, name="pick"),
    path("region-fields/", views.region_fields, name="region_fields"),
    path("operating-review/", views.operating_queue, name="operating_queue"),
    path("provenance-review/", views_provenance.review, name="provenance_review"),
    path("<int:pk>/figures/verify/", views_provenance.figures_verify, name="figures_verify"),
    path(
        "<int:pk>/qualifications/<int:qid>/verify/",
        views_provenance.qualification_verify,
        name="qualification_verify",
    ),
    path(
        "<int:pk>/qualifications/<int:qid>/reject/",
        views_provenance.qualification_reject,
        name="qualification_reject",
    ),
    path("<int:pk>/", views.enterprise_detail, name="detail"),
    path("<int:pk>/edit/", views.enterprise_edit, name="edit"),
    path("<int:pk>/profile/", views.profile_edit, name="profile"),
    path("<int:pk>/personal/unmask/", views_personal.unmask, name="unmask"),
    path("<int:pk>/tax-grades/", views.tax_grades, name="tax_grades"),
    path("<int:pk>/credit-records/", views_credit.credit_records, name="credit_records"),
    path(
        "<int:pk>/credit-report/",
        views_credit_report.credit_report_page,
        name="credit_report",
    ),
    path(
        "<int:pk>/credit-report.pdf",
        views_credit_report.credit_report_pdf,
        name="credit_report_pdf",
    ),
    path("<int:pk>/qualifications/new/", views.qualification_create, name="qualification_create"),
    path(
        "<int:pk>/qualifications/<int:qid>/edit/",
        views.qualification_edit,
        name="qualification_edit",
    ),
    path(
        "<int:pk>/qualifications/<int:qid>/revoke/",
        views.qualification_revoke,
        name="qualification_revoke",
    ),
    path("<int:pk>/operating/", views.operating_data, name="operating"),
    path("<int:pk>/operating/<int:rid>/review/", views.operating_review, name="operating_review"),
]
