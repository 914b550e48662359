"""Routes of the public and enterprise side (included by urls.py at the
root of /policy/): 政策发布 and 公示 without login, 我的政策 and the
application steps for enterprises, 待确认 for banks."""

from django.urls import path

from .views import apply, bank, mine, public

urlpatterns = [
    path("", public.programme_list, name="public_programmes"),
    path("programmes/<int:pk>/", public.programme_detail, name="public_programme"),
    path("notices/", public.notice_list, name="notices"),
    path("notices/<int:pk>/objection/", public.objection, name="notice_objection"),
    path("mine/", mine.mine, name="mine"),
    path("apply/<int:pk>/", apply.choose_loan, name="apply_loan"),
    path("apply/<int:pk>/claim/", apply.claim, name="apply_claim"),
    path("apply/<int:pk>/preview/", apply.preview, name="apply_preview"),
    path("applications/<int:pk>/materials/", apply.materials, name="application_materials"),
    path("applications/<int:pk>/confirm/", apply.confirm, name="application_confirm"),
    path("attachments/<int:pk>/delete/", apply.attachment_delete, name="attachment_delete"),
    path("bank/", bank.pending, name="bank_pending"),
    path("bank/applications/<int:pk>/confirm/", bank.confirm_application, name="bank_confirm"),
    path("bank/loans/<int:pk>/confirm/", bank.confirm_loan, name="bank_confirm_loan"),
]
