"""抽贷断贷会商 (企业抽断贷会商机制, 重庆's seed): before a bank cuts, does not
renew or recalls an enterprise's loans, the enterprise or a bank with
exposure may ask the supervising agency to consult all the banks concerned.

The flow (states in `workflows.CONSULTATION`): request → accept | decline
(or withdraw before acceptance) → convene the institutions with exposure
(each records its position) → record the meeting → decide (a decision kind,
its text, each institution's commitment) → follow up (agency notes; each
institution reports whether it kept its commitment) → close.

Every change is checked against its actor, audited, and tells the people
concerned through the platform inbox. Bad input raises `ValidationFailed`
with field errors; nothing is written then.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.accounts.models import User
from chanrong.core import audit, notify
from chanrong.core.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.core.workflow import apply_transition

from .. import permissions as p
from ..models import (
    Consultation,
    ConsultationFollowUp,
    ConsultationKind,
    ConsultationParticipant,
    ConsultationState,
    DecisionKind,
    LoanAccount,
    LoanStatus,
)
from ..workflows import CONSULTATION

#: Loans a bank can still cut or recall: on its books.
ON_BOOK = (LoanStatus.ACTIVE, LoanStatus.RECALLED)
MAX_REASON = 2000
MAX_MINUTES = 5000
MAX_DECISION = 3000
MAX_NOTE = 1000


def _text(value, field: str, limit: int, *, required: bool, label: str) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationFailed({field: _("请填写%(label)s") % {"label": label}})
    if len(text) > limit:
        raise ValidationFailed({field: _("最多 %(n)s 个字符") % {"n": limit}})
    return text


def _link(consultation: Consultation) -> str:
    return reverse("risk:consultation", args=[consultation.pk])


def exposed_institution_ids(enterprise_id: int) -> list[int]:
    """Institutions with a loan on their books to the enterprise: whom the
    agency convenes."""
    return sorted(
        set(
            LoanAccount.objects.filter(enterprise_id=enterprise_id, status__in=ON_BOOK).values_list(
                "institution_id", flat=True
            )
        )
    )


def _agency_users(consultation: Consultation) -> list:
    """The accepting agency's users; before acceptance, the users of every
    agency whose region subtree holds the enterprise, most local first."""
    if consultation.agency_id:
        return list(User.objects.filter(agency_id=consultation.agency_id, is_active=True))
    code = consultation.enterprise.region_id
    prefixes = {code[:n] for n in (2, 4, 6)} | {code}
    users = User.objects.filter(is_active=True, agency__isnull=False).filter(
        Q(agency__region__prefix__in=prefixes) | Q(agency__region_id=code)
    )
    # The most local level that has users is the one that handles it.
    by_len: dict[int, list] = {}
    for user in users.select_related("agency__region"):
        by_len.setdefault(len(user.agency.region_prefix), []).append(user)
    return by_len[max(by_len)] if by_len else []


def _parties(consultation: Consultation) -> list:
    """Everyone the consultation concerns outside the agency: the
    enterprise's users, the requesting and participating institutions."""
    institutions = set(consultation.participants.values_list("institution_id", flat=True))
    if consultation.requesting_institution_id:
        institutions.add(consultation.requesting_institution_id)
    return list(
        User.objects.filter(is_active=True).filter(
            Q(enterprise_id=consultation.enterprise_id) | Q(institution_id__in=institutions)
        )
    )


def _tell(consultation: Consultation, recipients: Iterable, message: str, actor=None) -> None:
    notify.send(
        [u for u in recipients if actor is None or u.pk != actor.pk],
        "risk.consultation",
        message,
        _link(consultation),
        email=False,
    )


def _notifier(message_for):
    def notify_parties(consultation, transition, actor) -> None:
        _tell(
            consultation,
            _parties(consultation) + _agency_users(consultation),
            message_for(consultation),
            actor,
        )

    return notify_parties


# --- request ------------------------------------------------------------------------------------


@transaction.atomic
def request(actor, *, loan_ids: Iterable[int], kind: str, reason: str) -> Consultation:
    """Ask for a consultation about one enterprise's loans.

    An enterprise user may ask about its own loans (any bank's); an
    institution only about its own loans — another bank's loan is not
    visible to it, so it is a 404, as elsewhere in the loan book."""
    scope = scope_of(actor)
    if scope.kind not in (ScopeKind.ENTERPRISE, ScopeKind.INSTITUTION):
        raise NotAllowed(_("只有企业或有授信的金融机构可以申请会商"))
    if kind not in ConsultationKind.values:
        raise ValidationFailed({"kind": _("请选择会商事由")})
    text = _text(reason, "reason", MAX_REASON, required=True, label=_("情况说明"))
    try:
        ids = sorted({int(i) for i in loan_ids})
    except (TypeError, ValueError):
        raise ValidationFailed({"loan_ids": _("贷款编号有误")}) from None
    if not ids:
        raise ValidationFailed({"loan_ids": _("请至少选择一笔贷款")})
    loans = list(LoanAccount.objects.visible_to(actor).filter(pk__in=ids))
    if len(loans) != len(ids):
        raise NotFound(_("贷款不存在"))
    if len({loan.enterprise_id for loan in loans}) > 1:
        raise ValidationFailed({"loan_ids": _("一次会商只涉及一家企业的贷款")})
    if any(loan.status not in ON_BOOK for loan in loans):
        raise ValidationFailed({"loan_ids": _("只能就存续中的贷款申请会商")})
    busy = Consultation.objects.open().filter(loans__in=ids).values_list("pk", flat=True)
    if busy:
        raise ValidationFailed(
            {"loan_ids": _("所选贷款已在会商中（%(ref)s）") % {"ref": f"HS-{busy[0]}"}}
        )
    consultation = Consultation.objects.create(
        enterprise_id=loans[0].enterprise_id,
        kind=kind,
        reason=text,
        requested_by=actor,
        requesting_institution_id=scope.institution_id,
        requested_on=timezone.localdate(),
    )
    consultation.loans.set(loans)
    audit.record(
        "risk.consultation.request",
        actor=actor,
        obj=consultation,
        changes={"kind": kind, "loans": [loan.reference for loan in loans]},
    )
    _tell(
        consultation,
        _agency_users(consultation) + _parties(consultation),
        _("%(ent)s 的贷款申请抽贷断贷会商（%(ref)s）")
        % {"ent": consultation.enterprise.name, "ref": consultation.reference},
        actor,
    )
    return consultation


def withdraw(actor, consultation: Consultation) -> Consultation:
    return apply_transition(
        CONSULTATION,
        consultation,
        "withdraw",
        actor,
        notify=_notifier(lambda c: _("会商申请 %(ref)s 已撤回") % {"ref": c.reference}),
    )


# --- the agency ---------------------------------------------------------------------------------


def accept(actor, consultation: Consultation) -> Consultation:
    return apply_transition(
        CONSULTATION,
        consultation,
        "accept",
        actor,
        changes={
            "agency_id": getattr(actor, "agency_id", None),
            "accepted_on": timezone.localdate(),
        },
        notify=_notifier(lambda c: _("会商申请 %(ref)s 已受理") % {"ref": c.reference}),
    )


def decline(actor, consultation: Consultation, reason: str) -> Consultation:
    text = _text(reason, "declined_reason", MAX_NOTE, required=True, label=_("不予受理理由"))
    return apply_transition(
        CONSULTATION,
        consultation,
        "decline",
        actor,
        changes={"agency_id": getattr(actor, "agency_id", None), "declined_reason": text},
        notify=_notifier(lambda c: _("会商申请 %(ref)s 不予受理") % {"ref": c.reference}),
    )


def convene(
    actor,
    consultation: Consultation,
    *,
    meeting_on: date | None,
    meeting_place: str = "",
    meeting_online: bool = False,
    institution_ids: Iterable[int] | None = None,
) -> Consultation:
    """Convene the institutions with exposure (all of them unless the agency
    names some) to a meeting on a date not before acceptance."""
    if not p.is_supervising_agency(actor, consultation):
        raise NotAllowed(_("无权执行「%(action)s」") % {"action": _("召集会商")})
    errors = {}
    if meeting_on is None:
        errors["meeting_on"] = _("请填写会商日期")
    elif consultation.accepted_on and meeting_on < consultation.accepted_on:
        errors["meeting_on"] = _("会商日期不能早于受理日期")
    place = (meeting_place or "").strip()
    if not place and not meeting_online:
        errors["meeting_place"] = _("请填写会商地点，或选择线上会商")
    elif len(place) > 200:
        errors["meeting_place"] = _("最多 %(n)s 个字符") % {"n": 200}
    exposed = exposed_institution_ids(consultation.enterprise_id)
    chosen = sorted({int(i) for i in institution_ids}) if institution_ids else exposed
    if not chosen:
        errors["institution_ids"] = _("该企业没有存续贷款的金融机构可召集")
    elif set(chosen) - set(exposed):
        errors["institution_ids"] = _("只能召集对该企业有存续贷款的金融机构")
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        ConsultationParticipant.objects.bulk_create(
            [ConsultationParticipant(consultation=consultation, institution_id=i) for i in chosen],
            ignore_conflicts=True,
        )
        return apply_transition(
            CONSULTATION,
            consultation,
            "convene",
            actor,
            changes={
                "meeting_on": meeting_on,
                "meeting_place": place,
                "meeting_online": bool(meeting_online),
            },
            audit_extra={"participants": chosen},
            notify=_notifier(
                lambda c: (
                    _("会商 %(ref)s 定于 %(day)s 召开，请提交本机构意见")
                    % {"ref": c.reference, "day": c.meeting_on.isoformat()}
                )
            ),
        )


def record_position(actor, consultation: Consultation, position: str) -> ConsultationParticipant:
    """A convened institution states its position (before the decision)."""
    text = _text(position, "position", MAX_REASON, required=True, label=_("本机构意见"))
    scope = scope_of(actor)
    with transaction.atomic():
        participant = (
            ConsultationParticipant.objects.select_for_update()
            .filter(consultation=consultation, institution_id=scope.institution_id)
            .first()
            if scope.kind == ScopeKind.INSTITUTION
            else None
        )
        if participant is None:
            raise NotAllowed(_("只有被召集的金融机构可以提交意见"))
        consultation.refresh_from_db(fields=["state"])
        if consultation.state != ConsultationState.CONVENED:
            raise Conflict(_("会商已形成意见，不能再提交本机构意见"), code="invalid_state")
        participant.position = text
        participant.position_at = timezone.now()
        participant.save(update_fields=["position", "position_at"])
        audit.record(
            "risk.consultation.position",
            actor=actor,
            obj=consultation,
            changes={"institution": participant.institution_id, "position": text[:200]},
        )
    return participant


def record_meeting(
    actor,
    consultation: Consultation,
    *,
    meeting_on: date | None,
    minutes: str,
    meeting_place: str | None = None,
    meeting_online: bool | None = None,
) -> Consultation:
    """The agency records the meeting as held: its date and its minutes."""
    if not p.is_supervising_agency(actor, consultation):
        raise NotAllowed(_("无权记录会商纪要"))
    errors = {}
    if meeting_on is None:
        errors["meeting_on"] = _("请填写会商日期")
    elif consultation.accepted_on and meeting_on < consultation.accepted_on:
        errors["meeting_on"] = _("会商日期不能早于受理日期")
    elif meeting_on > timezone.localdate():
        errors["meeting_on"] = _("纪要只能记录已召开的会议")
    try:
        text = _text(minutes, "minutes", MAX_MINUTES, required=True, label=_("会议纪要"))
    except ValidationFailed as exc:
        errors.update({e.field: e.message for e in exc.errors})
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        locked = Consultation.objects.select_for_update().get(pk=consultation.pk)
        if locked.state != ConsultationState.CONVENED:
            raise Conflict(_("只有会商中的申请可以记录会议纪要"), code="invalid_state")
        before = {"meeting_on": locked.meeting_on, "minutes": locked.minutes}
        locked.meeting_on = meeting_on
        locked.minutes = text
        if meeting_place is not None:
            locked.meeting_place = meeting_place.strip()[:200]
        if meeting_online is not None:
            locked.meeting_online = bool(meeting_online)
        locked.save()
        audit.record(
            "risk.consultation.meeting",
            actor=actor,
            obj=locked,
            changes=audit.diff(before, {"meeting_on": meeting_on, "minutes": text}),
        )
    consultation.refresh_from_db()
    return consultation


def decide(
    actor,
    consultation: Consultation,
    *,
    decision: str,
    text: str,
    decided_on: date | None = None,
    commitments: Mapping[int, str] | None = None,
) -> Consultation:
    """Record the decision after the meeting: its kind, its text and what
    each convened institution commits to (keyed by institution id)."""
    errors = {}
    if decision not in DecisionKind.values:
        errors["decision"] = _("请选择会商意见")
    body = (text or "").strip()
    if not body:
        errors["decision_text"] = _("请填写会商意见说明")
    elif len(body) > MAX_DECISION:
        errors["decision_text"] = _("最多 %(n)s 个字符") % {"n": MAX_DECISION}
    day = decided_on or timezone.localdate()
    if not consultation.minutes:
        errors["minutes"] = _("请先记录会议纪要")
    elif consultation.meeting_on and day < consultation.meeting_on:
        errors["decided_on"] = _("形成意见日期不能早于会商日期")
    participants = {pt.institution_id: pt for pt in consultation.participants.all()}
    commitments = {int(k): (v or "").strip() for k, v in (commitments or {}).items()}
    for institution_id, commitment in commitments.items():
        if institution_id not in participants:
            errors[f"commitments.{institution_id}"] = _("该机构未被召集")
        elif len(commitment) > MAX_NOTE:
            errors[f"commitments.{institution_id}"] = _("最多 %(n)s 个字符") % {"n": MAX_NOTE}
    if not p.is_supervising_agency(actor, consultation):
        raise NotAllowed(_("无权执行「%(action)s」") % {"action": _("形成会商意见")})
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        for institution_id, commitment in commitments.items():
            pt = participants[institution_id]
            pt.commitment = commitment
            pt.save(update_fields=["commitment"])
        return apply_transition(
            CONSULTATION,
            consultation,
            "decide",
            actor,
            changes={"decision": decision, "decision_text": body, "decided_on": day},
            audit_extra={"commitments": {str(k): v[:200] for k, v in commitments.items()}},
            notify=_notifier(
                lambda c: (
                    _("会商 %(ref)s 已形成意见：%(decision)s")
                    % {"ref": c.reference, "decision": c.get_decision_display()}
                )
            ),
        )


def follow_up(
    actor,
    consultation: Consultation,
    *,
    on: date | None,
    note: str,
    kept: bool | None = None,
) -> ConsultationFollowUp:
    """A follow-up after the decision: the agency's note, or a convened
    institution's report on its own commitment (then `kept` is required)."""
    errors = {}
    if on is None:
        errors["on"] = _("请填写跟踪日期")
    elif consultation.decided_on and on < consultation.decided_on:
        errors["on"] = _("跟踪日期不能早于形成意见日期")
    try:
        body = _text(note, "note", MAX_NOTE, required=True, label=_("跟踪情况"))
    except ValidationFailed as exc:
        errors.update({e.field: e.message for e in exc.errors})
    scope = scope_of(actor)
    institution_id = None
    if p.is_supervising_agency(actor, consultation):
        pass
    elif p.is_consultation_participant(actor, consultation):
        institution_id = scope.institution_id
        if kept is None:
            errors["kept"] = _("请说明是否履行了承诺")
    else:
        raise NotAllowed(_("无权提交跟踪情况"))
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        locked = Consultation.objects.select_for_update().get(pk=consultation.pk)
        if locked.state != ConsultationState.DECIDED:
            raise Conflict(_("只有已形成意见、尚未办结的会商可以跟踪"), code="invalid_state")
        row = ConsultationFollowUp.objects.create(
            consultation=locked,
            on=on,
            note=body,
            institution_id=institution_id,
            kept=kept if institution_id else None,
            author=actor,
        )
        if institution_id:
            ConsultationParticipant.objects.filter(
                consultation=locked, institution_id=institution_id
            ).update(commitment_kept=kept)
        audit.record(
            "risk.consultation.follow_up",
            actor=actor,
            obj=locked,
            changes={"on": on.isoformat(), "note": body[:200], "kept": row.kept},
        )
        if institution_id:
            _tell(
                locked,
                _agency_users(locked),
                _("会商 %(ref)s：%(inst)s 报告了承诺履行情况")
                % {"ref": locked.reference, "inst": row.institution.name},
                actor,
            )
    return row


def close(actor, consultation: Consultation, *, closed_on: date | None, note: str) -> Consultation:
    errors = {}
    day = closed_on or timezone.localdate()
    if consultation.decided_on and day < consultation.decided_on:
        errors["closed_on"] = _("办结日期不能早于形成意见日期")
    try:
        body = _text(note, "closing_note", MAX_NOTE, required=True, label=_("办结说明"))
    except ValidationFailed as exc:
        errors.update({e.field: e.message for e in exc.errors})
    if not p.is_supervising_agency(actor, consultation):
        raise NotAllowed(_("无权执行「%(action)s」") % {"action": _("会商办结")})
    if errors:
        raise ValidationFailed(errors)
    return apply_transition(
        CONSULTATION,
        consultation,
        "close",
        actor,
        changes={"closed_on": day, "closing_note": body},
        notify=_notifier(lambda c: _("会商 %(ref)s 已办结") % {"ref": c.reference}),
    )


# --- what a viewer may do -----------------------------------------------------------------------


def actions_for(actor, consultation: Consultation) -> set[str]:
    """Names of what `actor` may do now: the transitions allowed to it, and
    "position", "meeting", "follow_up" — for the detail page's forms."""
    names = {t.name for t in CONSULTATION.available(consultation, actor)}
    state = consultation.state
    agency = p.is_supervising_agency(actor, consultation)
    participant = p.is_consultation_participant(actor, consultation)
    if state == ConsultationState.CONVENED:
        if participant:
            names.add("position")
        if agency:
            names.add("meeting")
    if state == ConsultationState.DECIDED and (agency or participant):
        names.add("follow_up")
    return names
