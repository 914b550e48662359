"""Provenance over the API: the agency verifies or rejects what an enterprise
declared (issue 15).

Mounted beside the enterprises router at /api/v1/enterprises:

- POST /{id}/qualifications/{qid}/verify  (note optional)
- POST /{id}/qualifications/{qid}/reject  (reason required)
- POST /{id}/figures/verify               (headcount, revenue, assets; note optional)

The enterprise comes from `visible_to` (404 otherwise); only government
whose subtree holds it, or a platform admin, may act (403 otherwise); a
fact already in the target state is 409. Every rule is in
`chanrong.registry.services.provenance`.
"""

from ninja import Router

from chanrong.core.apikit.caller import actor
from chanrong.core.apikit.errors import responses
from chanrong.core.apikit.schemas import InputSchema, ObjectId, Text

from . import services
from .api import EnterpriseOut
from .api_profile import QualificationOut
from .services import provenance

router = Router(tags=["enterprises 企业"])


class VerifyIn(InputSchema):
    note: Text(200) | None = None  # type: ignore[valid-type]


class QualificationRejectIn(InputSchema):
    reason: Text(200, min_length=1)  # type: ignore[valid-type]


def _qualification(request, id: int, qid: int):
    enterprise = services.get_visible_enterprise(actor(request), id)
    return services.get_visible_qualification(actor(request), enterprise, qid)


@router.post(
    "/{id}/qualifications/{qid}/verify",
    response=responses({200: QualificationOut}, 400, 403, 404, 409, 413, 422),
    summary="核验资质（企业所在地政府部门）",
)
def verify_qualification(request, id: ObjectId, qid: ObjectId, payload: VerifyIn):
    qualification = _qualification(request, id, qid)
    return provenance.verify_qualification(actor(request), qualification, note=payload.note or "")


@router.post(
    "/{id}/qualifications/{qid}/reject",
    response=responses({200: QualificationOut}, 400, 403, 404, 409, 413, 422),
    summary="核验资质不通过（须说明原因）",
)
def reject_qualification(request, id: ObjectId, qid: ObjectId, payload: QualificationRejectIn):
    qualification = _qualification(request, id, qid)
    return provenance.reject_qualification(actor(request), qualification, reason=payload.reason)


@router.post(
    "/{id}/figures/verify",
    response=responses({200: EnterpriseOut}, 400, 403, 404, 409, 413, 422),
    summary="核验企业自报的从业人员、营业收入、资产总额",
)
def verify_figures(request, id: ObjectId, payload: VerifyIn):
    enterprise = services.get_visible_enterprise(actor(request), id)
    return provenance.verify_figures(actor(request), enterprise, note=payload.note or "")
