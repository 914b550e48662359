"""Self-registration pages: the public forms (no sign-in), the applicant's
status page (a secret link), and the reviewers' queue and review page.
Rules are in services/registration.py; these pages collect, call and show."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chanrong.core import masking, ratelimit
from chanrong.core.context import client_ip
from chanrong.core.errors import Conflict, NotAllowed, ValidationFailed

from .forms_registration import (
    EnterpriseRegistrationForm,
    InstitutionRegistrationForm,
    RejectForm,
    region_choices,
)
from .registration_models import Registration, RegistrationKind, RegistrationStatus
from .services import registration as services

#: Submissions of the public forms per client address (every POST counts,
#: valid or not: each one costs a password hash). CHANRONG_REGISTRATION_RATE.
DEFAULT_RATE = "10/hour"
PER_PAGE = 30


def _rate_refused(request) -> int:
    """Seconds to wait, or 0 when this submission may go ahead."""
    rate = ratelimit.parse_rate(getattr(settings, "CHANRONG_REGISTRATION_RATE", DEFAULT_RATE))
    if rate is None:
        return 0
    decision = ratelimit.hit(f"register:{client_ip(request) or '-'}", rate)
    return 0 if decision.allowed else decision.retry_after


@require_GET
def register_start(request):
    return render(request, "accounts/registration/start.html")


@require_GET
def privacy(request):
    return render(
        request, "accounts/registration/privacy.html", {"version": services.PRIVACY_VERSION}
    )


@require_GET
def region_options(request):
    """The region choices under a province (htmx swaps them into the form)."""
    county_only = request.GET.get("kind") != RegistrationKind.INSTITUTION
    choices = region_choices(request.GET.get("province", ""), county_only=county_only)
    return render(request, "accounts/registration/_region_options.html", {"choices": choices})


def _register(request, kind: str):
    form_class = (
        EnterpriseRegistrationForm
        if kind == RegistrationKind.ENTERPRISE
        else InstitutionRegistrationForm
    )
    submit = (
        services.submit_enterprise
        if kind == RegistrationKind.ENTERPRISE
        else services.submit_institution
    )
    form = form_class(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and not request.POST.get("_refresh"):
        if wait := _rate_refused(request):
            form.add_service_errors(
                ValidationFailed(
                    [], _("提交过于频繁，请 %(minutes)d 分钟后再试。") % {"minutes": -(-wait // 60)}
                )
            )
            status = 429
        else:
            try:
                registration, token = submit(form.raw())
            except ValidationFailed as exc:
                form.add_service_errors(exc)
                status = 422
            else:
                return render(
                    request,
                    "accounts/registration/submitted.html",
                    {"registration": registration, "token": token},
                )
    template = f"accounts/registration/{kind}.html"
    return render(request, template, {"form": form, "kind": kind}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def register_enterprise(request):
    return _register(request, RegistrationKind.ENTERPRISE)


@never_cache
@require_http_methods(["GET", "POST"])
def register_institution(request):
    return _register(request, RegistrationKind.INSTITUTION)


@never_cache
@require_http_methods(["GET", "POST"])
def status(request, token: str):
    registration = services.by_token(token)
    if registration is None:
        raise Http404
    if request.method == "POST":
        try:
            services.withdraw(token, registration)
        except (Conflict, NotAllowed) as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("申请已撤回。"))
        return redirect("accounts:registration_status", token=token)
    return render(
        request,
        "accounts/registration/status.html",
        {
            "registration": registration,
            "message": services.status_message(registration),
            "pending": registration.status == RegistrationStatus.SUBMITTED,
        },
    )


def _may_review_any(user) -> bool:
    return user.is_government_user or user.is_platform_admin


@login_required
@require_GET
def queue(request):
    if not _may_review_any(request.user):
        raise Http404
    show = request.GET.get("status") or RegistrationStatus.SUBMITTED
    if show not in RegistrationStatus.values and show != "all":
        show = RegistrationStatus.SUBMITTED
    rows = Registration.objects.visible_to(request.user).select_related("region")
    if show != "all":
        rows = rows.filter(status=show)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    for row in page.object_list:
        row.masked_name = masking.mask(row.contact_name, masking.Kind.NAME)
        row.masked_phone = masking.mask(row.contact_phone, masking.Kind.PHONE)
    return render(
        request,
        "accounts/registration/queue.html",
        {
            "page": page,
            "show": show,
            "statuses": [*RegistrationStatus.choices, ("all", _("全部"))],
        },
    )


def _visible_or_404(user, pk: int) -> Registration:
    registration = (
        Registration.objects.visible_to(user)
        .select_related("region", "industry", "enterprise", "institution", "user", "reviewed_by")
        .filter(pk=pk)
        .first()
    )
    if registration is None:
        raise Http404
    return registration


@login_required
@require_GET
def review(request, pk: int):
    registration = _visible_or_404(request.user, pk)
    actions = services.available(request.user, registration)
    return _review_page(request, registration, actions, RejectForm())


def _review_page(request, registration, actions, reject_form, status=200) -> HttpResponse:
    # Who may decide sees the contact in full (they call the applicant to
    # verify); everyone else masked, as in the list.
    reviewer = bool(actions)
    contact = {
        "name": registration.contact_name,
        "phone": registration.contact_phone,
        "email": registration.contact_email,
    }
    if not reviewer:
        contact = {
            "name": masking.mask(contact["name"], masking.Kind.NAME),
            "phone": masking.mask(contact["phone"], masking.Kind.PHONE),
            "email": masking.mask(contact["email"], masking.Kind.EMAIL),
        }
    return render(
        request,
        "accounts/registration/review.html",
        {
            "registration": registration,
            "actions": actions,
            "contact": contact,
            "reject_form": reject_form,
            "kind_label": services.institution_kind_label(registration),
        },
        status=status,
    )


@login_required
@require_POST
def decide(request, pk: int):
    registration = _visible_or_404(request.user, pk)
    action = request.POST.get("action")
    reject_form = RejectForm(request.POST if action == "reject" else None)
    try:
        if action == "approve":
            services.approve(request.user, registration)
            messages.success(request, _("已通过，账号已开通。"))
        elif action == "reject":
            services.reject(request.user, registration, request.POST.get("reason", ""))
            messages.success(request, _("已驳回。"))
        else:
            raise Http404
    except ValidationFailed as exc:
        reject_form.is_valid()
        for error in exc.errors:
            reject_form.add_error("reason" if error.field == "reason" else None, error.message)
        actions = services.available(request.user, registration)
        return _review_page(request, registration, actions, reject_form, status=422)
    except (Conflict, NotAllowed) as exc:
        messages.error(request, exc.message)
    return redirect("accounts:registration_review", pk=registration.pk)
