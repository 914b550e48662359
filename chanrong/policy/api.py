"""财政金融政策 over the API (mounted at /api/v1/policy): programmes and their
budget, loans, applications from the calculator to the payment, and the
public 公示.

Reads start from each model's `visible_to(caller)` (the public 公示 from
`Application.objects.in_notice()`); anything not visible is a 404. Writes
are service calls (`chanrong.policy.services`) whose errors — 422 by field,
403 not this actor, 409 not in this state / over budget / a duplicate —
become the API's error shape. A bank's own system confirms a loan's facts
with its bearer token (POST …/bank-confirm) after the webhook event
`policy.confirmation_requested` told it to.

Public operations (published programmes, the 公示, objections) also answer
without any credentials; a credential that is offered must still be valid.

(No `from __future__ import annotations`: django-ninja must see the real
parameter types of the paginated operations.)
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.throttling import SimpleRateThrottle

from chanrong.accounts.api_auth import bearer_token, session
from chanrong.core.apikit.caller import actor
from chanrong.core.apikit.errors import responses
from chanrong.core.apikit.pagination import paginated
from chanrong.core.apikit.schemas import ObjectId
from chanrong.core.errors import NotAllowed, NotFound, ValidationFailed
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.demands.models import Demand
from chanrong.finance import eligibility as el
from chanrong.registry.models import Enterprise

from . import permissions as perms
from . import rules, services
from .api_schemas import (
    PolicyApplicationDetailOut,
    PolicyApplicationFilter,
    PolicyApplicationIn,
    PolicyApplicationOut,
    PolicyAppropriationIn,
    PolicyBankConfirmIn,
    PolicyBudgetYearOut,
    PolicyEligibilityOut,
    PolicyEligibilityQuery,
    PolicyHandleObjectionIn,
    PolicyLedgerEntryOut,
    PolicyLedgerFilter,
    PolicyLoanFilter,
    PolicyLoanIn,
    PolicyLoanOut,
    PolicyNoticeFilter,
    PolicyNoticeOut,
    PolicyObjectionIn,
    PolicyObjectionOut,
    PolicyObjectionReceivedOut,
    PolicyPayIn,
    PolicyPreviewOut,
    PolicyProgrammeDetailOut,
    PolicyProgrammeFilter,
    PolicyProgrammeIn,
    PolicyProgrammeOut,
    PolicyProgrammePatch,
    PolicyReasonIn,
    Year,
)
from .models import Application, BudgetYear, LedgerEntry, Loan, Objection, Programme
from .services.claim_preview import preview as preview_claim
from .services.objection_personal import objector_view

router = Router(tags=["policy 财政金融政策"])


# --------------------------------------------------------------------------
# public operations


def anonymous(request) -> AnonymousUser:
    """The last resort of a public operation: no credentials, nobody."""
    return AnonymousUser()


PUBLIC_AUTH = [bearer_token, session, anonymous]
#: In OpenAPI: a token, a session, or nothing at all (ninja lists the first
#: two itself; this appends the empty requirement).
PUBLIC = {"security": [{}]}


class AnonymousObjections(SimpleRateThrottle):
    """Objections without an account, per client address: a person objects a
    few times, a script a thousand."""

    scope = "policy_objections"
    RATE = "20/h"

    def __init__(self) -> None:
        super().__init__(self.RATE)

    def get_cache_key(self, request) -> str | None:
        if getattr(getattr(request, "auth", None), "is_authenticated", False):
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


# --------------------------------------------------------------------------
# helpers


def _programme(request, programme_id: int) -> Programme:
    programme = (
        Programme.objects.visible_to(actor(request))
        .select_related("agency", "region")
        .filter(pk=programme_id)
        .first()
    )
    if programme is None:
        raise NotFound(_("未找到该政策"))
    return programme


def _loan(request, loan_id: int) -> Loan:
    loan = (
        Loan.objects.visible_to(actor(request))
        .select_related("enterprise", "institution", "project")
        .filter(pk=loan_id)
        .first()
    )
    if loan is None:
        raise NotFound(_("未找到该贷款"))
    return loan


def _applications(request):
    return Application.objects.visible_to(actor(request)).select_related(
        "programme", "programme__region", "enterprise", "institution", "loan"
    )


def _application(request, application_id: int) -> Application:
    application = _applications(request).filter(pk=application_id).first()
    if application is None:
        raise NotFound(_("未找到该申请"))
    return application


@contextmanager
def _fields_as_sent() -> Iterator[None]:
    """The services name the loan "loan"; the client sent "loan_id"."""
    try:
        yield
    except ValidationFailed as exc:
        for error in exc.errors:
            if error.field == "loan":
                error.field = "loan_id"
        raise


def _eligibility_out(result: el.EligibilityResult) -> dict[str, Any]:
    return {
        "eligible": result.eligible,
        "status": result.status,
        "failed": [{"condition": f.condition, "message": f.message} for f in result.failed],
        "missing": [{"condition": f.condition, "message": f.message} for f in result.missing],
    }


def _programme_detail(programme: Programme) -> Programme:
    """The programme with what PolicyProgrammeDetailOut adds: its conditions in
    plain Chinese and its budget years."""
    programme.conditions = [str(c) for c in rules.describe(services.check(programme).conditions)]
    programme.budget = list(programme.budget_years.order_by("year"))
    return programme


# --------------------------------------------------------------------------
# programmes


@router.get(
    "/programmes",
    response=responses({200: list[PolicyProgrammeOut]}, 422),
    auth=PUBLIC_AUTH,
    openapi_extra=PUBLIC,
    summary="政策列表（已发布的无需登录；草稿仅主管部门可见）",
)
@paginated
def list_programmes(request, filters: Query[PolicyProgrammeFilter]):
    queryset = Programme.objects.visible_to(actor(request)).select_related("agency", "region")
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind)
    if filters.state:
        queryset = queryset.filter(state=filters.state)
    if filters.in_force is True:
        queryset = queryset.in_force(timezone.localdate())
    elif filters.in_force is False:
        queryset = queryset.exclude(pk__in=Programme.objects.in_force(timezone.localdate()))
    return queryset.order_by("-starts_on", "name", "pk")


@router.get(
    "/programmes/{id}",
    response=responses({200: PolicyProgrammeDetailOut}, 404, 422),
    auth=PUBLIC_AUTH,
    openapi_extra=PUBLIC,
    summary="政策详情：参数、申报条件（中文说明）、各年度预算余额",
)
def get_programme(request, id: ObjectId):
    return _programme_detail(_programme(request, id))


@router.post(
    "/programmes",
    response=responses({201: PolicyProgrammeDetailOut}, 422),
    summary="创建政策（财政或经信部门管理员；草稿）",
)
def create_programme(request, payload: PolicyProgrammeIn):
    programme = services.create_programme(actor(request), payload.model_dump(mode="json"))
    return Status(201, _programme_detail(_programme(request, programme.pk)))


@router.patch(
    "/programmes/{id}",
    response=responses({200: PolicyProgrammeDetailOut}, 404, 409, 422),
    summary="修改政策（仅草稿）",
)
def update_programme(request, id: ObjectId, payload: PolicyProgrammePatch):
    programme = _programme(request, id)
    services.update_programme(
        actor(request), programme, payload.model_dump(mode="json", exclude_unset=True)
    )
    return _programme_detail(_programme(request, id))


@router.post(
    "/programmes/{id}/publish",
    response=responses({200: PolicyProgrammeDetailOut}, 404, 409),
    summary="发布政策（须先安排年度预算或为资金池注资）",
)
def publish_programme(request, id: ObjectId):
    services.publish_programme(actor(request), _programme(request, id))
    return _programme_detail(_programme(request, id))


@router.post(
    "/programmes/{id}/close",
    response=responses({200: PolicyProgrammeDetailOut}, 404, 409),
    summary="结束政策",
)
def close_programme(request, id: ObjectId):
    services.close_programme(actor(request), _programme(request, id))
    return _programme_detail(_programme(request, id))


@router.put(
    "/programmes/{id}/budget/{year}",
    response=responses({200: PolicyBudgetYearOut}, 404, 409, 422),
    summary="安排（或调整）年度预算",
)
def set_budget(request, id: ObjectId, year: Year, payload: PolicyAppropriationIn):
    user = actor(request)
    programme = _programme(request, id)
    if not perms.can_manage_programme(user, programme):
        raise NotAllowed(_("只有该政策的主管部门可以安排预算"))
    budget = services.set_appropriation(user, programme, year, payload.appropriation)
    return BudgetYear.objects.get(pk=budget.pk)  # as stored, to the fen


@router.get(
    "/programmes/{id}/ledger",
    response=responses({200: list[PolicyLedgerEntryOut]}, 404, 422),
    summary="预算台账：预算安排、承诺、释放、拨付（主管部门）",
)
@paginated
def programme_ledger(request, id: ObjectId, filters: Query[PolicyLedgerFilter]):
    user = actor(request)
    programme = _programme(request, id)
    if not Programme.objects.managed_by(user).filter(pk=programme.pk).exists():
        raise NotAllowed(_("只有该政策的主管部门可以查看预算台账"))
    entries = LedgerEntry.objects.filter(budget__programme=programme).select_related("budget")
    if filters.year:
        entries = entries.filter(budget__year=filters.year)
    return entries.order_by("created_at", "pk")


@router.get(
    "/programmes/{id}/eligibility",
    response=responses({200: PolicyEligibilityOut}, 404, 422),
    summary="本企业是否符合该政策的条件（不符合时逐条说明）",
)
def programme_eligibility(request, id: ObjectId, query: Query[PolicyEligibilityQuery]):
    user = actor(request)
    programme = _programme(request, id)
    scope = scope_of(user)
    if scope.kind != ScopeKind.ENTERPRISE:
        raise NotAllowed(_("只有企业用户可以查看本企业的符合情况"))
    loan = _loan(request, query.loan) if query.loan else None
    enterprise = Enterprise.objects.select_related("region", "industry").get(pk=scope.enterprise_id)
    return _eligibility_out(services.evaluate(programme, enterprise, loan))


# --------------------------------------------------------------------------
# loans


@router.get("/loans", response=responses({200: list[PolicyLoanOut]}, 422), summary="贷款列表")
@paginated
def list_loans(request, filters: Query[PolicyLoanFilter]):
    queryset = Loan.objects.visible_to(actor(request)).select_related("enterprise", "institution")
    if filters.source:
        queryset = queryset.filter(source=filters.source)
    if filters.confirmed is not None:
        queryset = queryset.filter(confirmed_at__isnull=not filters.confirmed)
    return queryset.order_by("-loan_date", "-pk")


@router.post(
    "/loans",
    response=responses({201: PolicyLoanOut}, 409, 422),
    summary="登记平台外贷款（借款企业登记待银行确认；贷款银行登记即确认）",
)
def register_loan(request, payload: PolicyLoanIn):
    loan = services.register_loan(actor(request), payload.model_dump(mode="json"))
    return Status(201, _loan(request, loan.pk))


@router.get("/loans/{id}", response=responses({200: PolicyLoanOut}, 404, 422), summary="贷款详情")
def get_loan(request, id: ObjectId):
    return _loan(request, id)


@router.post(
    "/loans/{id}/confirm",
    response=responses({200: PolicyLoanOut}, 404),
    summary="贷款银行确认平台外贷款的信息",
)
def confirm_loan(request, id: ObjectId):
    services.confirm_loan(actor(request), _loan(request, id))
    return _loan(request, id)


@router.post(
    "/loans/from-demand/{demand_id}",
    response=responses({200: PolicyLoanOut, 201: PolicyLoanOut}, 404, 409, 422),
    summary="平台放款：由已放款的融资需求生成贷款（已生成则返回原贷款）",
)
def loan_from_demand(request, demand_id: ObjectId):
    user = actor(request)
    demand = Demand.objects.visible_to(user).filter(pk=demand_id).first()
    if demand is None:
        raise NotFound(_("未找到该融资需求"))
    scope = scope_of(user)
    if not (
        scope.kind == ScopeKind.PLATFORM
        or (scope.kind == ScopeKind.ENTERPRISE and scope.enterprise_id == demand.enterprise_id)
        or (
            scope.kind == ScopeKind.INSTITUTION
            and scope.institution_id == demand.outcome_institution_id
        )
    ):
        raise NotAllowed(_("只有借款企业或放款银行可以登记平台贷款"))
    existed = Loan.objects.filter(demand=demand).exists()
    loan = services.loan_from_demand(demand, user)
    return Status(200 if existed else 201, _loan(request, loan.pk))


# --------------------------------------------------------------------------
# applications


def _claim(payload: PolicyApplicationIn) -> dict[str, Any]:
    return payload.model_dump(mode="json", exclude={"programme_id", "loan_id"})


@router.post(
    "/applications/preview",
    response=responses({200: PolicyPreviewOut}, 404, 409, 422),
    summary="测算：按政策逐行计算可申请金额并检查条件（不保存任何内容）",
)
def preview_application(request, payload: PolicyApplicationIn):
    programme = _programme(request, payload.programme_id)
    loan = _loan(request, payload.loan_id) if payload.loan_id else None
    with _fields_as_sent():
        found = preview_claim(actor(request), programme, _claim(payload), loan=loan)
        if found.errors:
            raise ValidationFailed(found.errors)
    return {
        "calculation": found.result.as_json() if found.result is not None else None,
        "eligibility": None if found.eligibility is None else _eligibility_out(found.eligibility),
        "duplicate": found.duplicate,
        "can_submit": found.can_submit,
    }


@router.post(
    "/applications",
    response=responses({201: PolicyApplicationDetailOut}, 404, 409, 422),
    summary="提交申请（同一贷款同一期间只能有一件在办申请：409）",
)
def apply(request, payload: PolicyApplicationIn):
    programme = _programme(request, payload.programme_id)
    loan = _loan(request, payload.loan_id) if payload.loan_id else None
    with _fields_as_sent():
        application = services.apply(actor(request), programme, _claim(payload), loan=loan)
    return Status(201, _application(request, application.pk))


@router.get(
    "/applications", response=responses({200: list[PolicyApplicationOut]}, 422), summary="申请列表"
)
@paginated
def list_applications(request, filters: Query[PolicyApplicationFilter]):
    queryset = _applications(request)
    if filters.programme:
        queryset = queryset.filter(programme_id=filters.programme)
    if filters.state:
        queryset = queryset.filter(state=filters.state)
    if filters.year:
        queryset = queryset.filter(year=filters.year)
    return queryset.order_by("-created_at", "-pk")


@router.get(
    "/applications/{id}",
    response=responses({200: PolicyApplicationDetailOut}, 404, 422),
    summary="申请详情：逐行计算过程与办理状态",
)
def get_application(request, id: ObjectId):
    return _application(request, id)


def _transition(request, id: int, call) -> Application:
    call(actor(request), _application(request, id))
    return _application(request, id)


@router.post(
    "/applications/{id}/confirm",
    response=responses({200: PolicyApplicationDetailOut}, 404, 409),
    summary="免申即享：企业确认平台生成的申请",
)
def confirm(request, id: ObjectId):
    return _transition(request, id, services.confirm)


@router.post(
    "/applications/{id}/bank-confirm",
    response=responses({200: PolicyApplicationDetailOut}, 404, 409, 422),
    summary="贷款银行确认贷款信息和期间实付利息/担保费（可用银行系统的令牌调用）",
)
def bank_confirm(request, id: ObjectId, payload: PolicyBankConfirmIn | None = None):
    paid_cost = payload.paid_cost if payload else None
    return _transition(request, id, lambda user, app: services.bank_confirm(user, app, paid_cost))


@router.post(
    "/applications/{id}/verify",
    response=responses({200: PolicyApplicationDetailOut}, 404, 409),
    summary="主管部门初审通过",
)
def verify(request, id: ObjectId):
    return _transition(request, id, services.verify)


@router.post(
    "/applications/{id}/approve",
    response=responses({200: PolicyApplicationDetailOut}, 404, 409),
    summary="财政复核通过：按预算承诺金额并进入公示（预算或企业年度上限不足时 409）",
)
def approve(request, id: ObjectId):
    return _transition(request, id, services.approve)


@router.post(
    "/applications/{id}/conclude",
    response=responses({200: PolicyApplicationDetailOut}, 404, 409),
    summary="公示期满且无未处理异议：转为待拨付",
)
def conclude(request, id: ObjectId):
    return _transition(request, id, services.conclude)


@router.post(
    "/applications/{id}/pay",
    response=responses({200: PolicyApplicationDetailOut}, 404, 409, 422),
    summary="拨付（凭证号）",
)
def pay(request, id: ObjectId, payload: PolicyPayIn):
    return _transition(
        request, id, lambda user, app: services.pay(user, app, payload.voucher_no, payload.paid_on)
    )


@router.post(
    "/applications/{id}/reject",
    response=responses({200: PolicyApplicationDetailOut}, 404, 409, 422),
    summary="驳回（说明原因；已承诺的预算释放）",
)
def reject(request, id: ObjectId, payload: PolicyReasonIn):
    return _transition(request, id, lambda user, app: services.reject(user, app, payload.reason))


@router.post(
    "/applications/{id}/withdraw",
    response=responses({200: PolicyApplicationDetailOut}, 404, 409, 422),
    summary="申请人撤回（说明原因；已承诺的预算释放）",
)
def withdraw(request, id: ObjectId, payload: PolicyReasonIn):
    return _transition(request, id, lambda user, app: services.withdraw(user, app, payload.reason))


@router.get(
    "/applications/{id}/objections",
    response=responses({200: list[PolicyObjectionOut]}, 404, 422),
    summary="公示异议（主管部门）",
)
def list_objections(request, id: ObjectId, unmask: bool = False):
    """The objectors masked; `?unmask=1` shows them in full to the agency
    users of the programme's region (each objection's unmask audited as
    `personal.unmask`), 403 for anyone else."""
    user = actor(request)
    application = _application(request, id)
    if not perms.can_verify(user, application):
        raise NotAllowed(_("只有该政策的主管部门可以查看异议"))
    objections = list(application.objections.order_by("created_at", "pk"))
    with transaction.atomic():
        return [_objection_out(user, objection, unmask=unmask) for objection in objections]


def _objection_out(user, objection: Objection, *, unmask: bool = False) -> dict:
    view = objector_view(user, objection, unmask=unmask)
    return {
        "id": objection.pk,
        "name": view.name,
        "contact": view.contact,
        "personal_masked": view.masked,
        "personal_unmaskable": view.can_unmask,
        "text": objection.text,
        "created_at": objection.created_at,
        "handled_at": objection.handled_at,
        "resolution": objection.resolution,
    }


@router.post(
    "/applications/{id}/objections/{objection_id}/handle",
    response=responses({200: PolicyObjectionOut}, 404, 409, 422),
    summary="处理公示异议（异议成立则驳回申请）",
)
def handle_objection(
    request, id: ObjectId, objection_id: ObjectId, payload: PolicyHandleObjectionIn
):
    application = _application(request, id)
    objection = Objection.objects.filter(pk=objection_id, application=application).first()
    if objection is None:
        raise NotFound(_("未找到该异议"))
    handled = services.handle_objection(
        actor(request), objection, payload.resolution, uphold=payload.uphold
    )
    return _objection_out(actor(request), handled)


# --------------------------------------------------------------------------
# the public 公示


@router.get(
    "/notices",
    response=responses({200: list[PolicyNoticeOut]}, 422),
    auth=PUBLIC_AUTH,
    openapi_extra=PUBLIC,
    summary="公示名单（无需登录）",
)
@paginated
def list_notices(request, filters: Query[PolicyNoticeFilter]):
    queryset = Application.objects.in_notice().select_related(
        "programme", "programme__region", "enterprise", "institution"
    )
    if filters.programme:
        queryset = queryset.filter(programme_id=filters.programme)
    return queryset.order_by("notice_ends_on", "pk")


@router.post(
    "/notices/{id}/objections",
    response=responses({201: PolicyObjectionReceivedOut}, 404, 422, 429),
    auth=PUBLIC_AUTH,
    openapi_extra=PUBLIC,
    throttle=[AnonymousObjections()],
    summary="对公示提出异议（无需登录）",
)
def raise_objection(request, id: ObjectId, payload: PolicyObjectionIn):
    application = Application.objects.in_notice().filter(pk=id).first()
    if application is None:
        raise NotFound(_("未找到该公示"))
    objection = services.raise_objection(application, payload.model_dump())
    return Status(201, objection)
