from django.urls import path

from . import views

app_name = "registry"
urlpatterns = [
    path("", views.enterprise_list, name="list"),
    path("new/", views.enterprise_create, name="create"),
    path("region-fields/", views.region_fields, name="region_fields"),
    path("operating-review/", views.operating_queue, name="operating_queue"),
    path("<int:pk>/", views.enterprise_detail, name="detail"),
    path("<int:pk>/edit/", views.enterprise_edit, name="edit"),
    path("<int:pk>/profile/", views.profile_edit, name="profile"),
    path("<int:pk>/tax-grades/", views.tax_grades, name="tax_grades"),
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
