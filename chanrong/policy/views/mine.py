"""我的政策: for the signed-in enterprise, every programme in force split
into 可申请 and 不符合 — the latter naming exactly which condition it misses,
in the product catalogue's words (`services.evaluate`) — and its own
applications with their states (免申即享 ones waiting for its 确认)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from chanrong.core.errors import ValidationFailed
from chanrong.core.paging import paginate
from chanrong.finance.services import enterprise_facts

from .. import services
from ..models import APPLICATION_KINDS, Application, ApplicationState, Programme
from .apply import _enterprise


@login_required
@require_GET
def mine(request):
    enterprise = _enterprise(request)
    user = request.user
    today = timezone.localdate()
    qualified, missed = [], []
    programmes = (
        Programme.objects.visible_to(user)
        .in_force(today)
        .select_related("agency", "region")
        .order_by("kind", "name", "pk")
    )
    facts = enterprise_facts(enterprise, today=today)  # once, for every programme
    for programme in programmes:
        try:
            programme.eligibility = services.evaluate(
                programme, enterprise, today=today, facts=facts
            )
        except ValidationFailed:  # stored conditions no longer parse: not offered
            continue
        programme.takes_applications = programme.kind in APPLICATION_KINDS
        (qualified if programme.eligibility.eligible else missed).append(programme)
    mine = Application.objects.visible_to(user)
    pager = paginate(
        request, mine.select_related("programme", "loan").order_by("-created_at", "-pk")
    )
    return render(
        request,
        "policy/mine/mine.html",
        {
            "enterprise": enterprise,
            "qualified": qualified,
            "missed": missed,
            "applications": pager["page_obj"].object_list,
            "pager": pager,
            "to_confirm": mine.filter(state=ApplicationState.PROPOSED).count(),
        },
    )
