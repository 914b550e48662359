"""The explicit "查看完整信息" (unmask) of an enterprise's personal fields.

A POST, because it writes an audit entry (`personal.unmask`); answered with
the same partial the detail page includes, unmasked where the user holds
the right (htmx swaps it in; without JavaScript the page is shown as a
whole)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_POST

from chanrong.core.errors import NotAllowed, NotFound

from . import services
from .services.personal import personal_view


@login_required
@require_POST
def unmask(request, pk: int):
    try:
        enterprise = services.get_visible_enterprise(request.user, pk)
    except NotFound:
        raise Http404 from None
    try:
        view = personal_view(request.user, enterprise, unmask=True)
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    template = "registry/partials/personal_fields.html"
    if not request.headers.get("HX-Request"):
        template = "registry/personal_page.html"
    return render(request, template, {"enterprise": enterprise, "personal": view})
