from django.urls import include, path

from . import export_views, import_views, inbox_views, pickers, pipl_views, views

# The "core:" namespace. Add further core: URLs here rather than including a
# second "core" namespace (the un-namespaced "home" is the portal app's).
audit_patterns = [
    path("", views.audit_list, name="audit"),
    path("<int:seq>/", views.audit_detail, name="audit_detail"),
    path("export/", views.audit_export, name="audit_export"),
]

inbox_patterns = [
    path("", inbox_views.inbox, name="inbox"),
    path("<int:pk>/read/", inbox_views.mark_read, name="inbox_read"),
    path("read-all/", inbox_views.mark_all_read, name="inbox_read_all"),
]

import_patterns = [
    path("", import_views.import_list, name="imports"),
    path("new/", import_views.import_new, name="import_new"),
    path("templates/<slug:kind>/", import_views.import_template, name="import_template"),
    path("<int:pk>/", import_views.import_detail, name="import_detail"),
    path("<int:pk>/progress/", import_views.import_progress, name="import_progress"),
    path("<int:pk>/report/", import_views.import_report, name="import_report"),
]

core_patterns = [
    path("audit/", include(audit_patterns)),
    path("inbox/", include(inbox_patterns)),
    path("imports/", include(import_patterns)),
    path("exports/<slug:kind>/", export_views.export_table, name="export"),
    path("pipl/", pipl_views.pipl_requests, name="pipl"),
    path("pick/regions/", pickers.pick_regions, name="pick_regions"),
]

urlpatterns = [
    path("", include((core_patterns, "core"), namespace="core")),
]
