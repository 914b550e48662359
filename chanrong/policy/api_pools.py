"""转贷应急 and 风险补偿 over the API (to be mounted at /api/v1/policy/pools).

    GET  ""                                  the pools the caller's agency runs
    GET  /{programme_id}                     one pool's figures
    GET  /{programme_id}/movements           its movements, with the running balance
    POST /{programme_id}/capital             注资 (the agency's administrator)
    GET  /draws  POST /draws                 转贷应急 requests (enterprise, or its bank)
    GET  /draws/{id}
    POST /draws/{id}/confirm-commitment      the lending bank confirms its renewal commitment
    POST /draws/{id}/approve | draw | repay | reject | withdraw
    GET  /registrations  POST /registrations 风险补偿 备案 (the lending bank)
    GET  /claims  POST /claims  GET /claims/{id}
    POST /claims/{id}/pay | reject | recoveries

Reads start from each family's `visible_to` (anything not visible is a
404); writes call services.bridge / services.riskpool / services.pools,
which hold every rule; their errors are the API's one error shape. A bank's
own system acts with its user's token (Authorization: Bearer …), like any
other client. Amounts are exact Decimal 元 (JSON strings such as "1296.30"),
not the 万元 numbers other resources use: a subsidy is paid to the fen.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.db.models import Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from chanrong.core.apikit.caller import actor
from chanrong.core.apikit.errors import responses
from chanrong.core.apikit.pagination import paginated
from chanrong.core.apikit.schemas import InputSchema, ObjectId, Text
from chanrong.core.errors import NotFound, ValidationFailed

from .api_schemas import BodyId
from .api_schemas import Day as IsoDay
from .models import (
    POOL_KINDS,
    BridgeDraw,
    BridgeState,
    Loan,
    LossClaim,
    PoolRegistration,
    Programme,
    ProgrammeKind,
)
from .services import bridge, pools, riskpool

router = Router(tags=["policy 转贷应急与风险补偿"])

Money = Annotated[
    Decimal,
    Field(
        description='金额（元），十进制数字或字符串，最多两位小数，如 "1234567.89"',
        examples=["1000000.00"],
    ),
]
Day = Annotated[IsoDay | None, Field(description="日期 YYYY-MM-DD；不填为今天，不能晚于今天")]


# --------------------------------------------------------------------------
# schemas


class PoolOut(Schema):
    programme_id: int
    programme_name: str
    kind: str = Field(description="bridge 转贷应急 / risk_pool 风险补偿")
    state: str = Field(description="draft / published / closed")
    capital: Decimal = Field(description="资金池规模（元）")
    outstanding: Decimal = Field(description="在用资金：已出款未归还的转贷（元）")
    paid_out: Decimal = Field(description="累计代偿（元）")
    recovered: Decimal = Field(description="累计回流的追偿款（元）")
    fee_income: Decimal = Field(description="累计转贷使用费（元，不计入余额）")
    balance: Decimal = Field(description="可用余额 = 规模 − 在用 − 代偿 + 回收（元），永不为负")


def _pool_out(programme: Programme) -> dict[str, Any]:
    pool = programme.pool
    return {
        "programme_id": programme.pk,
        "programme_name": programme.name,
        "kind": programme.kind,
        "state": programme.state,
        "capital": pool.capital,
        "outstanding": pool.outstanding,
        "paid_out": pool.paid_out,
        "recovered": pool.recovered,
        "fee_income": pool.fee_income,
        "balance": pool.balance,
    }


class MovementOut(Schema):
    id: int
    on: date
    kind: str = Field(
        description="capital 注资 / draw 转贷出款 / repay 转贷归还 / fee 使用费 / compensate 代偿 / recover 回收"
    )
    amount: Decimal = Field(description="发生金额（元，正数）")
    effect: Decimal = Field(description="对余额的影响（元，带符号；使用费为 0）")
    balance: Decimal = Field(description="按日期顺序累计的余额（元）")
    balance_after: Decimal = Field(description="记账当时的余额（元）")
    note: str
    draw_id: int | None
    claim_id: int | None


class LineOut(Schema):
    label: str
    detail: str
    value: str | None


class CalculationOut(Schema):
    amount: str
    estimate: bool
    blocked: str
    lines: list[LineOut]


class DrawOut(Schema):
    id: int
    programme_id: int
    enterprise_id: int
    enterprise_name: str
    loan_id: int
    loan_contract_no: str
    loan_maturity_date: date
    institution_id: int
    amount: Decimal
    commitment_no: str
    commitment_confirmed: bool
    state: str = Field(
        description="requested 待审核 / approved 待出款 / drawn 使用中 / repaid 已归还 / rejected / withdrawn"
    )
    requested_at: datetime
    drawn_on: date | None
    due_on: date | None
    repaid_on: date | None
    renewed_loan_id: int | None
    fee: Decimal | None = Field(description="使用费（元），归还时计算")
    days_outstanding: int | None = Field(description="占用天数：出款至今天（已归还的至归还日）")
    overdue_days: int = Field(description="逾期天数：使用中且超过应还日的天数")
    calculation: CalculationOut | None = Field(description="使用费的计算过程")
    reason: str

    @staticmethod
    def resolve_enterprise_name(obj: BridgeDraw) -> str:
        return obj.enterprise.name

    @staticmethod
    def resolve_loan_contract_no(obj: BridgeDraw) -> str:
        return obj.loan.contract_no

    @staticmethod
    def resolve_loan_maturity_date(obj: BridgeDraw) -> date:
        return obj.loan.maturity_date

    @staticmethod
    def resolve_institution_id(obj: BridgeDraw) -> int:
        return obj.loan.institution_id

    @staticmethod
    def resolve_commitment_confirmed(obj: BridgeDraw) -> bool:
        return obj.commitment_confirmed_at is not None

    @staticmethod
    def resolve_days_outstanding(obj: BridgeDraw) -> int | None:
        return bridge.timing(obj).days

    @staticmethod
    def resolve_overdue_days(obj: BridgeDraw) -> int:
        return bridge.timing(obj).overdue_days

    @staticmethod
    def resolve_calculation(obj: BridgeDraw):
        return obj.calculation or None


class PoolRegistrationOut(Schema):
    id: int
    programme_id: int
    loan_id: int
    loan_contract_no: str
    loan_principal: Decimal
    enterprise_id: int
    enterprise_name: str
    institution_id: int
    share: Decimal = Field(description="补偿比例（%）")
    registered_on: date

    @staticmethod
    def resolve_loan_contract_no(obj: PoolRegistration) -> str:
        return obj.loan.contract_no

    @staticmethod
    def resolve_loan_principal(obj: PoolRegistration) -> Decimal:
        return obj.loan.principal

    @staticmethod
    def resolve_enterprise_id(obj: PoolRegistration) -> int:
        return obj.loan.enterprise_id

    @staticmethod
    def resolve_enterprise_name(obj: PoolRegistration) -> str:
        return obj.loan.enterprise.name

    @staticmethod
    def resolve_institution_id(obj: PoolRegistration) -> int:
        return obj.loan.institution_id


class RecoveryOut(CalculationOut):
    on: str
    recovered: str = Field(description="本次追偿回收（元）；amount 为回流资金池的部分")


class ClaimCalculationOut(CalculationOut):
    recoveries: list[RecoveryOut] = []


class ClaimOut(Schema):
    id: int
    registration_id: int
    programme_id: int
    loan_id: int
    loss: Decimal = Field(description="损失金额（元）")
    compensation: Decimal = Field(description="代偿金额（元），代偿后有效")
    recovered: Decimal = Field(description="银行累计追偿回收（元）")
    returned_to_pool: Decimal = Field(description="已回流资金池（元）")
    state: str = Field(description="claimed 待审核 / paid 已代偿 / rejected 已驳回")
    claimed_on: date
    paid_on: date | None
    reason: str
    calculation: ClaimCalculationOut | None = Field(
        description="代偿金额的计算过程（待审核时为测算值）及每次回收的回流计算"
    )

    @staticmethod
    def resolve_programme_id(obj: LossClaim) -> int:
        return obj.registration.programme_id

    @staticmethod
    def resolve_loan_id(obj: LossClaim) -> int:
        return obj.registration.loan_id

    @staticmethod
    def resolve_returned_to_pool(obj: LossClaim) -> Decimal:
        returned = getattr(obj, "returned", None)
        if returned is None:
            returned = riskpool.returned_to_pool(obj)
        # SQLite sums decimals as floats: back to the fen.
        return Decimal(str(returned)).quantize(pools.FEN)

    @staticmethod
    def resolve_calculation(obj: LossClaim):
        return obj.calculation or None


class CapitalIn(InputSchema):
    amount: Money
    on: Day = None
    note: Text(200) = ""


class DrawIn(InputSchema):
    programme_id: BodyId = Field(description="转贷应急政策编号")
    loan_id: BodyId = Field(description="到期贷款编号（本企业的，或本行发放的）")
    amount: Money
    commitment_no: Text(64, min_length=1) = Field(description="银行续贷承诺书编号")


class DrawFundsIn(InputSchema):
    drawn_on: Day = None


class RepayIn(InputSchema):
    renewed_loan_id: BodyId = Field(description="续贷贷款编号")
    repaid_on: Day = None


class PoolReasonIn(InputSchema):
    reason: Text(500, min_length=1)


class WithdrawIn(InputSchema):
    reason: Text(500) = ""


class RegistrationIn(InputSchema):
    programme_id: BodyId = Field(description="风险补偿政策编号")
    loan_id: BodyId = Field(description="本行发放、已确认的贷款编号")


class ClaimIn(InputSchema):
    registration_id: BodyId
    loss: Money


class PayClaimIn(InputSchema):
    paid_on: Day = None


class RecoveryIn(InputSchema):
    amount: Money
    on: Day = None


DrawState = Literal["requested", "approved", "drawn", "repaid", "rejected", "withdrawn"]
ClaimStateName = Literal["claimed", "paid", "rejected"]


class DrawFilter(Schema):
    programme_id: ObjectId | None = None
    state: DrawState | None = Field(None, description="按状态筛选")
    overdue: bool | None = Field(None, description="true：只看逾期的")


class ClaimFilter(Schema):
    programme_id: ObjectId | None = None
    state: ClaimStateName | None = Field(None, description="按状态筛选")


# --------------------------------------------------------------------------
# helpers


def _managed(request):
    return Programme.objects.managed_by(actor(request)).filter(kind__in=POOL_KINDS)


def _programme(request, programme_id: int) -> Programme:
    programme = _managed(request).select_related("pool").filter(pk=programme_id).first()
    if programme is None:
        raise NotFound()
    return programme


def _draws(request):
    return BridgeDraw.objects.visible_to(actor(request)).select_related(
        "programme", "enterprise", "loan"
    )


def _draw(request, draw_id: int) -> BridgeDraw:
    draw = _draws(request).filter(pk=draw_id).first()
    if draw is None:
        raise NotFound()
    return draw


def _claims(request):
    return (
        riskpool.visible_claims(actor(request))
        .select_related("registration__programme", "registration__loan")
        .annotate(
            returned=Coalesce(
                Sum("movements__amount", filter=Q(movements__kind="recover")),
                Value(Decimal(0)),
            )
        )
    )


def _claim(request, claim_id: int) -> LossClaim:
    claim = _claims(request).filter(pk=claim_id).first()
    if claim is None:
        raise NotFound()
    return claim


def _visible_loan(request, loan_id: int, field: str) -> Loan:
    loan = Loan.objects.visible_to(actor(request)).filter(pk=loan_id).first()
    if loan is None:
        raise ValidationFailed({field: _("没有该贷款，或无权查看")})
    return loan


def _bound_programme(request, programme_id: int, kind: str) -> Programme:
    programme = (
        Programme.objects.visible_to(actor(request)).filter(pk=programme_id, kind=kind).first()
    )
    if programme is None:
        raise ValidationFailed({"programme_id": _("没有该政策，或不是对应类型的资金池")})
    return programme


# --------------------------------------------------------------------------
# draws (declared before /{programme_id} so that "draws" is never read as an id)


@router.get("/draws", response=responses({200: list[DrawOut]}, 422), summary="转贷应急申请列表")
@paginated
def list_draws(request, filters: Query[DrawFilter]):
    draws = _draws(request)
    if filters.programme_id:
        draws = draws.filter(programme_id=filters.programme_id)
    if filters.state:
        draws = draws.filter(state=filters.state)
    if filters.overdue is True:
        draws = draws.filter(state=BridgeState.DRAWN, due_on__lt=timezone.localdate())
    return draws


@router.post(
    "/draws",
    response=responses({201: DrawOut}, 404, 409, 422),
    summary="申请转贷应急（企业，或贷款银行代为申请）",
)
def request_draw(request, payload: DrawIn):
    programme = _bound_programme(request, payload.programme_id, ProgrammeKind.BRIDGE)
    loan = _visible_loan(request, payload.loan_id, "loan_id")
    draw = bridge.request_draw(
        actor(request),
        programme,
        loan,
        {"amount": payload.amount, "commitment_no": payload.commitment_no},
    )
    return Status(201, _draw(request, draw.pk))


@router.get("/draws/{draw_id}", response=responses({200: DrawOut}, 404), summary="转贷应急详情")
def get_draw(request, draw_id: ObjectId):
    return _draw(request, draw_id)


@router.post(
    "/draws/{draw_id}/confirm-commitment",
    response=responses({200: DrawOut}, 404, 409),
    summary="贷款银行确认续贷承诺",
)
def confirm_commitment(request, draw_id: ObjectId):
    bridge.confirm_commitment(actor(request), _draw(request, draw_id))
    return _draw(request, draw_id)


@router.post(
    "/draws/{draw_id}/approve", response=responses({200: DrawOut}, 404, 409), summary="同意转贷"
)
def approve_draw(request, draw_id: ObjectId):
    bridge.approve(actor(request), _draw(request, draw_id))
    return _draw(request, draw_id)


@router.post(
    "/draws/{draw_id}/draw",
    response=responses({200: DrawOut}, 404, 409, 422),
    summary="出款（资金池余额不足时 409）",
)
def draw_funds(request, draw_id: ObjectId, payload: DrawFundsIn | None = None):
    drawn_on = payload.drawn_on if payload else None
    bridge.draw_funds(actor(request), _draw(request, draw_id), drawn_on=drawn_on)
    return _draw(request, draw_id)


@router.post(
    "/draws/{draw_id}/repay",
    response=responses({200: DrawOut}, 404, 409, 422),
    summary="以续贷资金归还（计算使用费）",
)
def repay_draw(request, draw_id: ObjectId, payload: RepayIn):
    draw = _draw(request, draw_id)
    renewed = _visible_loan(request, payload.renewed_loan_id, "renewed_loan_id")
    try:
        bridge.repay(actor(request), draw, renewed, repaid_on=payload.repaid_on)
    except ValidationFailed as exc:
        for error in exc.errors:  # the API's field is the id
            if error.field == "renewed_loan":
                error.field = "renewed_loan_id"
        raise
    return _draw(request, draw_id)


@router.post(
    "/draws/{draw_id}/reject", response=responses({200: DrawOut}, 404, 409, 422), summary="驳回"
)
def reject_draw(request, draw_id: ObjectId, payload: PoolReasonIn):
    bridge.reject(actor(request), _draw(request, draw_id), payload.reason)
    return _draw(request, draw_id)


@router.post(
    "/draws/{draw_id}/withdraw",
    response=responses({200: DrawOut}, 404, 409, 422),
    summary="企业撤回申请",
)
def withdraw_draw(request, draw_id: ObjectId, payload: WithdrawIn | None = None):
    bridge.withdraw(actor(request), _draw(request, draw_id), payload.reason if payload else "")
    return _draw(request, draw_id)


# --------------------------------------------------------------------------
# registrations and claims


@router.get(
    "/registrations",
    response=responses({200: list[PoolRegistrationOut]}, 422),
    summary="风险补偿备案贷款列表",
)
@paginated
def list_registrations(request, programme_id: ObjectId | None = None):
    registrations = PoolRegistration.objects.visible_to(actor(request)).select_related(
        "loan", "loan__enterprise"
    )
    if programme_id:
        registrations = registrations.filter(programme_id=programme_id)
    return registrations.order_by("-registered_on", "-pk")


@router.post(
    "/registrations",
    response=responses({201: PoolRegistrationOut}, 404, 409, 422),
    summary="贷款备案入池（贷款银行）",
)
def register(request, payload: RegistrationIn):
    programme = _bound_programme(request, payload.programme_id, ProgrammeKind.RISK_POOL)
    loan = _visible_loan(request, payload.loan_id, "loan_id")
    registration = riskpool.register(actor(request), programme, loan)
    return Status(
        201,
        PoolRegistration.objects.select_related("loan", "loan__enterprise").get(pk=registration.pk),
    )


@router.get("/claims", response=responses({200: list[ClaimOut]}, 422), summary="风险补偿申请列表")
@paginated
def list_claims(request, filters: Query[ClaimFilter]):
    claims = _claims(request)
    if filters.programme_id:
        claims = claims.filter(registration__programme_id=filters.programme_id)
    if filters.state:
        claims = claims.filter(state=filters.state)
    return claims.order_by("-claimed_on", "-pk")


@router.post(
    "/claims",
    response=responses({201: ClaimOut}, 404, 409, 422),
    summary="申请风险补偿（贷款银行）",
)
def file_claim(request, payload: ClaimIn):
    registration = (
        PoolRegistration.objects.visible_to(actor(request))
        .filter(pk=payload.registration_id)
        .first()
    )
    if registration is None:
        raise ValidationFailed({"registration_id": _("没有该备案，或无权查看")})
    claim = riskpool.file_claim(actor(request), registration, {"loss": payload.loss})
    return Status(201, _claim(request, claim.pk))


@router.get("/claims/{claim_id}", response=responses({200: ClaimOut}, 404), summary="风险补偿详情")
def get_claim(request, claim_id: ObjectId):
    return _claim(request, claim_id)


@router.post(
    "/claims/{claim_id}/pay",
    response=responses({200: ClaimOut}, 404, 409, 422),
    summary="代偿（资金池为零或已达上限时 409）",
)
def pay_claim(request, claim_id: ObjectId, payload: PayClaimIn | None = None):
    paid_on = payload.paid_on if payload else None
    riskpool.pay_claim(actor(request), _claim(request, claim_id), paid_on=paid_on)
    return _claim(request, claim_id)


@router.post(
    "/claims/{claim_id}/reject", response=responses({200: ClaimOut}, 404, 409, 422), summary="驳回"
)
def reject_claim(request, claim_id: ObjectId, payload: PoolReasonIn):
    riskpool.reject_claim(actor(request), _claim(request, claim_id), payload.reason)
    return _claim(request, claim_id)


@router.post(
    "/claims/{claim_id}/recoveries",
    response=responses({201: ClaimOut}, 404, 409, 422),
    summary="报告追偿回收（按代偿比例回流资金池）",
)
def report_recovery(request, claim_id: ObjectId, payload: RecoveryIn):
    riskpool.report_recovery(
        actor(request), _claim(request, claim_id), payload.amount, on=payload.on
    )
    return Status(201, _claim(request, claim_id))


# --------------------------------------------------------------------------
# pools


@router.get("", response=responses({200: list[PoolOut]}, 422), summary="本部门的资金池")
@paginated
def list_pools(request):
    return [_pool_out(p) for p in _managed(request).select_related("pool").order_by("pk")]


@router.get(
    "/{int:programme_id}", response=responses({200: PoolOut}, 404), summary="资金池余额与累计数"
)
def get_pool(request, programme_id: ObjectId):
    return _pool_out(_programme(request, programme_id))


@router.get(
    "/{int:programme_id}/movements",
    response=responses({200: list[MovementOut]}, 404, 422),
    summary="资金流水（按日期，附累计余额）",
)
@paginated
def list_movements(request, programme_id: ObjectId):
    programme = _programme(request, programme_id)
    return [
        {
            "id": row.movement.pk,
            "on": row.movement.on,
            "kind": row.movement.kind,
            "amount": row.movement.amount,
            "effect": row.effect,
            "balance": row.running,
            "balance_after": row.movement.balance_after,
            "note": row.movement.note,
            "draw_id": row.movement.bridge_id,
            "claim_id": row.movement.claim_id,
        }
        for row in pools.ledger(programme.pool)
    ]


@router.post(
    "/{int:programme_id}/capital",
    response=responses({200: PoolOut}, 404, 409, 422),
    summary="注资（政策主管部门管理员）",
)
def add_capital(request, programme_id: ObjectId, payload: CapitalIn):
    programme = _programme(request, programme_id)
    pools.add_capital(actor(request), programme, payload.amount, on=payload.on, note=payload.note)
    return _pool_out(_programme(request, programme_id))
