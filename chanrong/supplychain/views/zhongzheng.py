"""中征应收账款 linkage page (/supplychain/zhongzheng/): export the confirmed
receivables and registrations as CSV or JSON, import the file coming back.
Government, banks and platform admins only (else 404); every rule is in
`supplychain.zhongzheng`. Bad files show their errors by row and column and
nothing is written."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from chanrong.core.errors import ValidationFailed

from .. import zhongzheng as service

CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def _allowed(request) -> None:
    if not service.can_link(request.user):
        raise Http404


@login_required
@require_http_methods(["GET", "POST"])
def linkage(request):
    _allowed(request)
    errors: list = []
    if request.method == "POST":
        upload = request.FILES.get("file")
        fmt = request.POST.get("format", "")
        try:
            if upload is None:
                raise ValidationFailed({"file": _("请选择文件")})
            if upload.size > service.MAX_BYTES:
                raise ValidationFailed({"file": _("文件超过 10 MB")})
            rows = service.parse_file(upload.read(), fmt)
            result = service.import_linkage(request.user, rows)
        except ValidationFailed as failed:
            errors = failed.errors
        else:
            messages.success(
                request,
                _("导入完成：新增 %(c)d 条，更新 %(u)d 条，未变 %(n)d 条")
                % {"c": result.created, "u": result.updated, "n": result.unchanged},
            )
            return redirect("supplychain:zhongzheng")
    return render(
        request,
        "supplychain/zhongzheng.html",
        {"errors": errors, "count": service.linked_receivables(request.user).count()},
        status=400 if errors else 200,
    )


@login_required
@require_GET
def export(request, fmt: str):
    _allowed(request)
    if fmt not in CONTENT_TYPES:
        raise Http404
    data, _rows = service.export_linkage(request.user, fmt)
    response = HttpResponse(data, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="zhongzheng-linkage.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response
