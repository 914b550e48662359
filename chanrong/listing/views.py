"""上市培育 pages: the pipelines (government: its region's; an enterprise:
its own), a pipeline with its stages and the forms to record the next stage
or withdraw, the stage counts by year with charts, and the 上市后备库
proposal. Field errors (422) go beside their controls; a refusal of the
actor is a 403; what the user may not see is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chanrong.core.errors import NotFound
from chanrong.core.form_calls import attempt
from chanrong.core.money import format_amount
from chanrong.core.paging import paginate
from chanrong.core.scope import ScopeKind, scope_of

from . import permissions, services
from .forms import AdvanceForm, PipelineForm, ProposeForm, WithdrawForm
from .models import Board, Stage, StageRecord
from .services import pages, reserve, stats


def _may_use(user) -> bool:
    return scope_of(user).kind in (ScopeKind.PLATFORM, ScopeKind.GOVERNMENT, ScopeKind.ENTERPRISE)


def _pipeline(request, pk: int):
    try:
        return services.get_visible_pipeline(request.user, pk)
    except NotFound:
        raise Http404 from None


@login_required
@require_GET
def pipeline_list(request):
    if not _may_use(request.user):
        raise Http404
    queryset, stage, board = pages.filtered(request.user, request.GET)
    pager = paginate(request, queryset)
    return render(
        request,
        "listing/list.html",
        {
            "pager": pager,
            "pipelines": pager["page_obj"].object_list,
            "stage": stage,
            "board": board,
            "stages": Stage.choices,
            "boards": Board.choices,
            "may_view_stats": permissions.may_view_stats(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def pipeline_new(request):
    user = request.user
    if not _may_use(user):
        raise Http404
    own = user.is_enterprise_user
    form = PipelineForm(request.POST or None, agencies=pages.agencies_for(user), own_enterprise=own)
    status = 200
    if request.method == "POST" and form.is_valid():
        pipeline, status = attempt(
            request, lambda: services.create_pipeline(user, form.service_data()), form
        )
        if pipeline is not None:
            messages.success(request, _("已建立上市培育进程"))
            return redirect(pipeline)
    elif request.method == "POST":
        status = 422
    return render(request, "listing/new.html", {"form": form}, status=status)


def _detail(request, pipeline, *, advance_form=None, withdraw_form=None, status=200):
    user = request.user
    actions = services.actions(user, pipeline)
    agencies = pages.agencies_for(user, pipeline.enterprise)
    if advance_form is None and pipeline.next_stage and pipeline.next_stage in actions:
        advance_form = AdvanceForm(
            next_stage=pipeline.next_stage,
            agencies=agencies,
            initial={"agency_id": str(pipeline.agency_id)},
        )
    if withdraw_form is None and "withdraw" in actions:
        withdraw_form = WithdrawForm()
    return render(
        request,
        "listing/detail.html",
        {
            "pipeline": pipeline,
            "records": StageRecord.objects.visible_to(user)
            .filter(pipeline=pipeline)
            .select_related("agency")
            .order_by("reached_on", "pk"),
            "advance_form": advance_form,
            "withdraw_form": withdraw_form,
            "proceeds": format_amount(pipeline.proceeds) if pipeline.proceeds is not None else "",
        },
        status=status,
    )


@login_required
@require_GET
def pipeline_detail(request, pk: int):
    return _detail(request, _pipeline(request, pk))


@login_required
@require_POST
def advance(request, pk: int):
    pipeline = _pipeline(request, pk)
    form = AdvanceForm(request.POST, agencies=pages.agencies_for(request.user, pipeline.enterprise))
    if not form.is_valid():
        return _detail(request, pipeline, advance_form=form, status=422)
    done, status = attempt(
        request, lambda: services.advance(request.user, pipeline, form.service_data()), form
    )
    if done is not None:
        messages.success(request, _("已记录：%(s)s") % {"s": done.get_stage_display()})
        return redirect(pipeline)
    return _detail(request, _pipeline(request, pk), advance_form=form, status=status)


@login_required
@require_POST
def withdraw(request, pk: int):
    pipeline = _pipeline(request, pk)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        return _detail(request, pipeline, withdraw_form=form, status=422)
    done, status = attempt(
        request, lambda: services.withdraw(request.user, pipeline, form.service_data()), form
    )
    if done is not None:
        messages.success(request, _("已撤回/终止该上市培育进程"))
        return redirect(pipeline)
    return _detail(request, _pipeline(request, pk), withdraw_form=form, status=status)


@login_required
@require_GET
def stats_page(request):
    if not permissions.may_view_stats(request.user):
        raise Http404
    summary = stats.summarise(request.user)
    lists = [(lst, reserve.compare(lst)) for lst in reserve.reserve_lists(request.user)]
    return render(
        request,
        "listing/stats.html",
        {
            "summary": summary,
            "proceeds": format_amount(summary.proceeds),
            "funnel_chart": stats.funnel_chart(summary),
            "year_chart": stats.year_chart(summary),
            "reserve_lists": lists,
            "propose_form": ProposeForm(),
        },
    )


@login_required
@require_POST
def propose_reserve(request, pk: int):
    if not permissions.may_view_stats(request.user):
        raise Http404
    try:
        lst = reserve.get_reserve_list(request.user, pk)
    except NotFound:
        raise Http404 from None
    form = ProposeForm(request.POST)
    form.is_valid()
    result, _status = attempt(
        request,
        lambda: reserve.propose_version(request.user, lst, note=form.cleaned_data.get("note", "")),
        form,
    )
    if result is not None:
        version, diff = result
        messages.success(
            request,
            _("已生成上市后备库第 %(n)s 版草稿（新增 %(a)s 家，移出 %(r)s 家），请提交审批后发布")
            % {"n": version.number, "a": len(diff.add), "r": len(diff.remove)},
        )
        return redirect("lists:detail", lst.pk)
    for error in form.errors.get("__all__", []) + form.errors.get("note", []):
        messages.error(request, error)
    return redirect("listing:stats")
