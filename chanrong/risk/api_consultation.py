"""抽贷断贷会商 over the API (mounted at /api/v1/risk beside the loan book):
list and request consultations, read one, and move it along — withdraw,
accept, decline, convene, position, meeting, decision, follow-ups, close.

A consultation the caller may not see is a 404 (so is a request about
another bank's loan); one it sees but may not act on is a 403; a step the
state does not allow is a 409; bad input is a 422 by field, nothing written.

(No `from __future__ import annotations`: django-ninja must see the real
parameter types of the paginated operations.)
"""

from datetime import date, datetime

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from chanrong.core.apikit.caller import actor
from chanrong.core.apikit.errors import responses
from chanrong.core.apikit.pagination import paginated
from chanrong.core.apikit.schemas import BodyId, Day, InputSchema, ObjectId, Text
from chanrong.core.errors import NotFound

from .models import Consultation, ConsultationKind, ConsultationState, DecisionKind
from .services import consultation as svc

router = Router(tags=["risk 风险监测"])


# --- shapes -------------------------------------------------------------------------------------


class RiskConsultationIn(InputSchema):
    loan_ids: list[BodyId] = Field(min_length=1, max_length=50, description="涉及的贷款编号")
    kind: ConsultationKind
    reason: Text(2000, min_length=1, kind="text")


class RiskConsultationFilter(Schema):
    state: ConsultationState | None = None
    open: bool | None = Field(None, description="只看办理中的会商")


class RiskDeclineIn(InputSchema):
    declined_reason: Text(1000, min_length=1, kind="text")


class RiskConveneIn(InputSchema):
    meeting_on: Day
    meeting_place: Text(200, kind="text") = ""
    meeting_online: bool = False
    institution_ids: list[BodyId] | None = Field(
        None, max_length=100, description="召集的机构（默认：对该企业有存续贷款的全部机构）"
    )


class RiskPositionIn(InputSchema):
    position: Text(2000, min_length=1, kind="text")


class RiskMeetingIn(InputSchema):
    meeting_on: Day
    minutes: Text(5000, min_length=1, kind="text")


class RiskCommitmentIn(InputSchema):
    institution_id: BodyId
    commitment: Text(1000, kind="text")


class RiskDecisionIn(InputSchema):
    decision: DecisionKind
    decision_text: Text(3000, kind="text")
    decided_on: Day | None = None
    commitments: list[RiskCommitmentIn] = Field(default_factory=list, max_length=100)


class RiskFollowUpIn(InputSchema):
    on: Day
    note: Text(1000, min_length=1, kind="text")
    kept: bool | None = Field(None, description="金融机构报告是否履行了承诺（机构必填）")


class RiskCloseIn(InputSchema):
    closed_on: Day | None = None
    closing_note: Text(1000, min_length=1, kind="text")


class RiskParticipantOut(Schema):
    institution_id: int
    institution_name: str = Field(alias="institution.name")
    position: str
    position_at: datetime | None
    commitment: str
    commitment_kept: bool | None


class RiskFollowUpOut(Schema):
    id: int
    on: date
    note: str
    institution_id: int | None
    kept: bool | None


class RiskConsultationOut(Schema):
    id: int
    reference: str
    enterprise_id: int
    enterprise_name: str = Field(alias="enterprise.name")
    loan_ids: list[int]
    kind: ConsultationKind
    reason: str
    state: ConsultationState
    requesting_institution_id: int | None
    requested_on: date
    agency_id: int | None
    accepted_on: date | None
    declined_reason: str
    meeting_on: date | None
    meeting_place: str
    meeting_online: bool
    minutes: str
    decision: DecisionKind | None
    decision_text: str
    decided_on: date | None
    closed_on: date | None
    closing_note: str
    participants: list[RiskParticipantOut]
    follow_ups: list[RiskFollowUpOut]

    @staticmethod
    def resolve_loan_ids(obj) -> list[int]:
        return sorted(loan.pk for loan in obj.loans.all())

    @staticmethod
    def resolve_decision(obj) -> str | None:
        return obj.decision or None

    @staticmethod
    def resolve_participants(obj) -> list:
        return list(obj.participants.all())

    @staticmethod
    def resolve_follow_ups(obj) -> list:
        return list(obj.follow_ups.all())


# --- operations ---------------------------------------------------------------------------------


def _consultations(request):
    return (
        Consultation.objects.visible_to(actor(request))
        .select_related("enterprise")
        .prefetch_related("loans", "participants__institution", "follow_ups")
    )


def _get(request, id: int) -> Consultation:
    c = _consultations(request).filter(pk=id).first()
    if c is None:
        raise NotFound(_("未找到该会商"))
    return c


@router.get(
    "/consultations",
    response=responses({200: list[RiskConsultationOut]}, 422),
    summary="抽贷断贷会商列表",
)
@paginated
def list_consultations(request, filters: Query[RiskConsultationFilter]):
    queryset = _consultations(request)
    if filters.state:
        queryset = queryset.filter(state=filters.state)
    if filters.open is not None:
        opened = queryset.open()
        queryset = opened if filters.open else queryset.exclude(pk__in=opened)
    return queryset.order_by("-requested_on", "-pk")


@router.post(
    "/consultations",
    response=responses({201: RiskConsultationOut}, 403, 404, 422),
    summary="申请抽贷断贷会商（企业就本企业贷款，金融机构就本机构贷款）",
)
def request_consultation(request, payload: RiskConsultationIn):
    c = svc.request(
        actor(request), loan_ids=payload.loan_ids, kind=payload.kind, reason=payload.reason
    )
    return Status(201, _get(request, c.pk))


@router.get(
    "/consultations/{id}",
    response=responses({200: RiskConsultationOut}, 404, 422),
    summary="会商详情",
)
def get_consultation(request, id: ObjectId):
    return _get(request, id)


@router.post(
    "/consultations/{id}/withdraw",
    response=responses({200: RiskConsultationOut}, 403, 404, 409, 422),
    summary="撤回会商申请（申请方，受理前）",
)
def withdraw(request, id: ObjectId):
    svc.withdraw(actor(request), _get(request, id))
    return _get(request, id)


@router.post(
    "/consultations/{id}/accept",
    response=responses({200: RiskConsultationOut}, 403, 404, 409, 422),
    summary="受理会商申请（属地主管部门）",
)
def accept(request, id: ObjectId):
    svc.accept(actor(request), _get(request, id))
    return _get(request, id)


@router.post(
    "/consultations/{id}/decline",
    response=responses({200: RiskConsultationOut}, 403, 404, 409, 422),
    summary="不予受理，须说明理由",
)
def decline(request, id: ObjectId, payload: RiskDeclineIn):
    svc.decline(actor(request), _get(request, id), payload.declined_reason)
    return _get(request, id)


@router.post(
    "/consultations/{id}/convene",
    response=responses({200: RiskConsultationOut}, 403, 404, 409, 422),
    summary="召集有授信的金融机构会商（日期不早于受理日期）",
)
def convene(request, id: ObjectId, payload: RiskConveneIn):
    svc.convene(
        actor(request),
        _get(request, id),
        meeting_on=payload.meeting_on,
        meeting_place=payload.meeting_place,
        meeting_online=payload.meeting_online,
        institution_ids=payload.institution_ids,
    )
    return _get(request, id)


@router.post(
    "/consultations/{id}/position",
    response=responses({200: RiskConsultationOut}, 403, 404, 409, 422),
    summary="提交本机构意见（被召集的金融机构）",
)
def position(request, id: ObjectId, payload: RiskPositionIn):
    svc.record_position(actor(request), _get(request, id), payload.position)
    return _get(request, id)


@router.post(
    "/consultations/{id}/meeting",
    response=responses({200: RiskConsultationOut}, 403, 404, 409, 422),
    summary="记录会议纪要",
)
def meeting(request, id: ObjectId, payload: RiskMeetingIn):
    svc.record_meeting(
        actor(request), _get(request, id), meeting_on=payload.meeting_on, minutes=payload.minutes
    )
    return _get(request, id)


@router.post(
    "/consultations/{id}/decision",
    response=responses({200: RiskConsultationOut}, 403, 404, 409, 422),
    summary="形成会商意见及各机构承诺",
)
def decision(request, id: ObjectId, payload: RiskDecisionIn):
    svc.decide(
        actor(request),
        _get(request, id),
        decision=payload.decision,
        text=payload.decision_text,
        decided_on=payload.decided_on,
        commitments={row.institution_id: row.commitment for row in payload.commitments},
    )
    return _get(request, id)


@router.post(
    "/consultations/{id}/follow-ups",
    response=responses({201: RiskFollowUpOut}, 403, 404, 409, 422),
    summary="登记跟踪情况（牵头部门），或报告承诺履行情况（金融机构）",
)
def follow_up(request, id: ObjectId, payload: RiskFollowUpIn):
    row = svc.follow_up(
        actor(request), _get(request, id), on=payload.on, note=payload.note, kept=payload.kept
    )
    return Status(201, row)


@router.post(
    "/consultations/{id}/close",
    response=responses({200: RiskConsultationOut}, 403, 404, 409, 422),
    summary="会商办结",
)
def close(request, id: ObjectId, payload: RiskCloseIn):
    svc.close(
        actor(request), _get(request, id), closed_on=payload.closed_on, note=payload.closing_note
    )
    return _get(request, id)
