"""The loan book over the API (mounted at /api/v1/risk): a bank's own system
reports its loans one by one or in bulk, their schedules, repayments, overdue
days and five-category classification, renewals, recalls and write-offs;
borrowers, banks and agencies read what `LoanAccount.visible_to` lets them.

Another bank's loan is a 404; a loan the caller sees but did not make (an
agency, the borrower) is a 403 on every write. Bad reports are 422 by field
(`rows.3.principal` in bulk), and nothing is written.

(No `from __future__ import annotations`: django-ninja must see the real
parameter types of the paginated operations.)
"""

from typing import Any

from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from chanrong.core.apikit.caller import actor
from chanrong.core.apikit.errors import responses
from chanrong.core.apikit.pagination import paginated
from chanrong.core.apikit.schemas import ObjectId
from chanrong.core.errors import NotFound

from .api_schemas import (
    RiskCollateralIn,
    RiskEventOut,
    RiskGreenIn,
    RiskLoanBulkIn,
    RiskLoanBulkOut,
    RiskLoanFilter,
    RiskLoanIn,
    RiskLoanOut,
    RiskPledgeIn,
    RiskRecallIn,
    RiskRenewIn,
    RiskRepaymentIn,
    RiskRepaymentOut,
    RiskScheduleIn,
    RiskScheduleItemOut,
    RiskStatusIn,
    RiskWriteOffIn,
)
from .api_scorecard import router as scorecard_router
from .models import LoanAccount
from .services import collateral, loanbook, pledges, repayments

router = Router(tags=["risk 风险监测"])
#: Scorecard versions, their approval and enterprises' scores (api_scorecard.py).
router.add_router("", scorecard_router)


def _loans(request):
    return (
        LoanAccount.objects.visible_to(actor(request))
        .select_related("enterprise", "institution")
        .prefetch_related("green_pledges")
    )


def _loan(request, loan_id: int) -> LoanAccount:
    loan = _loans(request).filter(pk=loan_id).first()
    if loan is None:
        raise NotFound(_("未找到该笔贷款"))
    return loan


def _dump(payload) -> dict[str, Any]:
    return payload.model_dump(exclude_none=True)


@router.get("/loans", response=responses({200: list[RiskLoanOut]}, 422), summary="贷款台账")
@paginated
def list_loans(request, filters: Query[RiskLoanFilter]):
    queryset = _loans(request)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.classification:
        queryset = queryset.filter(classification=filters.classification)
    if filters.non_performing is not None:
        non_performing = queryset.non_performing()
        queryset = (
            non_performing if filters.non_performing else queryset.exclude(pk__in=non_performing)
        )
    if filters.uscc:
        queryset = queryset.filter(enterprise__uscc=filters.uscc)
    if filters.source:
        queryset = queryset.filter(source=filters.source)
    return queryset.order_by("-disbursed_on", "-pk")


@router.post(
    "/loans",
    response=responses({201: RiskLoanOut}, 403, 409, 422),
    summary="报送一笔平台外贷款（贷款机构）",
)
def report_loan(request, payload: RiskLoanIn):
    loan = loanbook.report_loan(actor(request), _dump(payload))
    return Status(201, _loan(request, loan.pk))


@router.post(
    "/loans/bulk",
    response=responses({201: RiskLoanBulkOut}, 403, 409, 422),
    summary="批量报送平台外贷款（全部有效才写入，错误按行列出）",
)
def report_loans(request, payload: RiskLoanBulkIn):
    rows = [row.model_dump(exclude_none=True) for row in payload.rows]
    loans = loanbook.report_loans(actor(request), rows)
    return Status(201, {"created": len(loans), "ids": [loan.pk for loan in loans]})


@router.get("/loans/{id}", response=responses({200: RiskLoanOut}, 404, 422), summary="贷款详情")
def get_loan(request, id: ObjectId):
    return _loan(request, id)


@router.get(
    "/loans/{id}/schedule",
    response=responses({200: list[RiskScheduleItemOut]}, 404, 422),
    summary="还款计划",
)
def get_schedule(request, id: ObjectId):
    return list(_loan(request, id).schedule.all())


@router.put(
    "/loans/{id}/schedule",
    response=responses({200: list[RiskScheduleItemOut]}, 403, 404, 409, 422),
    summary="报送还款计划（整体替换；各期本金合计应等于贷款金额）",
)
def put_schedule(request, id: ObjectId, payload: RiskScheduleIn):
    loan = loanbook.loan_for_report(actor(request), id)
    items = [item.model_dump() for item in payload.items]
    return repayments.set_schedule(actor(request), loan, items)


@router.get(
    "/loans/{id}/repayments",
    response=responses({200: list[RiskRepaymentOut]}, 404, 422),
    summary="还款记录",
)
@paginated
def list_repayments(request, id: ObjectId):
    return _loan(request, id).repayments.order_by("paid_on", "pk")


@router.post(
    "/loans/{id}/repayments",
    response=responses({201: RiskRepaymentOut}, 403, 404, 409, 422),
    summary="报送一笔还款（本金不超过贷款余额；还清即结清）",
)
def post_repayment(request, id: ObjectId, payload: RiskRepaymentIn):
    loan = loanbook.loan_for_report(actor(request), id)
    return Status(201, repayments.record_repayment(actor(request), loan, _dump(payload)))


@router.post(
    "/loans/{id}/status",
    response=responses({200: RiskLoanOut}, 403, 404, 409, 422),
    summary="报送逾期天数、逾期金额与五级分类（报送日期只能向后）",
)
def post_status(request, id: ObjectId, payload: RiskStatusIn):
    loan = loanbook.loan_for_report(actor(request), id)
    loanbook.report_status(actor(request), loan, _dump(payload))
    return _loan(request, id)


@router.get(
    "/loans/{id}/events",
    response=responses({200: list[RiskEventOut]}, 404, 422),
    summary="贷款报送历史",
)
@paginated
def list_events(request, id: ObjectId):
    return _loan(request, id).events.order_by("on", "pk")


@router.post(
    "/loans/{id}/recall",
    response=responses({200: RiskLoanOut}, 403, 404, 409, 422),
    summary="提前收回（抽贷），须说明原因",
)
def post_recall(request, id: ObjectId, payload: RiskRecallIn):
    loan = loanbook.loan_for_report(actor(request), id)
    loanbook.recall(actor(request), loan, _dump(payload))
    return _loan(request, id)


@router.post(
    "/loans/{id}/renew",
    response=responses({201: RiskLoanOut}, 403, 404, 409, 422),
    summary="无还本续贷：余额转为一笔新贷款",
)
def post_renew(request, id: ObjectId, payload: RiskRenewIn):
    loan = loanbook.loan_for_report(actor(request), id)
    new = loanbook.renew(actor(request), loan, _dump(payload))
    return Status(201, _loan(request, new.pk))


@router.post(
    "/loans/{id}/write-off",
    response=responses({200: RiskLoanOut}, 403, 404, 409, 422),
    summary="核销（贷款机构管理员）",
)
def post_write_off(request, id: ObjectId, payload: RiskWriteOffIn):
    loan = loanbook.loan_for_report(actor(request), id)
    loanbook.write_off(actor(request), loan, _dump(payload))
    return _loan(request, id)


@router.post(
    "/loans/{id}/collateral",
    response=responses({200: RiskLoanOut}, 403, 404, 422),
    summary="报送担保方式（信用、保证、抵押、质押；贷款机构）",
)
def post_collateral(request, id: ObjectId, payload: RiskCollateralIn):
    loan = loanbook.loan_for_report(actor(request), id)
    collateral.report_collateral(actor(request), loan, _dump(payload))
    return _loan(request, id)


@router.post(
    "/loans/{id}/pledges",
    response=responses({201: RiskLoanOut}, 403, 404, 409, 422),
    summary="登记绿色权益质押（碳排放权、用能权、排污权；贷款机构）",
)
def post_pledge(request, id: ObjectId, payload: RiskPledgeIn):
    loan = loanbook.loan_for_report(actor(request), id)
    pledges.add_pledge(actor(request), loan, _dump(payload))
    return Status(201, _loan(request, id))


@router.post(
    "/loans/{id}/green",
    response=responses({200: RiskLoanOut}, 403, 404, 422),
    summary="报送绿色贷款类别（绿色产业指导目录；空为非绿色；贷款机构）",
)
def post_green(request, id: ObjectId, payload: RiskGreenIn):
    loan = loanbook.loan_for_report(actor(request), id)
    pledges.report_green(actor(request), loan, payload.model_dump())
    return _loan(request, id)
