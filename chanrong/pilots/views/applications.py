"""A city's application pages: start one, list them, read one (with what
each role may do next), fill in its fields, 实施方案 and 定量指标统计表,
upload materials, submit and withdraw."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chanrong.core.errors import NotAllowed, ServiceError, ValidationFailed
from chanrong.core.paging import paginate
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.insights import services as insights_services

from .. import forms as f
from .. import permissions as perms
from .. import services
from ..models import (
    Application,
    ApplicationState,
    BatchState,
    DocumentKind,
    MinistryReview,
    MinistryScore,
    MinistryState,
    ProgressReport,
    ProvincialReview,
    ReviewState,
)
from ..services.personal import contact_view
from ..uploads import max_upload_bytes
from .common import _action, _app, _flash, _government_only, _translate_errors


@login_required
@require_http_methods(["GET", "POST"])
@_translate_errors
def application_create(request, pk: int):
    batch = services.get_visible_batch(request.user, pk)
    user = request.user
    region = user.agency.region if user.is_government_user and user.agency.region_id else None
    renewable = services.renewable_pilots(batch, region) if region else []
    if request.method == "POST":
        form = f.NewApplicationForm(request.POST, renewable=renewable)
        if form.is_valid():
            try:
                application = services.create_application(user, batch, form.service_data())
            except ValidationFailed as exc:
                form.add_service_errors(exc)
            except NotAllowed:
                raise
            except ServiceError as exc:
                _flash(request, exc)
                return redirect("pilots:batch", pk=batch.pk)
            else:
                messages.success(request, _("申报已创建（草稿），请继续填写实施方案、指标和材料"))
                return redirect("pilots:application", pk=application.pk)
    else:
        if not services.can_apply(user, batch):
            raise PermissionDenied
        form = f.NewApplicationForm(
            renewable=renewable, initial={"kind": "renewal" if renewable else "new"}
        )
    return render(
        request,
        "pilots/application_create.html",
        {"form": form, "batch": batch, "region": region, "renewable": renewable},
    )


@login_required
@require_GET
def application_list(request):
    _government_only(request)
    queryset = (
        services.visible_applications(request.user)
        .select_related("batch", "region", "review_region", "provincial_review", "ministry_review")
        .order_by("-batch__number", "review_region_id", "region_id")
    )
    batch_id = request.GET.get("batch")
    if batch_id and batch_id.isdigit():
        queryset = queryset.filter(batch_id=int(batch_id))
    pager = paginate(request, queryset)
    rows = [(a, services.stage_of(a)) for a in pager["page_obj"].object_list]
    return render(
        request,
        "pilots/application_list.html",
        {
            "rows": rows,
            "pager": pager,
            "batches": services.visible_batches(request.user).order_by("-number"),
            "selected_batch": int(batch_id) if batch_id and batch_id.isdigit() else None,
        },
    )


def _indicator_table(application: Application):
    if application.indicator_plan is None:
        return None
    return insights_services.plan_table(application.indicator_plan)


@login_required
@require_GET
@_translate_errors
def application_detail(request, pk: int):
    return _detail(request, pk)


@login_required
@require_POST
@_translate_errors
def application_unmask(request, pk: int):
    """查看完整信息 of the contact person: a POST, because it writes an audit
    entry (`personal.unmask`); answered with the detail page, the contact in
    full. Without the right: 403 (services.personal)."""
    return _detail(request, pk, unmask=True)


def _detail(request, pk: int, *, unmask: bool = False):
    application = _app(request, pk)
    user = request.user
    review = ProvincialReview.objects.filter(application=application).first()
    ministry = MinistryReview.objects.filter(application=application).first()
    unit_code = application.review_region_id
    is_unit_lead = perms.is_unit_lead(user, unit_code)
    provincial_open = services.today() <= application.batch.provincial_deadline
    submission = services.get_submission(application.batch, application.review_region)
    confirmed = submission is not None and submission.state == "confirmed"
    see_scores = perms.is_ministry_user(user) or scope_of(user).kind == ScopeKind.PLATFORM
    my_score = (
        MinistryScore.objects.filter(review=ministry, reviewer=user).first() if ministry else None
    )
    context = {
        "application": application,
        "contact": contact_view(user, application, unmask=unmask),
        "stage": services.stage_of(application),
        "sections": application.sections.all(),
        "declarations": application.documents.filter(kind=DocumentKind.DECLARATION),
        "materials": application.documents.filter(kind=DocumentKind.MATERIAL),
        "indicator_table": _indicator_table(application),
        "years": application.indicator_plan.years if application.indicator_plan else [],
        "review": review,
        "opinions": review.opinions.select_related("agency", "author") if review else [],
        "ministry": ministry,
        "summary": services.score_summary(ministry) if ministry and see_scores else None,
        "my_score": my_score,
        "can_edit": services.can_edit(user, application),
        "missing": services.missing_parts(application)
        if application.state == ApplicationState.DRAFT
        else [],
        "can_withdraw": (
            perms.is_applicant_admin(user, application.region_id)
            and application.state == ApplicationState.SUBMITTED
            and services.today() <= application.batch.application_deadline
            and (review is None or review.state == ReviewState.PENDING)
            and (ministry is None or not ministry.scores.exists())
        ),
        "can_opine": (
            review is not None
            and perms.is_unit_counterpart(user, unit_code)
            and provincial_open
            and not confirmed
            and application.state == ApplicationState.SUBMITTED
        ),
        "can_decide_provincial": (
            review is not None
            and is_unit_lead
            and provincial_open
            and not confirmed
            and application.state == ApplicationState.SUBMITTED
        ),
        "can_score": (
            ministry is not None
            and ministry.state == MinistryState.SCORING
            and perms.is_ministry_reviewer(user)
        ),
        "can_decide_ministry": (
            ministry is not None
            and perms.is_ministry_admin(user)
            and application.batch.state != BatchState.PUBLISHED
        ),
        "is_pilot": services.is_pilot(application),
        "can_report": perms.is_applicant_admin(user, application.region_id),
        "reports": ProgressReport.objects.visible_to(user).filter(application=application),
        "document_form": f.DocumentForm(),
        "opinion_form": f.OpinionForm(),
        "decision_form": f.DecisionForm(),
        "decide_form": f.DecideForm(),
        "max_upload_mb": max_upload_bytes() // (1024 * 1024),
        "quota": services.quota_status(application.batch, application.review_region),
    }
    return render(request, "pilots/application_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@_translate_errors
def application_edit(request, pk: int):
    application = _app(request, pk)
    if not services.can_edit(request.user, application):
        raise PermissionDenied
    if request.method == "POST":
        form = f.ApplicationForm(request.POST)
        if form.is_valid():
            try:
                services.update_application(request.user, application, form.service_data())
            except ValidationFailed as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("申报信息已保存"))
                return redirect("pilots:application", pk=application.pk)
    else:
        form = f.ApplicationForm(
            initial={
                k: getattr(application, k)
                for k in ("title", "start_year", "end_year", "contact_name", "contact_phone")
            }
        )
    return render(
        request, "pilots/application_edit.html", {"form": form, "application": application}
    )


@login_required
@require_http_methods(["GET", "POST"])
@_translate_errors
def application_plan(request, pk: int):
    application = _app(request, pk)
    if not services.can_edit(request.user, application):
        raise PermissionDenied
    sections = list(application.sections.all())
    kwargs = {"sections": sections, "outline": application.batch.outline}
    if request.method == "POST":
        form = f.SectionsForm(request.POST, **kwargs)
        if form.is_valid():
            try:
                services.save_sections(request.user, application, form.bodies())
            except ValidationFailed as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("实施方案已保存"))
                return redirect("pilots:application", pk=application.pk)
    else:
        form = f.SectionsForm(**kwargs)
    return render(
        request, "pilots/application_plan.html", {"form": form, "application": application}
    )


@login_required
@require_http_methods(["GET", "POST"])
@_translate_errors
def application_indicators(request, pk: int):
    application = _app(request, pk)
    if not services.can_edit(request.user, application):
        raise PermissionDenied
    plan = application.indicator_plan
    if plan is None:
        messages.error(request, _("请先填写方案实施期（起止年份），再填写定量指标统计表"))
        return redirect("pilots:application_edit", pk=application.pk)
    definitions = services.indicator_definitions()
    targets = {(t.definition_id, t.year): t for t in plan.targets.all()}
    kwargs = {"definitions": definitions, "years": plan.years, "targets": targets}
    form = f.IndicatorTableForm(**kwargs)
    import_form = f.IndicatorImportForm()
    if request.method == "POST" and "table" in request.POST:
        import_form = f.IndicatorImportForm(request.POST)
        if import_form.is_valid():
            try:
                services.import_indicator_table(
                    request.user, application, import_form.cleaned_data["table"]
                )
            except ValidationFailed as exc:
                import_form.add_service_errors(exc)
            else:
                messages.success(request, _("定量指标表已导入"))
                return redirect("pilots:application", pk=application.pk)
    elif request.method == "POST":
        form = f.IndicatorTableForm(request.POST, **kwargs)
        if form.is_valid():
            try:
                services.set_indicator_targets(request.user, application, form.rows())
            except ValidationFailed as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("定量指标统计表已保存"))
                return redirect("pilots:application", pk=application.pk)
    return render(
        request,
        "pilots/application_indicators.html",
        {
            "form": form,
            "import_form": import_form,
            "application": application,
            "years": plan.years,
        },
    )


@login_required
@require_POST
@_translate_errors
def application_document(request, pk: int):
    application = _app(request, pk)
    form = f.DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.add_application_document(
                request.user,
                application,
                form.cleaned_data["kind"],
                form.cleaned_data["file"],
                form.cleaned_data["title"],
            )
        except NotAllowed:
            raise
        except ServiceError as exc:
            _flash(request, exc)
        else:
            messages.success(request, _("材料已上传"))
    else:
        messages.error(
            request, "；".join(str(e) for errors in form.errors.values() for e in errors)
        )
    return redirect("pilots:application", pk=application.pk)


@login_required
@require_POST
@_translate_errors
def application_submit(request, pk: int):
    return _action(
        request,
        pk,
        lambda a: services.submit_application(request.user, a),
        _("申报已提交"),
    )


@login_required
@require_POST
@_translate_errors
def application_withdraw(request, pk: int):
    return _action(
        request,
        pk,
        lambda a: services.withdraw_application(request.user, a),
        _("申报已撤回为草稿"),
    )
