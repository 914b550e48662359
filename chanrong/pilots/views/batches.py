"""The programme's entry page, the published lists (open to everyone, no
login) and the ministry's pages for a batch: create, edit, attach the
notice and templates, set the rubric, open it, publish its list."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chanrong.core.errors import NotAllowed, ServiceError, ValidationFailed
from chanrong.core.paging import paginate
from chanrong.core.scope import ScopeKind, scope_of

from .. import forms as f
from .. import permissions as perms
from .. import services
from ..defaults import DEFAULT_OUTLINE
from ..models import Application, ApplicationState, BatchState, MinistryReview, MinistryState
from ..uploads import max_upload_bytes
from .common import _flash, _government_only, _translate_errors


@require_GET
def public_list(request):
    """Listed whole, not paged: the published batches (one a year at most) and
    each batch's pilot cities (tens)."""
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


@login_required
@require_GET
def index(request):
    """Bounded by construction: the batches (one a year at most), the user's own
    region's applications (one per batch) and the first 20 pilots."""
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
    pager = paginate(request, services.visible_batches(request.user).order_by("-number"))
    return render(
        request,
        "pilots/batch_list.html",
        {
            "batches": pager["page_obj"].object_list,
            "pager": pager,
            "can_create": perms.is_ministry_admin(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@_translate_errors
def batch_create(request):
    if not perms.is_ministry_admin(request.user):
        raise PermissionDenied
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
