"""Application pages: what was asked, how the amount was computed, where it stands."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from ..models import Application


@login_required
def application_detail(request, pk: int):
    application = get_object_or_404(
        Application.objects.visible_to(request.user).select_related(
            "programme", "enterprise", "loan"
        ),
        pk=pk,
    )
    return render(request, "policy/application_detail.html", {"application": application})
