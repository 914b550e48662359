from django.urls import include, path

from . import views

# The "core:" namespace, kept apart so that the un-namespaced "home" (used by
# LOGIN_REDIRECT_URL and the menus) keeps its name. Add further core: URLs here
# rather than including a second "core" namespace.
audit_patterns = [
    path("", views.audit_list, name="audit"),
    path("<int:seq>/", views.audit_detail, name="audit_detail"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("audit/", include((audit_patterns, "core"), namespace="core")),
]
