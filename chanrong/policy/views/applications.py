"""One application's page, for everyone who may see it (`visible_to`): the
applicant, the loan, the claimed period, the calculator's lines, the state
and its history, the attachments, objections, and the buttons of the
transitions this user may take right now (`workflows.APPLICATION.available`).

Every button posts to `application_action`, which calls the matching
service. A refusal of the state or the budget (409: "预算不足 …") comes back
as a message on this page; an input error (no voucher number, no reason)
re-renders the page with the error beside the field."""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from chanrong.core.errors import NotAllowed, NotFound, ServiceError, ValidationFailed
from chanrong.core.models import AuditEntry
from chanrong.core.scope import ScopeKind, scope_of

from .. import services
from ..forms import BankConfirmForm, ObjectionForm, PayForm, ReasonForm
from ..models import (
    Application,
    ApplicationState,
    Attachment,
    LedgerEntry,
    Objection,
    ProgrammeKind,
)
from ..services.objection_personal import objector_view
from ..workflows import APPLICATION
from .gov import flash

#: Audit actions on an application that are not transitions of its table.
OTHER_EVENTS = {
    "policy.application.submit": gettext_lazy("提交申请"),
    "policy.objection.raise": gettext_lazy("收到公示异议"),
    "policy.objection.handle": gettext_lazy("处理公示异议"),
}
STATE_LABELS = dict(ApplicationState.choices)
#: The audit log copies the actor's organisation as "agency:4 嘉善县…"; the page shows the name.
_ORGANISATION_KEY = re.compile(r"^(?:enterprise|institution|agency):\d+\s*")


def _organisation(text: str) -> str:
    if text == "platform":
        return _("平台运营方")
    return _ORGANISATION_KEY.sub("", text or "")


def _visible_application(user, pk: int) -> Application:
    return get_object_or_404(
        Application.objects.visible_to(user).select_related(
            "programme__agency",
            "programme__region",
            "enterprise__region",
            "enterprise__industry",
            "institution",
            "loan__institution",
            "loan__guarantor",
            "loan__project",
        ),
        pk=pk,
    )


def _optional_url(name: str, *args) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _event_label(action: str) -> str:
    prefix = f"{APPLICATION.name}."
    if action.startswith(prefix):
        transition = APPLICATION.transitions.get(action.removeprefix(prefix))
        if transition is not None:
            return str(transition.label)
    return str(OTHER_EVENTS.get(action, action))


def _history(application: Application, *, official: bool) -> list[dict]:
    """The application's audit entries, oldest first, as lines of its history.
    Officials see who acted; applicants and banks see which organisation."""
    entries = AuditEntry.objects.filter(
        object_type=application._meta.label_lower, object_id=str(application.pk)
    ).order_by("created_at", "id")
    out = []
    for entry in entries:
        changes = entry.changes or {}
        state = changes.get("state")
        move = None
        if isinstance(state, list) and len(state) == 2:
            move = (
                STATE_LABELS.get(state[0], state[0] or ""),
                STATE_LABELS.get(state[1], state[1]),
            )
        reason = changes.get("reason")
        organisation = _organisation(entry.organisation)
        out.append(
            {
                "at": entry.created_at,
                "label": _event_label(entry.action),
                "who": (f"{organisation} {entry.actor_name}".strip() if official else organisation)
                or (_("系统") if entry.actor_id is None else ""),
                "move": move,
                "reason": reason[1] if isinstance(reason, list) and len(reason) == 2 else "",
                "voucher": (changes.get("voucher_no") or [None, None])[1]
                if isinstance(changes.get("voucher_no"), list)
                else None,
            }
        )
    return out


def _award_label(application: Application) -> str:
    if not application.award_item:
        return ""
    for item in application.programme.params.get("items") or []:
        if item.get("code") == application.award_item:
            return item.get("label") or application.award_item
    return application.award_item


def detail_context(request, application: Application, **forms) -> dict:
    user = request.user
    scope = scope_of(user)
    official = scope.kind in (ScopeKind.GOVERNMENT, ScopeKind.PLATFORM)
    actions = {t.name for t in APPLICATION.available(application, user)}
    if "confirm_direct" in actions:
        actions.discard("confirm_direct")
        actions.add("confirm")
    objections = list(application.objections.select_related("handled_by")) if official else []
    can_handle = application.state == ApplicationState.NOTICE and "reject" in actions
    objection_form = forms.get("objection_form")
    unmasked_pk = forms.get("unmasked_objection")
    for objection in objections:
        # The objector masked, or in full just after an audited unmask.
        objection.objector = objector_view(
            user, objection, unmask=objection.pk == unmasked_pk and unmasked_pk is not None
        )
        objection.form = (
            objection_form
            if objection_form is not None and forms.get("objection_pk") == objection.pk
            else ObjectionForm(prefix=f"obj{objection.pk}")
        )
        objection.can_handle = can_handle and objection.handled_at is None
    calculation = application.calculation or {}
    return {
        "application": application,
        "programme": application.programme,
        "loan": application.loan,
        "official": official,
        "actions": actions,
        "lines": calculation.get("lines") or [],
        "estimate": bool(calculation.get("estimate")),
        "blocked": calculation.get("blocked") or "",
        "award_label": _award_label(application),
        "is_award": application.programme.kind == ProgrammeKind.AWARD,
        "history": _history(application, official=official),
        "attachments": list(application.attachments.all()),
        "objections": objections,
        "open_objections": sum(1 for o in objections if o.handled_at is None),
        "ledger": list(LedgerEntry.objects.filter(application=application).select_related("budget"))
        if official
        else [],
        "reason_form": forms.get("reason_form") or ReasonForm(),
        "pay_form": forms.get("pay_form") or PayForm(),
        "bank_form": forms.get("bank_form")
        or BankConfirmForm(
            initial={"paid_cost": "" if application.paid_cost is None else application.paid_cost}
        ),
        "failed_action": forms.get("failed_action", ""),
        "mine_url": _optional_url("policy:mine"),
        "public_url": _optional_url("policy:notices"),
    }


@login_required
@require_GET
def application_detail(request, pk: int):
    application = _visible_application(request.user, pk)
    return render(request, "policy/application_detail.html", detail_context(request, application))


# --- the buttons ------------------------------------------------------------------------------

SUCCESS = {
    "confirm": gettext_lazy("已确认申请"),
    "bank_confirm": gettext_lazy("已确认贷款信息和实付金额，申请进入初审"),
    "verify": gettext_lazy("初审通过，已转财政部门复核"),
    "approve": gettext_lazy("复核通过，预算已承诺，申请进入公示"),
    "conclude": gettext_lazy("公示期满，申请待拨付"),
    "pay": gettext_lazy("已拨付"),
    "reject": gettext_lazy("申请已驳回"),
    "withdraw": gettext_lazy("申请已撤回"),
}
#: Which form carries each action's input (and shows its errors).
FORMS = {
    "bank_confirm": ("bank_form", BankConfirmForm),
    "pay": ("pay_form", PayForm),
    "reject": ("reason_form", ReasonForm),
    "withdraw": ("reason_form", ReasonForm),
}


def _call(action: str, user, application: Application, data: dict):
    if action == "confirm":
        return services.confirm(user, application)
    if action == "bank_confirm":
        return services.bank_confirm(user, application, data.get("paid_cost"))
    if action == "verify":
        return services.verify(user, application)
    if action == "approve":
        return services.approve(user, application)
    if action == "conclude":
        return services.conclude(user, application)
    if action == "pay":
        return services.pay(user, application, data.get("voucher_no"), data.get("paid_on"))
    if action == "reject":
        return services.reject(user, application, data.get("reason"))
    if action == "withdraw":
        return services.withdraw(user, application, data.get("reason"))
    raise Http404


@login_required
@require_POST
def application_action(request, pk: int, action: str):
    if action not in SUCCESS:
        raise Http404
    user = request.user
    application = _visible_application(user, pk)
    form_name, form_class = FORMS.get(action, (None, None))
    form = form_class(request.POST) if form_class else None
    data = form.cleaned_data if form is not None and form.is_valid() else {}
    if form is not None and form.errors:
        return _again(request, application, action, form_name, form)
    try:
        _call(action, user, application, data)
    except ValidationFailed as exc:
        if form is None:
            flash(request, exc)
            return redirect("policy:application", pk=application.pk)
        form.add_service_errors(exc)
        return _again(request, application, action, form_name, form)
    except NotAllowed:
        raise PermissionDenied from None
    except NotFound:
        raise Http404 from None
    except ServiceError as exc:  # Conflict: the state, the budget, the notice period …
        flash(request, exc)
    else:
        messages.success(request, str(SUCCESS[action]))
    return redirect("policy:application", pk=application.pk)


def _again(request, application, action: str, form_name: str, form):
    application.refresh_from_db()
    context = detail_context(request, application, **{form_name: form, "failed_action": action})
    return render(request, "policy/application_detail.html", context)


@login_required
@require_POST
def objection_handle(request, pk: int):
    """处理 an objection raised during the 公示: uphold (the application is
    rejected) or dismiss, with the resolution."""
    user = request.user
    objection = get_object_or_404(
        Objection.objects.filter(application__in=Application.objects.visible_to(user)),
        pk=pk,
    )
    application = _visible_application(user, objection.application_id)
    if scope_of(user).kind not in (ScopeKind.GOVERNMENT, ScopeKind.PLATFORM):
        raise Http404
    form = ObjectionForm(request.POST, prefix=f"obj{objection.pk}")
    if form.is_valid():
        uphold = form.cleaned_data["decision"] == "uphold"
        try:
            services.handle_objection(
                user, objection, form.cleaned_data.get("resolution"), uphold=uphold
            )
        except ValidationFailed as exc:
            form.add_service_errors(exc)
        except NotAllowed:
            raise PermissionDenied from None
        except ServiceError as exc:
            flash(request, exc)
            return redirect("policy:application", pk=application.pk)
        else:
            messages.success(
                request,
                _("异议成立，申请已驳回") if uphold else _("已记录处理意见，异议不成立"),
            )
            return redirect("policy:application", pk=application.pk)
    application.refresh_from_db()
    context = detail_context(request, application, objection_form=form, objection_pk=objection.pk)
    return render(request, "policy/application_detail.html", context)


@login_required
@require_POST
def objection_unmask(request, pk: int):
    """查看完整信息 of one objector: a POST because it writes an audit entry
    (`personal.unmask`); answered with the application page, that objector
    shown in full. Without the right: 403."""
    user = request.user
    objection = get_object_or_404(
        Objection.objects.filter(application__in=Application.objects.visible_to(user)),
        pk=pk,
    )
    application = _visible_application(user, objection.application_id)
    if scope_of(user).kind not in (ScopeKind.GOVERNMENT, ScopeKind.PLATFORM):
        raise Http404
    try:
        context = detail_context(request, application, unmasked_objection=objection.pk)
    except NotAllowed:
        raise PermissionDenied from None
    return render(request, "policy/application_detail.html", context)


@login_required
@require_GET
def attachment_download(request, pk: int):
    """An attachment of an application the user may see."""
    attachment = get_object_or_404(
        Attachment.objects.filter(application__in=Application.objects.visible_to(request.user)),
        pk=pk,
    )
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    return FileResponse(handle, as_attachment=True, filename=attachment.original_name)
