"""Routes of the government pages (programme management, review, ledger)
and of the application page's buttons; included by policy/urls.py under the
"policy" namespace."""

from django.urls import path

from .views import applications, ledger, programmes, review

urlpatterns = [
    path(
        "applications/<int:pk>/do/<slug:action>/",
        applications.application_action,
        name="application_action",
    ),
    path("objections/<int:pk>/handle/", applications.objection_handle, name="objection_handle"),
    path("objections/<int:pk>/unmask/", applications.objection_unmask, name="objection_unmask"),
    path("attachments/<int:pk>/", applications.attachment_download, name="attachment_download"),
    path("gov/", programmes.programme_list, name="gov_programmes"),
    path("gov/programmes/new/", programmes.programme_create, name="gov_programme_new"),
    path("gov/programmes/params/", programmes.programme_params, name="gov_programme_params"),
    path("gov/programmes/<int:pk>/", programmes.programme_detail, name="gov_programme"),
    path("gov/programmes/<int:pk>/edit/", programmes.programme_edit, name="gov_programme_edit"),
    path(
        "gov/programmes/<int:pk>/budget/", programmes.programme_budget, name="gov_programme_budget"
    ),
    path(
        "gov/programmes/<int:pk>/do/<slug:action>/",
        programmes.programme_action,
        name="gov_programme_action",
    ),
    path("gov/programmes/<int:pk>/ledger/", ledger.ledger, name="gov_ledger"),
    path("gov/applications/", review.application_list, name="gov_applications"),
]
