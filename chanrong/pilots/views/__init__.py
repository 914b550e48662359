"""Pages of the 产融合作试点城市申报系统. Views only translate between HTTP and
services.py: visibility comes from the services' `get_visible_*` (anything
not visible is a 404), rules and state changes from the services, whose
refusals are shown as messages or as field errors on the forms."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chanrong.core.errors import NotAllowed, NotFound, ServiceError, ValidationFailed
from chanrong.core.scope import ScopeKind, scope_of

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
    ReportState,
    ReviewState,
)
from ..uploads import max_upload_bytes


def _translate_errors(view):
    """NotFound -> 404 and NotAllowed -> 403 wherever a view lets them out."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound:
            raise Http404 from None
        except NotAllowed:
            raise PermissionDenied from None

    return wrapper


def _flash(request, exc: ServiceError) -> None:
    details = "；".join(e.message for e in exc.errors)
    messages.error(request, f"{exc.message}：{details}" if details else exc.message)


def _government_only(request) -> None:
    if scope_of(request.user).kind not in (ScopeKind.GOVERNMENT, ScopeKind.PLATFORM):
        raise Http404


def _app(request, pk) -> Application:
    return services.get_visible_application(request.user, pk)


# ==========================================================================
# public list (no login)


@require_GET
def public_list(request):
    batches = [(b, services.published_pilots(b)) for b in services.published_batches()]
    return render(request, "pilots/public_list.html", {"batches": batches})


@require_GET
def public_batch(request, number: int):
    batch = services.published_batches().filter(number=number).first()
    if batch is None:
        raise Http404
    return render(
        request,
        "pilots/public_batch.html",
        {"batch": batch, "pilots": services.published_pilots(batch)},
    )


# ==========================================================================
# index and batches


@login_required
@require_GET
def index(request):
    _government_only(request)
    user = request.user
    batches = list(services.visible_batches(user).order_by("-number"))
    open_batches = [b for b in batches if b.state == BatchState.OPEN]
    mine = []
    if user.is_government_user and user.agency.region_id:
        mine = list(
            Application.objects.filter(region_id=user.agency.region_id)
            .select_related("batch", "region", "provincial_review", "ministry_review")
            .order_by("-batch__number")
        )
    unit = perms.review_unit_of(user)
    return render(
        request,
        "pilots/index.html",
        {
            "batches": batches,
            "open_batches": open_batches,
            "applyable": [b for b in open_batches if services.can_apply(user, b)],
            "mine": [(a, services.stage_of(a)) for a in mine],
            "unit": unit if unit and perms.is_unit_counterpart(user, unit.code) else None,
            "is_ministry": perms.is_ministry_user(user),
            "is_ministry_admin": perms.is_ministry_admin(user),
            "pilots": services.pilots_of(user)[:20],
        },
    )


@login_required
@require_GET
def batch_list(request):
    _government_only(request)
    return render(
        request,
        "pilots/batch_list.html",
        {
            "batches": services.visible_batches(request.user).order_by("-number"),
            "can_create": perms.is_ministry_admin(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@_translate_errors
def batch_create(request):
    if not perms.is_ministry_admin(request.user):
        raise PermissionDenied
    from ..defaults import DEFAULT_OUTLINE

    if request.method == "POST":
        form = f.BatchForm(request.POST)
        if form.is_valid():
            try:
                batch = services.create_batch(request.user, form.service_data())
            except ValidationFailed as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("已创建批次：%(name)s") % {"name": batch.name})
                return redirect("pilots:batch", pk=batch.pk)
    else:
        form = f.BatchForm(initial={"outline": f.BatchForm.outline_text(DEFAULT_OUTLINE)})
    return render(request, "pilots/batch_form.html", {"form": form, "batch": None})


@login_required
@require_http_methods(["GET", "POST"])
@_translate_errors
def batch_edit(request, pk: int):
    batch = services.get_visible_batch(request.user, pk)
    if not perms.is_ministry_admin(request.user):
        raise PermissionDenied
    if request.method == "POST":
        form = f.BatchForm(request.POST)
        if form.is_valid():
            try:
                services.update_batch(request.user, batch, form.service_data())
            except ValidationFailed as exc:
                form.add_service_errors(exc)
            except ServiceError as exc:
                _flash(request, exc)
                return redirect("pilots:batch", pk=batch.pk)
            else:
                messages.success(request, _("批次信息已保存"))
                return redirect("pilots:batch", pk=batch.pk)
    else:
        initial = {
            name: getattr(batch, name)
            for name in f.BatchForm.base_fields
            if name != "outline" and hasattr(batch, name)
        }
        initial["outline"] = f.BatchForm.outline_text(batch.outline)
        form = f.BatchForm(initial=initial)
    return render(request, "pilots/batch_form.html", {"form": form, "batch": batch})


@login_required
@require_GET
@_translate_errors
def batch_detail(request, pk: int):
    _government_only(request)
    batch = services.get_visible_batch(request.user, pk)
    user = request.user
    is_admin = perms.is_ministry_admin(user)
    counts = {}
    if is_admin or scope_of(user).kind == ScopeKind.PLATFORM:
        visible = services.visible_applications(user).filter(batch=batch)
        counts = {
            "submitted": visible.filter(state=ApplicationState.SUBMITTED).count(),
            "ministry": MinistryReview.objects.filter(batch=batch).count(),
            "approved": MinistryReview.objects.filter(
                batch=batch, state=MinistryState.APPROVED
            ).count(),
        }
    return render(
        request,
        "pilots/batch_detail.html",
        {
            "batch": batch,
            "documents": batch.documents.all(),
            "criteria": batch.criteria.all(),
            "is_admin": is_admin,
            "counts": counts,
            "can_apply": services.can_apply(user, batch),
            "document_form": f.BatchDocumentForm(),
            "publish_form": f.PublishForm(),
            "rubric_form": f.RubricForm(
                initial={"criteria": f.RubricForm.criteria_text(batch.criteria.all())}
            ),
            "max_upload_mb": max_upload_bytes() // (1024 * 1024),
            "unit": perms.review_unit_of(user),
        },
    )


@login_required
@require_POST
@_translate_errors
def batch_document(request, pk: int):
    batch = services.get_visible_batch(request.user, pk)
    form = f.BatchDocumentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.add_batch_document(
                request.user,
                batch,
                form.cleaned_data["kind"],
                form.cleaned_data["file"],
                form.cleaned_data["title"],
            )
        except ValidationFailed as exc:
            _flash(request, exc)
        else:
            messages.success(request, _("附件已上传"))
    else:
        messages.error(request, _("请选择附件类别和文件"))
    return redirect("pilots:batch", pk=batch.pk)


@login_required
@require_POST
@_translate_errors
def batch_rubric(request, pk: int):
    batch = services.get_visible_batch(request.user, pk)
    form = f.RubricForm(request.POST)
    if form.is_valid():
        try:
            services.set_rubric(request.user, batch, form.rows())
        except ValidationFailed as exc:
            _flash(request, exc)
        except ServiceError as exc:
            _flash(request, exc)
        else:
            messages.success(request, _("评分标准已保存"))
    else:
        messages.error(request, _("请填写评分标准"))
    return redirect("pilots:batch", pk=batch.pk)


@login_required
@require_POST
@_translate_errors
def batch_open(request, pk: int):
    batch = services.get_visible_batch(request.user, pk)
    try:
        services.open_batch(request.user, batch)
    except (ValidationFailed, ServiceError) as exc:
        if isinstance(exc, NotAllowed):
            raise
        _flash(request, exc)
    else:
        messages.success(request, _("申报通知已发布，各地可开始申报"))
    return redirect("pilots:batch", pk=batch.pk)


@login_required
@require_POST
@_translate_errors
def batch_publish(request, pk: int):
    batch = services.get_visible_batch(request.user, pk)
    form = f.PublishForm(request.POST)
    form.is_valid()
    try:
        services.publish_batch(request.user, batch, title=form.cleaned_data.get("title", ""))
    except NotAllowed:
        raise
    except ServiceError as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("试点城市名单已公布"))
    return redirect("pilots:batch", pk=batch.pk)


# ==========================================================================
# applications


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
    rows = [(a, services.stage_of(a)) for a in queryset[:500]]
    return render(
        request,
        "pilots/application_list.html",
        {
            "rows": rows,
            "batches": services.visible_batches(request.user).order_by("-number"),
            "selected_batch": int(batch_id) if batch_id and batch_id.isdigit() else None,
        },
    )


def _indicator_table(application: Application):
    if application.indicator_plan is None:
        return None
    from chanrong.insights import services as insights

    return insights.plan_table(application.indicator_plan)


@login_required
@require_GET
@_translate_errors
def application_detail(request, pk: int):
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
def document_delete(request, pk: int):
    doc = services.get_visible_document(request.user, pk)
    target = (
        ("pilots:application", doc.application_id)
        if doc.application_id
        else ("pilots:batch", doc.batch_id)
        if doc.batch_id
        else ("pilots:report", doc.report_id)
        if doc.report_id
        else ("pilots:province_batch", doc.submission.batch_id)
    )
    try:
        services.remove_document(request.user, doc)
    except NotAllowed:
        raise
    except ServiceError as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("文件已删除"))
    return redirect(target[0], target[1])


def _action(request, pk: int, call, success: str):
    application = _app(request, pk)
    try:
        call(application)
    except NotAllowed:
        raise
    except ServiceError as exc:
        _flash(request, exc)
    else:
        messages.success(request, success)
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


# ==========================================================================
# provincial unit and ministry boards


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


# ==========================================================================
# files


@login_required
@require_GET
@_translate_errors
def document_download(request, pk: int):
    """The only way to a stored file: visibility is checked, the file goes
    out as an attachment under the person's own file name."""
    doc = services.get_visible_document(request.user, pk)
    try:
        handle = doc.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    from ..uploads import CONTENT_TYPES

    response = FileResponse(
        handle,
        as_attachment=True,
        filename=doc.original_name,
        content_type=CONTENT_TYPES.get(doc.file_type, "application/octet-stream"),
    )
    response["Cache-Control"] = "private, no-store"
    return response


# ==========================================================================
# progress reports and evaluation


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
