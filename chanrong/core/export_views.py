"""`/exports/<kind>/` (`core:export`): the download of a table an app registered.

The page's filters travel in the query string. A table without personal
fields downloads at once (GET). A table with personal fields first shows a
form asking for the purpose (导出用途) and the day's remaining quota; the
form POSTs to the same address, filters kept, and the file comes back — or
a refusal saying which cap was hit, with no file. Rules are in
`core.export_policy`; every export and every refusal is in the audit log.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from . import export_policy
from .exporting import export_filename, get_export

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
@require_http_methods(["GET", "POST"])
def export_table(request, kind: str):
    export = get_export(kind)
    if export is None:
        raise Http404
    if export.personal_fields and request.method == "GET":
        return _form(request, export)
    try:
        outcome = export_policy.run_export(
            request.user, export, request.GET, purpose=request.POST.get("purpose")
        )
    except export_policy.ExportRefused as refused:
        return _form(request, export, refused=refused, status=400 if refused.field else 403)
    return FileResponse(
        outcome.handle,
        as_attachment=True,
        filename=export_filename(str(export.label)),
        content_type=XLSX,
    )


def _form(request, export, *, refused=None, status: int = 200):
    caps = export_policy.caps_for(request.user)
    used = export_policy.personal_rows_today(request.user)
    return render(
        request,
        "core/export_confirm.html",
        {
            "export": export,
            "caps": caps,
            "used_today": used,
            "left_today": max(caps.per_day - used, 0),
            "purpose": request.POST.get("purpose", ""),
            "error": refused.message if refused else "",
            "error_field": refused.field if refused else "",
            "back": _back(request),
            "title": _("导出%(label)s") % {"label": export.label},
        },
        status=status,
    )


def _back(request) -> str:
    """The page the user came from, when it is this site's."""
    referer = request.META.get("HTTP_REFERER", "")
    allowed = url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return referer if allowed else ""
