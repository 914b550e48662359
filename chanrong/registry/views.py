"""Enterprise pages. Views only translate between HTTP and the services:
visibility comes from `visible_to`, rules from `services`, and anything the
user may not see is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from chanrong.core.codes import size_label
from chanrong.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from chanrong.core.paging import CappedPaginator
from chanrong.core.panels import panel_context

from . import services
from .filtersets import EnterpriseFilterForm
from .forms import (
    EnterpriseForm,
    OperatingForm,
    OperatingReviewForm,
    ProfileForm,
    QualificationForm,
    RegionForm,
    RevokeForm,
    TaxGradeForm,
)
from .models import (
    Enterprise,
    OperatingRecord,
    PeriodType,
    Project,
    Qualification,
    ReviewStatus,
)
from .search import first_found, order_by_name
from .workflows import OPERATING_REVIEW, can_review_operating_data, can_verify_facts

PAGE_SIZE = 20
SEARCH_COUNT_CAP = 1_000
LIST_COUNT_CAP = 10_000


def _visible_or_404(user, pk: int) -> Enterprise:
    try:
        return services.get_visible_enterprise(user, pk)
    except NotFound:
        raise Http404 from None


@login_required
@require_GET
def enterprise_list(request):
    form = EnterpriseFilterForm(request.GET or None, user=request.user)
    # The region column shows the full name (province, city, county): its two
    # parents come with the row rather than two lookups a row.
    queryset = form.filter(
        Enterprise.objects.visible_to(request.user).select_related(
            "region__parent__parent", "industry"
        )
    )
    # A text search shows at most 1,000 matches by name (beyond that it asks
    # for a narrower search, and which 1,000 of 250,000 come first by name
    # costs more to know than it is worth); plain filters count to 10,000.
    if form.has_text_search():
        paginator = CappedPaginator(
            first_found(queryset, SEARCH_COUNT_CAP + 1), PAGE_SIZE, cap=SEARCH_COUNT_CAP
        )
    else:
        paginator = CappedPaginator(order_by_name(queryset), PAGE_SIZE, cap=LIST_COUNT_CAP)
    page_obj = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "registry/enterprise_list.html",
        {
            "form": form,
            "page_obj": page_obj,
            "enterprises": page_obj.object_list,
            "page_range": paginator.get_elided_page_range(page_obj.number),
            "querystring_base": form.querystring(),
            "can_create": services.can_create_enterprise(request.user),
            "is_institution": request.user.is_institution_user,
        },
    )


@login_required
@require_GET
def enterprise_detail(request, pk: int):
    enterprise = _visible_or_404(request.user, pk)
    enterprise = Enterprise.objects.select_related(
        "region__parent__parent", "industry__parent"
    ).get(pk=enterprise.pk)
    user = request.user
    today = timezone.localdate()
    qualifications = list(
        Qualification.objects.visible_to(user)
        .filter(enterprise=enterprise)
        .order_by("kind", "-valid_from", "pk")
    )
    for qualification in qualifications:
        qualification.active_today = qualification.is_active(today)
        qualification.revocable = services.can_revoke_qualification(user, qualification)
    current_lists, past_lists = services.enterprise_memberships(user, enterprise, today)
    records = _operating_records(user, enterprise)
    return render(
        request,
        "registry/enterprise_detail.html",
        {
            "enterprise": enterprise,
            "size_label": size_label(enterprise.size),
            "can_edit": services.can_edit_enterprise(user, enterprise),
            "can_verify": can_verify_facts(user, enterprise),
            "can_record_tax_grade": services.can_record_tax_grade(user, enterprise),
            "can_create_project": services.can_edit_enterprise(user, enterprise),
            "tax_grades": list(enterprise.tax_grades.order_by("-year")[:10]),
            "active_qualifications": [q for q in qualifications if q.active_today],
            "inactive_qualifications": [q for q in qualifications if not q.active_today],
            "current_lists": current_lists,
            "past_lists": past_lists,
            "projects": list(
                Project.objects.visible_to(user).filter(owner=enterprise).order_by("name")
            ),
            "operating_records": records[-12:][::-1],
            "operating_flagged": sum(r.review_status == ReviewStatus.FLAGGED for r in records),
            "chart_option": services.operating_chart_option(records) if records else None,
            "today": today,
            # Higher apps' panels (green: the 碳效等级 under the enterprise's authorisation).
            **panel_context("registry.enterprise_detail", user=user, enterprise=enterprise),
        },
    )


def _operating_records(user, enterprise, period_type: str | None = None) -> list:
    """One period type's records, oldest first (monthly when there are any)."""
    queryset = OperatingRecord.objects.visible_to(user).filter(enterprise=enterprise)
    if period_type is None:
        period_type = (
            PeriodType.MONTH
            if queryset.filter(period_type=PeriodType.MONTH).exists()
            else PeriodType.QUARTER
        )
    return list(queryset.filter(period_type=period_type).order_by("period_start"))


def _refreshing(request) -> bool:
    """The no-script "update the region lists" button re-renders without saving."""
    return "_refresh" in request.POST


@login_required
@require_http_methods(["GET", "POST"])
def enterprise_create(request):
    if not services.can_create_enterprise(request.user):
        raise PermissionDenied
    if request.method == "POST":
        form = EnterpriseForm(request.POST, user=request.user)
        if not _refreshing(request) and form.is_valid():
            try:
                enterprise = services.create_enterprise(request.user, form.service_data())
            except ValidationFailed as exc:
                form.add_service_errors(exc)
            except NotAllowed:
                raise PermissionDenied from None
            else:
                messages.success(request, _("企业已登记：%(name)s") % {"name": enterprise.name})
                return redirect("registry:detail", pk=enterprise.pk)
    else:
        form = EnterpriseForm(user=request.user)
    return render(request, "registry/enterprise_form.html", {"form": form, "enterprise": None})


@login_required
@require_http_methods(["GET", "POST"])
def enterprise_edit(request, pk: int):
    enterprise = _visible_or_404(request.user, pk)
    if not services.can_edit_enterprise(request.user, enterprise):
        raise PermissionDenied
    if request.method == "POST":
        form = EnterpriseForm(request.POST, user=request.user, enterprise=enterprise)
        if not _refreshing(request) and form.is_valid():
            try:
                enterprise = services.update_enterprise(
                    request.user, enterprise, form.service_data()
                )
            except ValidationFailed as exc:
                form.add_service_errors(exc)
            except NotAllowed:
                raise PermissionDenied from None
            else:
                messages.success(request, _("企业信息已保存"))
                return redirect("registry:detail", pk=enterprise.pk)
    else:
        form = EnterpriseForm(user=request.user, enterprise=enterprise)
    return render(
        request, "registry/enterprise_form.html", {"form": form, "enterprise": enterprise}
    )


@login_required
@require_GET
def region_fields(request):
    """The 省/市/区县 selects for the values in the query (htmx swaps them in)."""
    mode = "form" if request.GET.get("mode") == "form" else "filter"
    form = RegionForm(request.GET, user=request.user, mode=mode)
    return render(request, "registry/partials/region_fields.html", {"form": form, "mode": mode})


# --- profile, tax grades, qualifications ----------------------------------------------------


def _save_or_errors(form, call):
    """Run the service call; its field errors go onto the form. Returns the
    result, or None when the input was refused."""
    try:
        return call()
    except ValidationFailed as exc:
        form.add_service_errors(exc)
    except NotAllowed:
        raise PermissionDenied from None
    except NotFound:
        raise Http404 from None
    return None


def _editable_or_403(user, pk: int, check) -> Enterprise:
    enterprise = _visible_or_404(user, pk)
    if not check(user, enterprise):
        raise PermissionDenied
    return enterprise


@login_required
@require_http_methods(["GET", "POST"])
def profile_edit(request, pk: int):
    enterprise = _editable_or_403(request.user, pk, services.can_edit_enterprise)
    form = ProfileForm(request.POST or None, enterprise=enterprise, viewer=request.user)
    if request.method == "POST" and form.is_valid():
        saved = _save_or_errors(
            form,
            lambda: services.update_enterprise_profile(
                request.user, enterprise, form.service_data()
            ),
        )
        if saved is not None:
            messages.success(request, _("企业档案已保存"))
            return redirect("registry:detail", pk=enterprise.pk)
    return render(
        request,
        "registry/form_page.html",
        {
            "form": form,
            "enterprise": enterprise,
            "title": _("编辑企业档案"),
            "action": request.path,
            "cancel": enterprise.get_absolute_url(),
            "testid": "profile-form",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def tax_grades(request, pk: int):
    enterprise = _visible_or_404(request.user, pk)
    can_record = services.can_record_tax_grade(request.user, enterprise)
    form = TaxGradeForm(request.POST or None) if can_record else None
    if request.method == "POST":
        if not can_record:
            raise PermissionDenied
        if form.is_valid():
            row = _save_or_errors(
                form,
                lambda: services.set_tax_grade(
                    request.user, enterprise, form.cleaned_data["year"], form.cleaned_data["grade"]
                ),
            )
            if row is not None:
                messages.success(
                    request,
                    _("已录入 %(year)s 年度纳税信用等级：%(grade)s")
                    % {"year": row.year, "grade": row.grade},
                )
                return redirect("registry:tax_grades", pk=enterprise.pk)
    return render(
        request,
        "registry/tax_grades.html",
        {
            "enterprise": enterprise,
            "grades": enterprise.tax_grades.order_by("-year"),
            "form": form,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def qualification_create(request, pk: int):
    enterprise = _editable_or_403(request.user, pk, services.can_edit_qualifications)
    form = QualificationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        saved = _save_or_errors(
            form,
            lambda: services.add_qualification(request.user, enterprise, form.service_data()),
        )
        if saved is not None:
            messages.success(request, _("资质已登记：%(label)s") % {"label": saved.label})
            return redirect(f"{enterprise.get_absolute_url()}#qualifications")
    return render(
        request,
        "registry/form_page.html",
        {
            "form": form,
            "enterprise": enterprise,
            "title": _("登记资质"),
            "action": request.path,
            "cancel": enterprise.get_absolute_url(),
            "testid": "qualification-form",
            "help": _("资质到期后自动失效，无需手工处理；证书续期请登记为一条新资质，原记录保留。"),
        },
    )


def _qualification_or_404(user, enterprise, qid):
    try:
        return services.get_visible_qualification(user, enterprise, qid)
    except NotFound:
        raise Http404 from None


@login_required
@require_http_methods(["GET", "POST"])
def qualification_edit(request, pk: int, qid: int):
    enterprise = _editable_or_403(request.user, pk, services.can_edit_qualifications)
    qualification = _qualification_or_404(request.user, enterprise, qid)
    form = QualificationForm(request.POST or None, qualification=qualification)
    if request.method == "POST" and form.is_valid():
        saved = _save_or_errors(
            form,
            lambda: services.update_qualification(request.user, qualification, form.service_data()),
        )
        if saved is not None:
            messages.success(request, _("资质已更正（修改前的内容留存于审计日志）"))
            return redirect(f"{enterprise.get_absolute_url()}#qualifications")
    return render(
        request,
        "registry/form_page.html",
        {
            "form": form,
            "enterprise": enterprise,
            "title": _("更正资质：%(label)s") % {"label": qualification.label},
            "action": request.path,
            "cancel": enterprise.get_absolute_url(),
            "testid": "qualification-form",
            "help": _("更正只用于改正录入错误；修改前后的内容都记入审计日志。"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def qualification_revoke(request, pk: int, qid: int):
    enterprise = _editable_or_403(request.user, pk, services.can_edit_qualifications)
    qualification = _qualification_or_404(request.user, enterprise, qid)
    if not services.can_revoke_qualification(request.user, qualification):
        raise PermissionDenied
    form = RevokeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        saved = _save_or_errors(
            form,
            lambda: services.revoke_qualification(
                request.user,
                qualification,
                effective=form.cleaned_data["effective"],
                reason=form.cleaned_data["reason"],
            ),
        )
        if saved is not None:
            messages.success(request, _("资质已撤销"))
            return redirect(f"{enterprise.get_absolute_url()}#qualifications")
    return render(
        request,
        "registry/form_page.html",
        {
            "form": form,
            "enterprise": enterprise,
            "title": _("撤销资质：%(label)s") % {"label": qualification.label},
            "action": request.path,
            "cancel": enterprise.get_absolute_url(),
            "testid": "revoke-form",
            "submit_label": _("撤销"),
        },
    )


# --- operating data --------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def operating_data(request, pk: int):
    enterprise = _visible_or_404(request.user, pk)
    can_enter = services.can_enter_operating_data(request.user, enterprise)
    form = OperatingForm(request.POST or None) if can_enter else None
    if request.method == "POST":
        if not can_enter:
            raise PermissionDenied
        if form.is_valid():
            record = _save_or_errors(
                form,
                lambda: services.record_operating_data(
                    request.user, enterprise, form.cleaned_data["period"], form.figures()
                ),
            )
            if record is not None:
                if record.review_status == ReviewStatus.FLAGGED:
                    messages.warning(
                        request,
                        _("%(period)s 的数据已保存，但有异常，已标记待核实：%(reasons)s")
                        % {
                            "period": record.period_label,
                            "reasons": "；".join(f["reason"] for f in record.flags),
                        },
                    )
                else:
                    messages.success(
                        request, _("%(period)s 的数据已保存") % {"period": record.period_label}
                    )
                return redirect("registry:operating", pk=enterprise.pk)
    period_type = request.GET.get("type")
    if period_type not in PeriodType.values:
        period_type = None
    records = _operating_records(request.user, enterprise, period_type)
    shown_type = records[0].period_type if records else (period_type or PeriodType.MONTH)
    for record in records:
        record.can_review = can_review_operating_data(request.user, record)
    return render(
        request,
        "registry/operating.html",
        {
            "enterprise": enterprise,
            "records": records[::-1],
            "chart_option": services.operating_chart_option(records) if records else None,
            "form": form,
            "period_type": shown_type,
            "period_types": PeriodType.choices,
            "bound_percent": format((services.yoy_bound() * 100).normalize(), "f"),
            "bound_factor": format((services.yoy_bound() + 1).normalize(), "f"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def operating_review(request, pk: int, rid: int):
    enterprise = _visible_or_404(request.user, pk)
    try:
        record = services.get_visible_operating_record(request.user, enterprise, rid)
    except NotFound:
        raise Http404 from None
    if not can_review_operating_data(request.user, record):
        raise PermissionDenied
    form = OperatingReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        note = form.cleaned_data["note"]
        if "confirm" in request.POST:
            try:
                services.confirm_operating_record(request.user, record, note=note)
            except Conflict as exc:
                messages.error(request, exc.message)
                return redirect("registry:operating", pk=enterprise.pk)
            except ValidationFailed as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("已核实：%(period)s") % {"period": record.period_label})
                return redirect("registry:operating", pk=enterprise.pk)
        else:
            saved = _save_or_errors(
                form,
                lambda: services.correct_operating_record(
                    request.user, record, form.figures(), note=note
                ),
            )
            if saved is not None:
                messages.success(request, _("已更正：%(period)s") % {"period": record.period_label})
                return redirect("registry:operating", pk=enterprise.pk)
    return render(
        request,
        "registry/operating_review.html",
        {
            "enterprise": enterprise,
            "record": record,
            "form": form,
            "can_confirm": bool(OPERATING_REVIEW.available(record, request.user)),
        },
    )


@login_required
@require_GET
def operating_queue(request):
    """Flagged records a reviewer may settle: the enterprises in their subtree."""
    scope_ok = request.user.is_government_user or request.user.is_platform_admin
    if not scope_ok:
        raise Http404
    queryset = (
        OperatingRecord.objects.visible_to(request.user)
        .filter(review_status=ReviewStatus.FLAGGED)
        .select_related("enterprise__region")
        .order_by("-period_start", "enterprise__name", "pk")
    )
    paginator = Paginator(queryset, PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "registry/operating_queue.html",
        {
            "page_obj": page_obj,
            "records": page_obj.object_list,
            "page_range": paginator.get_elided_page_range(page_obj.number),
            "querystring_base": "",
        },
    )
