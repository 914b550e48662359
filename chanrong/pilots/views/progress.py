"""A pilot's progress reports (write, attach, submit, return) and the
evaluation pages: which pilots lag on which indicators, and its .xlsx."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chanrong.core.errors import NotAllowed, ServiceError, ValidationFailed

from .. import forms as f
from .. import permissions as perms
from .. import services
from ..models import BatchState, ReportState
from ..uploads import max_upload_bytes
from .common import _app, _flash, _government_only, _translate_errors


@login_required
@require_http_methods(["GET", "POST"])
@_translate_errors
def report_create(request, pk: int):
    application = _app(request, pk)
    if not perms.is_applicant_admin(request.user, application.region_id):
        raise PermissionDenied
    if request.method == "POST":
        form = f.ReportForm(request.POST)
        if form.is_valid():
            try:
                report = services.create_report(request.user, application, form.cleaned_data)
            except ValidationFailed as exc:
                form.add_service_errors(exc)
            except ServiceError as exc:
                _flash(request, exc)
                return redirect("pilots:application", pk=application.pk)
            else:
                messages.success(request, _("进展报告已保存（草稿），可上传附件后报送"))
                return redirect("pilots:report", pk=report.pk)
    else:
        form = f.ReportForm(initial={"year": timezone.localdate().year})
    return render(
        request,
        "pilots/report_form.html",
        {"form": form, "application": application, "report": None},
    )


@login_required
@require_http_methods(["GET", "POST"])
@_translate_errors
def report_detail(request, pk: int):
    report = services.get_visible_report(request.user, pk)
    application = report.application
    can_edit = (
        perms.is_applicant_admin(request.user, application.region_id)
        and report.state == ReportState.DRAFT
    )
    form = f.ReportForm(
        editing=True,
        initial={k: getattr(report, k) for k in ("summary", "problems", "next_steps")},
    )
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        form = f.ReportForm(request.POST, editing=True)
        if form.is_valid():
            try:
                services.update_report(request.user, report, form.cleaned_data)
            except ValidationFailed as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("进展报告已保存"))
                return redirect("pilots:report", pk=report.pk)
    return render(
        request,
        "pilots/report_detail.html",
        {
            "report": report,
            "application": application,
            "form": form,
            "can_edit": can_edit,
            "can_return": perms.is_ministry_admin(request.user)
            and report.state == ReportState.SUBMITTED,
            "documents": report.documents.all(),
            "document_form": f.ReportDocumentForm(),
            "max_upload_mb": max_upload_bytes() // (1024 * 1024),
        },
    )


def _report_action(request, pk: int, call, success: str):
    report = services.get_visible_report(request.user, pk)
    try:
        call(report)
    except NotAllowed:
        raise
    except ServiceError as exc:
        _flash(request, exc)
    else:
        messages.success(request, success)
    return redirect("pilots:report", pk=report.pk)


@login_required
@require_POST
@_translate_errors
def report_document(request, pk: int):
    form = f.ReportDocumentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("请选择附件"))
        return redirect("pilots:report", pk=pk)
    return _report_action(
        request,
        pk,
        lambda r: services.add_report_document(
            request.user, r, form.cleaned_data["file"], form.cleaned_data["title"]
        ),
        _("附件已上传"),
    )


@login_required
@require_POST
@_translate_errors
def report_submit(request, pk: int):
    return _report_action(
        request, pk, lambda r: services.submit_report(request.user, r), _("进展报告已报送")
    )


@login_required
@require_POST
@_translate_errors
def report_return(request, pk: int):
    return _report_action(
        request, pk, lambda r: services.return_report(request.user, r), _("已退回修改")
    )


def _tracking_params(request):
    batches = services.visible_batches(request.user).filter(state=BatchState.PUBLISHED)
    form = f.TrackingForm(request.GET or None, batches=batches)
    year, batch = None, None
    if form.is_bound and form.is_valid():
        year = form.cleaned_data.get("year")
        if form.cleaned_data.get("batch"):
            batch = batches.filter(pk=form.cleaned_data["batch"]).first()
    return form, year, batch


@login_required
@require_GET
@_translate_errors
def tracking(request):
    """Listed whole, not paged: one row per pilot city in scope (tens
    nationally); the lagging ones are counted at the top."""
    _government_only(request)
    form, year, batch = _tracking_params(request)
    rows = services.lagging(request.user, year=year, batch=batch)
    return render(
        request,
        "pilots/tracking.html",
        {
            "form": form,
            "rows": rows,
            "lagging_count": sum(1 for r in rows if r.lagging),
            "query": request.GET.urlencode(),
        },
    )


@login_required
@require_GET
@_translate_errors
def tracking_export(request):
    _government_only(request)
    form, year, batch = _tracking_params(request)
    data = services.export_evaluation(request.user, year=year, batch=batch)
    response = HttpResponse(
        data,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    stamp = timezone.localdate().strftime("%Y%m%d")
    response["Content-Disposition"] = (
        f"attachment; filename=pilot-evaluation-{stamp}.xlsx; "
        f"filename*=UTF-8''%E8%AF%95%E7%82%B9%E8%AF%84%E4%BC%B0%E6%B1%87%E6%80%BB-{stamp}.xlsx"
    )
    return response
