"""The 信用报告 page (printable) and its PDF. Who sees it is who sees the
credit records (`services.credit_report`): anyone else gets 404. Each page
view is audited as `credit.report.view`, each PDF as `credit.report.download`."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from chanrong.core.errors import NotFound

from . import services
from .credit_report_pdf import render_pdf
from .services import credit_report


def _enterprise(request, pk: int):
    try:
        return services.get_visible_enterprise(request.user, pk)
    except NotFound:
        raise Http404 from None


@login_required
@require_GET
def credit_report_page(request, pk: int):
    enterprise = _enterprise(request, pk)
    report = credit_report.build_credit_report(request.user, enterprise)
    return render(
        request,
        "registry/credit_report.html",
        {
            "enterprise": enterprise,
            "report": report,
            "adverse": credit_report.adverse_label(report),
        },
    )


@login_required
@require_GET
def credit_report_pdf(request, pk: int):
    enterprise = _enterprise(request, pk)
    report = credit_report.build_credit_report(
        request.user, enterprise, action=credit_report.REPORT_DOWNLOAD
    )
    response = HttpResponse(render_pdf(report), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="credit-report-{enterprise.uscc}.pdf"'
    response["Cache-Control"] = "no-store"
    return response
