"""An enterprise's credit records (信用信息) on a page of their own: who sees
them is the enterprise's visibility rule (an institution only under the
enterprise's authorisation, else 404), and every look by an institution is
audited by `services.credit.credit_records_for` — which is why they are not
on the enterprise page an institution opens for any reason."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from chanrong.core.errors import NotFound
from chanrong.core.paging import DEFAULT_CAP, CappedPaginator

from . import services
from .models import CreditKind
from .services import credit


@login_required
@require_GET
def credit_records(request, pk: int):
    try:
        enterprise = services.get_visible_enterprise(request.user, pk)
    except NotFound:
        raise Http404 from None
    kind = request.GET.get("kind", "")
    kind = kind if kind in CreditKind.values else ""
    records = credit.credit_records_for(request.user, enterprise, kind=kind or None)
    paginator = CappedPaginator(records, 50, cap=DEFAULT_CAP)
    page_obj = paginator.get_page(request.GET.get("page"))
    base = f"kind={kind}&" if kind else ""
    return render(
        request,
        "registry/credit_records.html",
        {
            "enterprise": enterprise,
            "records": page_obj.object_list,
            "kind": kind,
            "kinds": CreditKind.choices,
            "can_import": credit.can_record_credit(request.user)
            and credit.can_record_credit_for(request.user, enterprise),
            "page_obj": page_obj,
            "page_range": paginator.get_elided_page_range(page_obj.number),
            "querystring_base": base,
        },
    )
