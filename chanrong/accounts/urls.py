from django.contrib.auth import views as auth_views
from django.urls import path

from . import views, views_otp, views_registration
from .forms import LoginForm

app_name = "accounts"
urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm,
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("otp/", views_otp.otp_verify, name="otp_verify"),
    path("otp/enrol/", views_otp.otp_enrol, name="otp_enrol"),
    path("tokens/", views.token_list, name="tokens"),
    path("tokens/new/", views.token_create, name="token_create"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    # Self-registration: public forms, the applicant's status link, the review queue.
    path("register/", views_registration.register_start, name="register"),
    path(
        "register/enterprise/",
        views_registration.register_enterprise,
        name="register_enterprise",
    ),
    path(
        "register/institution/",
        views_registration.register_institution,
        name="register_institution",
    ),
    path("register/privacy/", views_registration.privacy, name="register_privacy"),
    path("register/regions/", views_registration.region_options, name="register_regions"),
    path(
        "register/status/<str:token>/",
        views_registration.status,
        name="registration_status",
    ),
    path("registrations/", views_registration.queue, name="registrations"),
    path("registrations/<int:pk>/", views_registration.review, name="registration_review"),
    path(
        "registrations/<int:pk>/decide/",
        views_registration.decide,
        name="registration_decide",
    ),
]
