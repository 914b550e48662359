"""The reviewers' pages: the provincial unit's opinions, recommendations,
joint report and confirmation, and the ministry's scoring, board and
decisions on an application."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chanrong.core.errors import NotAllowed, ServiceError, ValidationFailed

from .. import forms as f
from .. import permissions as perms
from .. import services
from ..models import BatchState, MinistryReview, MinistryScore, MinistryState
from .common import _action, _app, _flash, _translate_errors


@login_required
@require_POST
@_translate_errors
def application_opinion(request, pk: int):
    form = f.OpinionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择意见"))
        return redirect("pilots:application", pk=pk)
    return _action(
        request,
        pk,
        lambda a: services.record_opinion(
            request.user, a, form.cleaned_data["stance"], form.cleaned_data["text"]
        ),
        _("审核意见已记录"),
    )


def _comment(request) -> str:
    form = f.DecisionForm(request.POST)
    return form.cleaned_data["comment"] if form.is_valid() else ""


@login_required
@require_POST
@_translate_errors
def application_recommend(request, pk: int):
    comment = _comment(request)
    return _action(
        request,
        pk,
        lambda a: services.recommend(request.user, a, comment=comment),
        _("已确认推荐"),
    )


@login_required
@require_POST
@_translate_errors
def application_decline(request, pk: int):
    comment = _comment(request)
    return _action(
        request,
        pk,
        lambda a: services.decline(request.user, a, comment=comment),
        _("已决定不予推荐"),
    )


@login_required
@require_POST
@_translate_errors
def application_reopen(request, pk: int):
    return _action(
        request, pk, lambda a: services.reopen_review(request.user, a), _("已撤销审核决定")
    )


@login_required
@require_http_methods(["GET", "POST"])
@_translate_errors
def application_score(request, pk: int):
    application = _app(request, pk)
    if not perms.is_ministry_reviewer(request.user):
        raise PermissionDenied
    ministry = MinistryReview.objects.filter(application=application).first()
    existing = (
        MinistryScore.objects.filter(review=ministry, reviewer=request.user).first()
        if ministry
        else None
    )
    kwargs = {"criteria": application.batch.criteria.all(), "existing": existing}
    if request.method == "POST":
        form = f.ScoreForm(request.POST, **kwargs)
        if form.is_valid():
            try:
                services.score(
                    request.user, application, form.items(), comment=form.cleaned_data["comment"]
                )
            except ValidationFailed as exc:
                form.add_service_errors(exc)
            except ServiceError as exc:
                _flash(request, exc)
                return redirect("pilots:application", pk=application.pk)
            else:
                messages.success(request, _("评分已保存"))
                return redirect("pilots:application", pk=application.pk)
    else:
        if ministry is None or ministry.state != MinistryState.SCORING:
            messages.error(request, _("该申报不在部级评审阶段，不能打分"))
            return redirect("pilots:application", pk=application.pk)
        form = f.ScoreForm(**kwargs)
    return render(
        request,
        "pilots/application_score.html",
        {"form": form, "application": application, "sections": application.sections.all()},
    )


@login_required
@require_POST
@_translate_errors
def application_decide(request, pk: int):
    form = f.DecideForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择评审结论"))
        return redirect("pilots:application", pk=pk)
    approve = form.cleaned_data["decision"] == "approve"
    return _action(
        request,
        pk,
        lambda a: services.decide(request.user, a, approve=approve, note=form.cleaned_data["note"]),
        _("评审结论已保存"),
    )


@login_required
@require_POST
@_translate_errors
def application_reconsider(request, pk: int):
    return _action(request, pk, lambda a: services.reconsider(request.user, a), _("已重新进入评审"))


@login_required
@require_GET
def province_index(request):
    unit = perms.review_unit_of(request.user)
    if unit is None or not perms.is_unit_counterpart(request.user, unit.code):
        raise Http404
    batch = (
        services.visible_batches(request.user)
        .exclude(state=BatchState.DRAFT)
        .order_by("-number")
        .first()
    )
    if batch is None:
        return render(request, "pilots/province.html", {"overview": None, "batch": None})
    return redirect("pilots:province_batch", pk=batch.pk)


@login_required
@require_GET
@_translate_errors
def province_batch(request, pk: int):
    batch = services.get_visible_batch(request.user, pk)
    overview = services.unit_overview(request.user, batch)
    return render(
        request,
        "pilots/province.html",
        {
            "batch": batch,
            "overview": overview,
            "rows": [(a, services.stage_of(a)) for a in overview["applications"]],
            "batches": services.visible_batches(request.user)
            .exclude(state=BatchState.DRAFT)
            .order_by("-number"),
            "report_form": f.JointReportForm(),
            "confirm_form": f.ConfirmForm(),
            "agencies": services.agencies_for_unit(overview["unit"]),
        },
    )


@login_required
@require_POST
@_translate_errors
def province_joint_report(request, pk: int):
    batch = services.get_visible_batch(request.user, pk)
    form = f.JointReportForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.upload_joint_report(request.user, batch, form.cleaned_data["file"])
        except NotAllowed:
            raise
        except ServiceError as exc:
            _flash(request, exc)
        else:
            messages.success(request, _("联合上报文件已上传"))
    else:
        messages.error(request, _("请选择联合上报文件（PDF）"))
    return redirect("pilots:province_batch", pk=batch.pk)


@login_required
@require_POST
@_translate_errors
def province_confirm(request, pk: int):
    batch = services.get_visible_batch(request.user, pk)
    form = f.ConfirmForm(request.POST)
    form.is_valid()
    try:
        services.confirm_submission(request.user, batch, note=form.cleaned_data.get("note", ""))
    except NotAllowed:
        raise
    except ServiceError as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("推荐名单已确认上报"))
    return redirect("pilots:province_batch", pk=batch.pk)


@login_required
@require_GET
@_translate_errors
def ministry_board(request, pk: int):
    batch = services.get_visible_batch(request.user, pk)
    rows = services.ministry_board(request.user, batch)
    return render(
        request,
        "pilots/ministry.html",
        {
            "batch": batch,
            "rows": rows,
            "criteria": batch.criteria.all(),
            "is_admin": perms.is_ministry_admin(request.user),
            "publish_form": f.PublishForm(),
        },
    )
