"""留言咨询: anyone asks; the addressee answers; answers marked public are
listed publicly with the asker masked.

- `submit` takes a question from anyone: anonymous callers give a name and
  a phone number or e-mail address for the reply (signed-in users default
  to their own). The caller's address is rate-limited through
  core.ratelimit (`CHANRONG_CONSULTATION_RATE`, default "10/hour");
  lengths are checked and markup is refused (plain text only).
- Every later step goes through the CONSULTATION table (workflows.py):
  the addressee's staff answer (optionally publishing at once), publish,
  unpublish or close; government staff reassign a waiting question to
  another agency of their region's subtree. Each is audited and notified.
- `public_view` is what the public sees of a published answer: the name
  masked (张**), never the phone or e-mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.accounts.models import GovernmentAgency, Role, User
from chanrong.core import audit, notify
from chanrong.core.errors import FieldError, NotFound, ValidationFailed
from chanrong.core.masking import Kind, audit_value, mask
from chanrong.core.ratelimit import hit, parse_rate
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.core.workflow import Transition, apply_transition
from chanrong.finance.models import FinancialInstitution

from .. import permissions as p
from ..models import ANONYMISED_NAME, AddresseeKind, Consultation, ConsultationState
from ..workflows import CONSULTATION
from . import common as f

SUBMIT_FIELDS = {"subject", "question", "addressee", "name", "phone", "email"}
ANSWER_FIELDS = {"answer", "public"}
DEFAULT_RATE = "10/hour"
MAX_QUESTION = 2000
MAX_ANSWER = 5000


class Throttled(ValidationFailed):
    """Too many questions from one address (HTTP 429)."""

    def __init__(self, retry_after: int):
        super().__init__([], message=_("提交过于频繁，请稍后再试"))
        self.code, self.status, self.retry_after = "throttled", 429, retry_after


def _throttle(ip: str | None) -> None:
    rate = parse_rate(getattr(settings, "CHANRONG_CONSULTATION_RATE", DEFAULT_RATE))
    if rate is None:
        return
    decision = hit(f"content:consultation:{ip or 'unknown'}", rate)
    if not decision.allowed:
        raise Throttled(decision.retry_after)


def _addressee(value: Any, errors: list[FieldError]) -> dict[str, Any] | None:
    """'platform', 'agency:<id>' or 'institution:<id>' → the model fields."""
    text = "platform" if f.blank(value) else str(value).strip()
    kind, _sep, ident = text.partition(":")
    if kind == AddresseeKind.PLATFORM and not ident:
        return {"addressee_kind": AddresseeKind.PLATFORM}
    pk = f.small_id(ident)
    if kind in (AddresseeKind.AGENCY, AddresseeKind.INSTITUTION) and pk is not None:
        model = GovernmentAgency if kind == AddresseeKind.AGENCY else FinancialInstitution
        target = model.objects.filter(pk=pk).first()
        if target is not None:
            return {"addressee_kind": kind, kind: target}
        errors.append(FieldError("addressee", _("咨询对象不存在")))
        return None
    errors.append(FieldError("addressee", _("咨询对象应为平台、某政府部门或某金融机构")))
    return None


def addressee_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The form's grouped choices: the platform, agencies, institutions."""
    agencies = GovernmentAgency.objects.select_related("region").order_by("region_id", "name")
    institutions = FinancialInstitution.objects.order_by("name")
    return [
        (str(AddresseeKind.PLATFORM.label), [("platform", _("产融通平台运营方"))]),
        (
            str(AddresseeKind.AGENCY.label),
            [(f"agency:{a.pk}", a.name) for a in agencies],
        ),
        (
            str(AddresseeKind.INSTITUTION.label),
            [(f"institution:{i.pk}", i.name) for i in institutions],
        ),
    ]


def staff_of(consultation: Consultation) -> QuerySet:
    """The addressee's people: who sees the question in their queue."""
    users = User.objects.filter(is_active=True)
    if consultation.addressee_kind == AddresseeKind.AGENCY:
        return users.filter(agency_id=consultation.agency_id)
    if consultation.addressee_kind == AddresseeKind.INSTITUTION:
        return users.filter(institution_id=consultation.institution_id)
    return users.filter(role=Role.PLATFORM_ADMIN)


def submit(actor, data: dict[str, Any], *, ip: str | None = None) -> Consultation:
    """A new question (state 待答复), from anyone. Raises ValidationFailed by
    field (422) or Throttled (429); writes nothing then."""
    errors = f.unknown_fields(data, SUBMIT_FIELDS)
    signed_in = scope_of(actor).kind != ScopeKind.NONE
    defaults: dict[str, str] = {}
    if signed_in:
        defaults = {
            "name": actor.display_name or actor.get_full_name() or "",
            "phone": actor.phone or "",
            "email": actor.email or "",
        }
    merged = {k: (defaults.get(k, "") if f.blank(v) else v) for k, v in data.items()}
    for key, value in defaults.items():
        merged.setdefault(key, value)
    values = {
        "subject": f.text(merged, "subject", errors, 100, required=True, minimum=2, no_html=True),
        "question": f.text(
            merged,
            "question",
            errors,
            MAX_QUESTION,
            required=True,
            minimum=10,
            multiline=True,
            no_html=True,
        ),
        "asker_name": f.text(merged, "name", errors, 50, required=True, no_html=True),
        "asker_phone": f.phone(merged, "phone", errors),
        "asker_email": f.email(merged, "email", errors),
    }
    if (
        not values["asker_phone"]
        and not values["asker_email"]
        and not any(e.field in ("phone", "email") for e in errors)
    ):
        errors.append(FieldError("phone", _("请留下电话或电子邮箱，以便答复")))
    target = _addressee(merged.get("addressee"), errors)
    if errors or target is None:
        raise ValidationFailed(errors)
    _throttle(ip)
    with transaction.atomic():
        consultation = Consultation.objects.create(
            asker_user=actor if signed_in else None, **values, **target
        )
        audit.record(
            "content.consultation.submit",
            actor=actor if signed_in else None,
            obj=consultation,
            ip=ip,
            changes={
                "addressee": [None, consultation.addressee_label()],
                "asker_name": [None, audit_value(values["asker_name"], Kind.NAME)],
                "asker_phone": [None, audit_value(values["asker_phone"], Kind.PHONE)],
                "asker_email": [None, audit_value(values["asker_email"], Kind.EMAIL)],
            },
        )
        notify.send(
            staff_of(consultation),
            "content.consultation",
            _("新的留言咨询：%(subject)s") % {"subject": consultation.subject},
            consultation.get_absolute_url(),
            actor=actor if signed_in else None,
        )
    return consultation


def get_visible(actor, pk: int) -> Consultation:
    found = (
        Consultation.objects.visible_to(actor)
        .select_related("agency", "agency__region", "institution", "answered_by")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise NotFound(_("未找到该留言"))
    return found


def get_in_queue(actor, pk: int) -> Consultation:
    """A question in the actor's queue; anything else is a 404."""
    found = (
        Consultation.objects.queue_of(actor)
        .select_related("agency", "agency__region", "institution")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise NotFound(_("未找到该留言"))
    return found


def _notify(consultation: Consultation, transition: Transition, actor) -> None:
    recipients = list(staff_of(consultation))
    if consultation.asker_user_id:
        recipients.append(consultation.asker_user)
    notify.send(
        recipients,
        "content.consultation",
        _("留言咨询「%(subject)s」：%(action)s")
        % {"subject": consultation.subject, "action": transition.label},
        consultation.get_absolute_url(),
        actor=actor,
    )


def answer(actor, consultation: Consultation, data: dict[str, Any]) -> Consultation:
    """The addressee answers; with `public` the answer is published at once."""
    errors = f.unknown_fields(data, ANSWER_FIELDS)
    text = f.text(data, "answer", errors, MAX_ANSWER, required=True, minimum=2, multiline=True)
    if errors:
        raise ValidationFailed(errors)
    now = timezone.now()
    with transaction.atomic():
        apply_transition(
            CONSULTATION,
            consultation,
            "answer",
            actor,
            changes={"answer": text, "answered_by_id": actor.pk, "answered_at": now},
            notify=_notify,
        )
        if f.flag(data, "public"):
            publish(actor, consultation, now=now)
    return consultation


def publish(actor, consultation: Consultation, *, now: datetime | None = None) -> Consultation:
    return apply_transition(
        CONSULTATION,
        consultation,
        "publish",
        actor,
        changes={"published_at": now or timezone.now()},
    )


def unpublish(actor, consultation: Consultation) -> Consultation:
    return apply_transition(
        CONSULTATION, consultation, "unpublish", actor, changes={"published_at": None}
    )


def close(actor, consultation: Consultation) -> Consultation:
    return apply_transition(CONSULTATION, consultation, "close", actor, notify=_notify)


def reassign(actor, consultation: Consultation, agency_id: Any) -> Consultation:
    """Send a waiting question to another agency of the actor's region."""
    scope = scope_of(actor)
    agencies = GovernmentAgency.objects.select_related("region")
    if scope.kind == ScopeKind.GOVERNMENT and scope.region_prefix:
        agencies = agencies.filter(region__code__startswith=scope.region_prefix)
    target = agencies.filter(pk=int(agency_id)).first() if str(agency_id or "").isdigit() else None
    if target is None:
        raise ValidationFailed({"agency": _("请选择本辖区内的政府部门")})
    if target.pk == consultation.agency_id:
        raise ValidationFailed({"agency": _("已是该部门的留言")})
    return apply_transition(
        CONSULTATION,
        consultation,
        "reassign",
        actor,
        changes={
            "addressee_kind": AddresseeKind.AGENCY,
            "agency_id": target.pk,
            "institution_id": None,
        },
        notify=lambda c, t, a: notify.send(
            staff_of(c),
            "content.consultation",
            _("转办的留言咨询：%(subject)s") % {"subject": c.subject},
            c.get_absolute_url(),
            actor=a,
        ),
    )


def reassign_choices(actor) -> QuerySet:
    scope = scope_of(actor)
    agencies = GovernmentAgency.objects.order_by("region_id", "name")
    if scope.kind == ScopeKind.GOVERNMENT and scope.region_prefix:
        return agencies.filter(region__code__startswith=scope.region_prefix)
    return agencies if scope.kind in (ScopeKind.PLATFORM, ScopeKind.GOVERNMENT) else agencies.none()


@dataclass(frozen=True)
class PublicAnswer:
    """What the public sees of a published consultation."""

    id: int
    subject: str
    question: str
    answer: str
    asker: str
    addressee: str
    submitted_at: datetime
    answered_at: datetime | None

    def question_paragraphs(self) -> list[str]:
        return [x for x in self.question.split("\n\n") if x.strip()]

    def answer_paragraphs(self) -> list[str]:
        return [x for x in self.answer.split("\n\n") if x.strip()]


def public_view(consultation: Consultation) -> PublicAnswer:
    return PublicAnswer(
        id=consultation.pk,
        subject=consultation.subject,
        question=consultation.question,
        answer=consultation.answer,
        asker=(
            _("匿名")
            if consultation.asker_name in ("", ANONYMISED_NAME)
            else mask(consultation.asker_name, Kind.NAME)
        ),
        addressee=consultation.addressee_label(),
        submitted_at=consultation.submitted_at,
        answered_at=consultation.answered_at,
    )


def public_answers(*, query: str = "") -> QuerySet[Consultation]:
    rows = Consultation.objects.published().select_related("agency", "institution")
    for word in f.search_words(query):
        rows = rows.filter(Q(subject__icontains=word) | Q(question__icontains=word))
    return rows.order_by("-published_at", "-pk")


def waiting_count(actor) -> int:
    """Questions waiting for an answer in the actor's queue."""
    if not p.may_answer_queue(actor):
        return 0
    return Consultation.objects.queue_of(actor).filter(state=ConsultationState.SUBMITTED).count()
