"""Verifying what enterprises declare (issue 15): the agency's buttons on the
enterprise page and its review page. Views only translate between HTTP and
`services.provenance`; who may act is decided there (403 otherwise)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from chanrong.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from chanrong.core.scope import ScopeKind, scope_of

from . import services
from .forms import ServiceForm
from .models import Enterprise, Qualification
from .services import provenance
from .workflows import can_verify_facts

REVIEW_LIMIT = 200


class VerifyForm(ServiceForm):
    note = forms.CharField(label=gettext_lazy("核验意见（可选）"), required=False, max_length=200)


class RejectForm(ServiceForm):
    reason = forms.CharField(label=gettext_lazy("不通过的原因"), max_length=200)


def _enterprise_for_verifier(user, pk: int) -> Enterprise:
    try:
        enterprise = services.get_visible_enterprise(user, pk)
    except NotFound:
        raise Http404 from None
    if not can_verify_facts(user, enterprise):
        raise PermissionDenied
    return enterprise


def _run(request, form, call, done: str):
    """The service call; field errors go onto the form, 403 / 404 / 409 as such."""
    try:
        result = call()
    except ValidationFailed as exc:
        form.add_service_errors(exc)
        return None
    except NotAllowed:
        raise PermissionDenied from None
    except NotFound:
        raise Http404 from None
    except Conflict as exc:
        messages.error(request, exc.message)
        return None
    messages.success(request, done)
    return result


def _form_page(request, form, enterprise, title: str, testid: str, submit: str):
    return render(
        request,
        "registry/form_page.html",
        {
            "form": form,
            "enterprise": enterprise,
            "title": title,
            "action": request.path,
            "cancel": enterprise.get_absolute_url(),
            "testid": testid,
            "submit_label": submit,
        },
    )


def _qualification(user, enterprise, qid: int) -> Qualification:
    try:
        return services.get_visible_qualification(user, enterprise, qid)
    except NotFound:
        raise Http404 from None


@login_required
@require_http_methods(["GET", "POST"])
def qualification_verify(request, pk: int, qid: int):
    enterprise = _enterprise_for_verifier(request.user, pk)
    qualification = _qualification(request.user, enterprise, qid)
    form = VerifyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = _run(
            request,
            form,
            lambda: provenance.verify_qualification(
                request.user, qualification, note=form.cleaned_data["note"]
            ),
            _("资质已核验：%(label)s") % {"label": qualification.label},
        )
        if done is not None or not form.errors:
            return redirect(f"{enterprise.get_absolute_url()}#qualifications")
    return _form_page(
        request,
        form,
        enterprise,
        _("核验资质：%(label)s（%(issuer)s）")
        % {"label": qualification.label, "issuer": qualification.issuer},
        "verify-form",
        _("核验通过"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def qualification_reject(request, pk: int, qid: int):
    enterprise = _enterprise_for_verifier(request.user, pk)
    qualification = _qualification(request.user, enterprise, qid)
    form = RejectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = _run(
            request,
            form,
            lambda: provenance.reject_qualification(
                request.user, qualification, reason=form.cleaned_data["reason"]
            ),
            _("资质核验不通过：%(label)s") % {"label": qualification.label},
        )
        if done is not None or not form.errors:
            return redirect(f"{enterprise.get_absolute_url()}#qualifications")
    return _form_page(
        request,
        form,
        enterprise,
        _("核验不通过：%(label)s（%(issuer)s）")
        % {"label": qualification.label, "issuer": qualification.issuer},
        "reject-form",
        _("核验不通过"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def figures_verify(request, pk: int):
    enterprise = _enterprise_for_verifier(request.user, pk)
    form = VerifyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = _run(
            request,
            form,
            lambda: provenance.verify_figures(
                request.user, enterprise, note=form.cleaned_data["note"]
            ),
            _("规模数据已核验"),
        )
        if done is not None or not form.errors:
            return redirect("registry:detail", pk=enterprise.pk)
    return _form_page(
        request,
        form,
        enterprise,
        _("核验规模数据（从业人员、营业收入、资产总额）"),
        "figures-verify-form",
        _("核验通过"),
    )


@login_required
@require_GET
def review(request):
    """The agency's queue: declared figures flagged as implausible (待复核),
    other declared figures, and declared qualifications, in its subtree."""
    if scope_of(request.user).kind not in (ScopeKind.GOVERNMENT, ScopeKind.PLATFORM):
        raise PermissionDenied
    visible = Enterprise.objects.visible_to(request.user).select_related("region")
    flagged = list(visible.figures_to_review().order_by("name", "pk")[:REVIEW_LIMIT])
    declared = list(
        visible.filter(figures_status="declared", figures_flagged=False).order_by("name", "pk")[
            :REVIEW_LIMIT
        ]
    )
    qualifications = list(
        Qualification.objects.visible_to(request.user)
        .declared()
        .active_on(timezone.localdate())
        .select_related("enterprise__region")
        .order_by("enterprise__name", "kind", "pk")[:REVIEW_LIMIT]
    )
    mismatched = visible.region_mismatched().count()
    return render(
        request,
        "registry/provenance_review.html",
        {
            "flagged": flagged,
            "declared": declared,
            "qualifications": qualifications,
            "mismatched": mismatched,
            "limit": REVIEW_LIMIT,
        },
    )
