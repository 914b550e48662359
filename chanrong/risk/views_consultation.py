"""抽贷断贷会商 on pages: the list (by state), the request form (a bank from
its loan, an enterprise from its loans), and the detail page with the
timeline, the participants' positions and commitments, the decision, the
follow-ups and the forms this viewer may use. The rules are in
`services.consultation`; what the user may not see is a 404, what it may see
but not do a 403, bad input the form again with field errors (422)."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from chanrong.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from chanrong.core.paging import paginate
from chanrong.core.scope import ScopeKind, scope_of

from .models import (
    Consultation,
    ConsultationKind,
    ConsultationState,
    DecisionKind,
    LoanAccount,
)
from .services import consultation as svc


def _consultations(user):
    return Consultation.objects.visible_to(user).select_related(
        "enterprise", "enterprise__region", "requesting_institution", "agency"
    )


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        return None


@login_required
@require_GET
def consultation_list(request):
    user = request.user
    if scope_of(user).kind == ScopeKind.NONE:
        raise Http404
    listed = _consultations(user)
    state = request.GET.get("state", "")
    if state == "open":
        listed = listed.open()
    elif state in ConsultationState.values:
        listed = listed.filter(state=state)
    pager = paginate(request, listed.order_by("-requested_on", "-pk"))
    context = {
        "consultations": pager["page_obj"].object_list,
        "pager": pager,
        "state": state,
        "states": ConsultationState.choices,
    }
    return render(request, "risk/consultation_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def consultation_new(request):
    """The request form, opened from a loan (`?loan=`): the enterprise's loans
    this user can see and that are still on the books, that loan ticked."""
    user = request.user
    if scope_of(user).kind not in (ScopeKind.ENTERPRISE, ScopeKind.INSTITUTION):
        raise Http404
    loan_id = request.POST.get("loan") or request.GET.get("loan")
    visible = LoanAccount.objects.visible_to(user).select_related("institution", "enterprise")
    anchor = get_object_or_404(visible, pk=loan_id) if str(loan_id or "").isdigit() else None
    if anchor is None:
        raise Http404
    candidates = list(visible.filter(enterprise_id=anchor.enterprise_id, status__in=svc.ON_BOOK))
    errors: dict[str, str] = {}
    values = {"kind": "", "reason": "", "loan_ids": [anchor.pk]}
    status = 200
    if request.method == "POST":
        values = {
            "kind": request.POST.get("kind", ""),
            "reason": request.POST.get("reason", ""),
            "loan_ids": [int(i) for i in request.POST.getlist("loan_ids") if i.isdigit()],
        }
        try:
            c = svc.request(user, **values)
        except ValidationFailed as exc:
            errors = {e.field: e.message for e in exc.errors}
            status = 422
        except NotFound:
            raise Http404 from None
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from None
        else:
            messages.success(request, _("已提交会商申请"))
            return redirect("risk:consultation", c.pk)
    context = {
        "anchor": anchor,
        "candidates": candidates,
        "kinds": ConsultationKind.choices,
        "errors": errors,
        "values": values,
    }
    return render(request, "risk/consultation_new.html", context, status=status)


def _detail(request, c: Consultation, *, errors=None, action: str = "", values=None, status=200):
    user = request.user
    participants = list(c.participants.select_related("institution"))
    own = next(
        (pt for pt in participants if pt.institution_id == getattr(user, "institution_id", None)),
        None,
    )
    timeline = [(c.requested_on, _("提出会商申请"), c.get_kind_display())]
    if c.accepted_on:
        timeline.append((c.accepted_on, _("受理"), c.agency.name if c.agency else ""))
    if c.state == ConsultationState.DECLINED:
        timeline.append((None, _("不予受理"), c.declined_reason))
    if c.meeting_on:
        place = _("线上会商") if c.meeting_online else c.meeting_place
        timeline.append((c.meeting_on, _("召开会商会议"), place))
    if c.decided_on:
        timeline.append((c.decided_on, _("形成会商意见"), c.get_decision_display()))
    follow_ups = list(c.follow_ups.select_related("institution"))
    for f in follow_ups:
        who = f.institution.name if f.institution else _("牵头部门")
        timeline.append((f.on, _("跟踪"), f"{who}：{f.note}"))
    if c.closed_on:
        timeline.append((c.closed_on, _("办结"), c.closing_note))
    context = {
        "c": c,
        "loans": c.loans.select_related("institution"),
        "participants": participants,
        "own_participant": own,
        "follow_ups": follow_ups,
        "timeline": timeline,
        "can": svc.actions_for(user, c),
        "decisions": DecisionKind.choices,
        "errors": errors or {},
        "action": action,
        "values": values or {},
    }
    return render(request, "risk/consultation_detail.html", context, status=status)


@login_required
@require_GET
def consultation_detail(request, pk: int):
    return _detail(request, get_object_or_404(_consultations(request.user), pk=pk))


def _act(user, c: Consultation, action: str, post) -> str:
    """Run one action; returns the message to show after it."""
    if action == "withdraw":
        svc.withdraw(user, c)
        return _("已撤回会商申请")
    if action == "accept":
        svc.accept(user, c)
        return _("已受理会商申请")
    if action == "decline":
        svc.decline(user, c, post.get("declined_reason", ""))
        return _("已登记不予受理")
    if action == "convene":
        svc.convene(
            user,
            c,
            meeting_on=_day(post.get("meeting_on")),
            meeting_place=post.get("meeting_place", ""),
            meeting_online=post.get("meeting_online") == "on",
        )
        return _("已召集会商")
    if action == "position":
        svc.record_position(user, c, post.get("position", ""))
        return _("已提交本机构意见")
    if action == "meeting":
        svc.record_meeting(
            user, c, meeting_on=_day(post.get("meeting_on")), minutes=post.get("minutes", "")
        )
        return _("已记录会议纪要")
    if action == "decide":
        commitments = {
            int(key[11:]): value
            for key, value in post.items()
            if key.startswith("commitment_") and key[11:].isdigit()
        }
        svc.decide(
            user,
            c,
            decision=post.get("decision", ""),
            text=post.get("decision_text", ""),
            decided_on=_day(post.get("decided_on")),
            commitments=commitments,
        )
        return _("已形成会商意见")
    if action == "follow_up":
        kept = {"yes": True, "no": False}.get(post.get("kept", ""))
        svc.follow_up(user, c, on=_day(post.get("on")), note=post.get("note", ""), kept=kept)
        return _("已登记跟踪情况")
    if action == "close":
        svc.close(user, c, closed_on=_day(post.get("closed_on")), note=post.get("closing_note", ""))
        return _("会商已办结")
    raise Http404


@login_required
@require_POST
def consultation_action(request, pk: int, action: str):
    c = get_object_or_404(_consultations(request.user), pk=pk)
    try:
        done = _act(request.user, c, action, request.POST)
    except ValidationFailed as exc:
        errors = {e.field: e.message for e in exc.errors}
        return _detail(request, c, errors=errors, action=action, values=request.POST, status=422)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from None
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("risk:consultation", c.pk)
