"""The shapes of the policy API (/api/v1/policy): what each operation takes
and returns, with the descriptions the OpenAPI document shows. Kept apart
from the handlers in api.py, which only translate between these and
chanrong.policy.services.

Money here is in 元, as a decimal string exact to the fen ("35833.33"), not
the 万元 numbers of the rest of the API: a subsidy is computed, committed,
paid and audited to the fen, and a float would not round-trip. Inputs accept
a JSON number or a numeric string. Rates are percent ("3.45" is 3.45 % a year).
"""

import math
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import AfterValidator, StrictBool

from chanrong.core.apikit.caller import actor
from chanrong.core.apikit.schemas import (
    BodyId,
    Day,
    InputSchema,
    MoneyIn,
    ObjectId,
    Text,
    Yuan,
    drop_null_default,
)
from chanrong.demands.models import DemandKind

from .models import (
    Application,
    ApplicationState,
    BudgetYear,
    LedgerKind,
    Loan,
    LoanSource,
    Programme,
    ProgrammeKind,
    ProgrammeState,
)
from .workflows import APPLICATION

Year = Annotated[int, Field(ge=2000, le=2100, description="年度，如 2026")]

PercentIn = Annotated[
    Decimal,
    Field(
        ge=0,
        lt=100,
        max_digits=9,
        decimal_places=6,
        allow_inf_nan=False,
        description="年利率或费率（%），如 3.45",
        examples=["3.45"],
    ),
]
_UNSET = {"default": None, "json_schema_extra": drop_null_default}

# --- JSON objects stored as they are (params, eligibility) ----------------------------

MAX_JSON_DEPTH = 8


def _storable(value: Any) -> Any:
    """A JSON value the database can store: no NUL or lone surrogate in any
    string or key (PostgreSQL's jsonb refuses them), no NaN or infinity
    (JSON has none), and not nested absurdly deep."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise ValueError(_("嵌套层级过深"))
        if isinstance(item, str):
            if "\x00" in item or any("\ud800" <= ch <= "\udfff" for ch in item):
                raise ValueError(_("含有无效字符（NUL 或无效的 Unicode）"))
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise ValueError(_("应为有限数字"))
        elif isinstance(item, dict):
            for key, child in item.items():
                stack.append((key, depth + 1))
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return value


JsonObject = Annotated[dict[str, Any], AfterValidator(_storable)]

PARAMS_HELP = (
    "政策参数（JSON 对象，金额为元、费率为 %，数字或数字字符串）。"
    "贴息 interest：method（fixed 固定贴息率 rate / lpr_share 按 LPR 比例 lpr_tenor 1y|5y、"
    "lpr_share / above_floor 超过 floor 的部分）、day_count（act360|act365）、principal_cap、"
    "cap_per_loan、cap_per_enterprise_year；"
    "担保费补贴 guarantee_fee：method（points 补贴费率 points / share 按实付担保费比例 share）、"
    "fee_rate_ceiling、day_count、cap_per_loan、cap_per_enterprise_year；"
    "转贷应急 bridge：daily_fee_rate（%/天）、max_days、max_amount；"
    "风险补偿 risk_pool：share、cap_per_loan；"
    "奖励 award：items [{code, label, recipient enterprise|institution, amount 或 rate+cap}]、"
    "cap_per_enterprise_year。错误按字段返回，如 params.cap_per_loan"
)
ELIGIBILITY_HELP = (
    "申报条件（JSON 对象）：regions、industries_in、industries_out、sizes、qualifications、"
    "lists、min_tax_grade、exclude_blacklisted、chongqing_classes、project_classes、"
    "loan_kinds、purpose_keywords、term_min_months、term_max_months、amount_min、amount_max、"
    "loan_date_from、loan_date_to。错误按字段返回，如 eligibility.term_max_months"
)


# --- programmes -----------------------------------------------------------------------


class PolicyBudgetYearOut(Schema):
    year: int
    appropriation: Yuan = Field(description="年度预算（元）")
    committed: Yuan = Field(description="已承诺（复核通过、公示中或待拨付，元）")
    paid: Yuan = Field(description="已拨付（元）")
    available: Yuan = Field(description="可用余额 = 预算 − 已承诺 − 已拨付（元）")

    @staticmethod
    def resolve_available(obj: BudgetYear) -> Decimal:
        return obj.available


class PolicyProgrammeOut(Schema):
    id: int
    kind: ProgrammeKind = Field(
        description="interest 贷款贴息 / guarantee_fee 担保费补贴 / bridge 转贷应急 / "
        "risk_pool 风险补偿 / award 奖励"
    )
    kind_label: str
    name: str
    basis: str = Field(description="政策依据（文号）")
    summary: str
    agency_name: str = Field(description="主管部门")
    region_code: str = Field(description="适用地区的行政区划代码")
    region_name: str
    starts_on: date
    ends_on: date
    state: ProgrammeState = Field(description="draft 草稿 / published 已发布 / closed 已结束")
    state_label: str
    requires_bank_confirmation: bool = Field(description="申请须经贷款银行确认")
    auto_apply: bool = Field(description="免申即享：平台据已有数据生成申请，企业确认即可")
    notice_days: int = Field(description="公示期（工作日）")
    published_at: datetime | None

    @staticmethod
    def resolve_kind_label(obj: Programme) -> str:
        return obj.get_kind_display()

    @staticmethod
    def resolve_agency_name(obj: Programme) -> str:
        return obj.agency.name

    @staticmethod
    def resolve_region_code(obj: Programme) -> str:
        return obj.region_id

    @staticmethod
    def resolve_region_name(obj: Programme) -> str:
        return obj.region.name

    @staticmethod
    def resolve_state_label(obj: Programme) -> str:
        return obj.get_state_display()


class PolicyProgrammeDetailOut(PolicyProgrammeOut):
    params: dict[str, Any] = Field(description=PARAMS_HELP)
    eligibility: dict[str, Any] = Field(description=ELIGIBILITY_HELP)
    conditions: list[str] = Field(description="申报条件的中文说明，每条一句")
    budget: list[PolicyBudgetYearOut] = Field(description="各年度预算与余额（资金池类政策为空）")


class PolicyProgrammeFilter(Schema):
    kind: ProgrammeKind | None = None
    state: ProgrammeState | None = None
    in_force: bool | None = Field(None, description="true：只列今日在政策期内的已发布政策")


class PolicyProgrammeIn(InputSchema):
    kind: ProgrammeKind
    name: Text(200, min_length=1)  # type: ignore[valid-type]
    basis: Text(200, min_length=1) = Field(description="政策依据（文号）")  # type: ignore[valid-type]
    summary: Text(5000) = ""  # type: ignore[valid-type]
    starts_on: Day
    ends_on: Day = Field(description="不早于 starts_on")
    params: JsonObject = Field(default_factory=dict, description=PARAMS_HELP)
    eligibility: JsonObject = Field(default_factory=dict, description=ELIGIBILITY_HELP)
    requires_bank_confirmation: StrictBool = True
    auto_apply: StrictBool = Field(False, description="免申即享（仅贴息和担保费补贴）")
    notice_days: int = Field(5, strict=True, ge=1, le=30, description="公示期（工作日），1–30")


class PolicyProgrammePatch(InputSchema):
    """Only a draft can be changed; omitted fields stay as they are."""

    name: Text(200, min_length=1) = Field(**_UNSET)  # type: ignore[valid-type]
    basis: Text(200, min_length=1) = Field(**_UNSET)  # type: ignore[valid-type]
    summary: Text(5000) = Field(**_UNSET)  # type: ignore[valid-type]
    starts_on: Day = Field(**_UNSET)
    ends_on: Day = Field(**_UNSET)
    params: JsonObject = Field(description=PARAMS_HELP, **_UNSET)
    eligibility: JsonObject = Field(description=ELIGIBILITY_HELP, **_UNSET)
    requires_bank_confirmation: StrictBool = Field(**_UNSET)
    auto_apply: StrictBool = Field(**_UNSET)
    notice_days: int = Field(strict=True, ge=1, le=30, **_UNSET)


class PolicyAppropriationIn(InputSchema):
    appropriation: MoneyIn = Field(description="该年度预算（元）；不能低于已承诺与已拨付之和")


class PolicyLedgerEntryOut(Schema):
    id: int
    year: int
    kind: LedgerKind = Field(
        description="appropriate 预算安排 / commit 承诺 / release 释放 / pay 拨付"
    )
    kind_label: str
    amount: Yuan = Field(description="本笔变动（元；释放为负数）")
    committed_after: Yuan
    paid_after: Yuan
    application_id: int | None
    note: str
    created_at: datetime

    @staticmethod
    def resolve_year(obj) -> int:
        return obj.budget.year

    @staticmethod
    def resolve_kind_label(obj) -> str:
        return obj.get_kind_display()


class PolicyLedgerFilter(Schema):
    year: Year | None = None


class PolicyFindingOut(Schema):
    condition: str = Field(description="条件名：sizes、regions、loan_date …")
    message: str


class PolicyEligibilityOut(Schema):
    eligible: bool
    status: str = Field(description="eligible 符合 / unknown 需补充信息 / ineligible 不符合")
    failed: list[PolicyFindingOut] = Field(description="不符合的条件")
    missing: list[PolicyFindingOut] = Field(description="未知的企业信息（需补充）")


class PolicyEligibilityQuery(Schema):
    loan: ObjectId | None = Field(None, description="同时检查这笔贷款（本企业的）是否符合贷款条件")


# --- loans ----------------------------------------------------------------------------


class PolicyLoanOut(Schema):
    id: int
    source: LoanSource = Field(description="platform 平台放款 / off_platform 平台外贷款")
    enterprise_id: int
    enterprise_name: str
    institution_id: int
    institution_name: str
    demand_id: int | None = Field(description="平台放款对应的融资需求")
    contract_no: str
    principal: Yuan = Field(description="贷款金额（元）")
    rate: Decimal = Field(description="执行年利率（%）")
    loan_date: date
    maturity_date: date
    kind: str
    purpose: str
    guarantor_id: int | None
    guarantee_fee_rate: Decimal | None = Field(description="担保费率（%/年）")
    confirmed: bool = Field(description="贷款银行已确认（平台放款自动确认）")
    confirmed_at: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_enterprise_name(obj: Loan) -> str:
        return obj.enterprise.name

    @staticmethod
    def resolve_institution_name(obj: Loan) -> str:
        return obj.institution.name

    @staticmethod
    def resolve_confirmed(obj: Loan) -> bool:
        return obj.confirmed


class PolicyLoanIn(InputSchema):
    contract_no: Text(64, min_length=1) = Field(description="借款合同编号")  # type: ignore[valid-type]
    principal: MoneyIn = Field(description="贷款金额（元），大于 0")
    rate: PercentIn = Field(description="执行年利率（%）")
    loan_date: Day = Field(description="放款日期，不晚于今天")
    maturity_date: Day = Field(description="到期日期，晚于放款日期")
    institution_id: BodyId | None = Field(None, description="贷款机构（企业登记时必填）")
    enterprise_id: BodyId | None = Field(None, description="借款企业（银行登记时必填）")
    kind: DemandKind = Field(DemandKind.DEBT, description="贷款类型")
    purpose: Text(200) = Field("", description="贷款用途")  # type: ignore[valid-type]
    guarantor_id: BodyId | None = Field(None, description="担保机构")
    guarantee_fee_rate: PercentIn | None = Field(None, description="担保费率（%/年）")


class PolicyLoanFilter(Schema):
    source: LoanSource | None = None
    confirmed: bool | None = None


# --- applications ---------------------------------------------------------------------


class PolicyLineOut(Schema):
    label: str
    detail: str = Field(description="算式或说明，如 5,000,000.00 × 1.5% × 172 ÷ 360")
    value: Decimal | None = Field(description="本行结果（元或 %），无则为 null")


class PolicyCalculationOut(Schema):
    amount: Yuan
    estimate: bool = Field(description="估算：实付利息/担保费尚未经银行确认")
    blocked: str = Field(description="金额为零的原因（无则为空）")
    lines: list[PolicyLineOut] = Field(
        description="逐行计算过程（本金 × 利率 × 天数 ÷ 基数、各项上限、舍入）"
    )


#: Transition names as the URL segments of POST /policy/applications/{id}/{action}.
ACTION_OF_TRANSITION = {
    "confirm": "confirm",
    "confirm_direct": "confirm",
    "bank_confirm": "bank-confirm",
    "verify": "verify",
    "approve": "approve",
    "conclude": "conclude",
    "pay": "pay",
    "reject": "reject",
    "withdraw": "withdraw",
}


def actions_of(user, application: Application) -> list[str]:
    """What `user` may do with the application now (the declared table's
    view of it; budget, caps and the notice period are checked on the call)."""
    names = (ACTION_OF_TRANSITION[t.name] for t in APPLICATION.available(application, user))
    return list(dict.fromkeys(names))


def _calculation(obj: Application) -> dict[str, Any]:
    data = obj.calculation or {}
    return {
        "amount": data.get("amount", str(obj.amount)),
        "estimate": bool(data.get("estimate", False)),
        "blocked": data.get("blocked", ""),
        "lines": data.get("lines", []),
    }


class PolicyApplicationOut(Schema):
    id: int
    programme_id: int
    programme_name: str
    kind: str
    enterprise_id: int | None
    enterprise_name: str | None
    institution_id: int | None = Field(description="贷款银行，或奖励对象为金融机构时的申请机构")
    institution_name: str | None
    loan_id: int | None
    contract_no: str | None
    year: int = Field(description="预算年度")
    period_start: date | None
    period_end: date | None
    paid_cost: Yuan | None = Field(description="期间实付利息/担保费（元；银行确认后为确认数）")
    award_item: str
    amount: Yuan = Field(description="核定（或测算）金额（元）")
    state: ApplicationState = Field(
        description="proposed 待企业确认 / bank_pending 待银行确认 / submitted 待初审 / "
        "verified 待财政复核 / notice 公示中 / approved 待拨付 / paid 已拨付 / "
        "rejected 已驳回 / withdrawn 已撤回"
    )
    state_label: str
    auto_built: bool = Field(description="免申即享生成")
    submitted_at: datetime | None
    notice_starts_on: date | None
    notice_ends_on: date | None
    paid_on: date | None
    created_at: datetime
    actions: list[str] = Field(
        description="调用者现在可以执行的操作：confirm、bank-confirm、verify、approve、"
        "conclude、pay、reject、withdraw"
    )

    @staticmethod
    def resolve_programme_name(obj: Application) -> str:
        return obj.programme.name

    @staticmethod
    def resolve_kind(obj: Application) -> str:
        return obj.programme.kind

    @staticmethod
    def resolve_enterprise_name(obj: Application) -> str | None:
        return obj.enterprise.name if obj.enterprise_id else None

    @staticmethod
    def resolve_institution_name(obj: Application) -> str | None:
        return obj.institution.name if obj.institution_id else None

    @staticmethod
    def resolve_contract_no(obj: Application) -> str | None:
        return obj.loan.contract_no if obj.loan_id else None

    @staticmethod
    def resolve_state_label(obj: Application) -> str:
        return obj.get_state_display()

    @staticmethod
    def resolve_actions(obj: Application, context) -> list[str]:
        return actions_of(actor(context["request"]), obj)


class PolicyApplicationDetailOut(PolicyApplicationOut):
    calculation: PolicyCalculationOut
    reason: str = Field(description="驳回或撤回原因")
    voucher_no: str = Field(description="拨付凭证号")
    bank_confirmed_at: datetime | None
    open_objections: int = Field(description="公示中尚未处理的异议数")

    @staticmethod
    def resolve_calculation(obj: Application) -> dict[str, Any]:
        return _calculation(obj)

    @staticmethod
    def resolve_open_objections(obj: Application) -> int:
        return obj.objections.filter(handled_at__isnull=True).count()


class PolicyApplicationFilter(Schema):
    programme: ObjectId | None = Field(None, description="政策编号")
    state: ApplicationState | None = None
    year: Year | None = None


class PolicyApplicationIn(InputSchema):
    programme_id: BodyId
    loan_id: BodyId | None = Field(
        None,
        description="贷款编号（贴息、担保费补贴必填）：平台放款先调用 "
        "POST /policy/loans/from-demand/{demand_id} 取得",
    )
    period_start: Day | None = Field(None, description="计息（担保）起始日，与截止日同一年度")
    period_end: Day | None = Field(None, description="截止日，不晚于今天；其年份为预算年度")
    paid_cost: MoneyIn | None = Field(
        None, description="期间实付利息/担保费（元）；未填时按合同测算，待银行确认"
    )
    award_item: Text(64) = Field("", description="奖励事项代码（奖励类政策）")  # type: ignore[valid-type]


class PolicyPreviewOut(Schema):
    calculation: PolicyCalculationOut | None = Field(description="逐行测算；缺少贷款时为 null")
    eligibility: PolicyEligibilityOut | None = Field(
        description="申请企业是否符合条件（申请对象为金融机构时为 null）"
    )
    duplicate: str = Field(description="同一贷款同一期间已有的在办申请（提交将得到 409），无则为空")
    can_submit: bool = Field(description="按当前数据提交能否受理")


class PolicyBankConfirmIn(InputSchema):
    paid_cost: MoneyIn | None = Field(
        None, description="期间实际支付的利息/担保费（元）；不填则确认企业所报金额"
    )


class PolicyPayIn(InputSchema):
    voucher_no: Text(64, min_length=1) = Field(description="拨付凭证号")  # type: ignore[valid-type]
    paid_on: Day | None = Field(None, description="拨付日期，默认今天，不晚于今天")


class PolicyReasonIn(InputSchema):
    reason: Text(500, min_length=1)  # type: ignore[valid-type]


class PolicyObjectionOut(Schema):
    id: int
    name: str = Field(description="异议人（默认脱敏，见 unmask）")
    contact: str = Field(description="联系方式（默认脱敏，见 unmask）")
    personal_masked: bool = Field(description="异议人信息是否以脱敏形式返回")
    personal_unmaskable: bool = Field(
        description="调用方有权以 ?unmask=1 查看完整内容（查看会记入审计日志）"
    )
    text: str
    created_at: datetime
    handled_at: datetime | None
    resolution: str


class PolicyHandleObjectionIn(InputSchema):
    resolution: Text(500, min_length=1) = Field(description="处理意见")  # type: ignore[valid-type]
    uphold: StrictBool = Field(description="异议成立（申请随之驳回，承诺的预算释放）")


# --- the public 公示 ------------------------------------------------------------------


class PolicyNoticeOut(Schema):
    """One line of the public 公示: who, which programme, how much, until when —
    nothing about the loan, the calculation or the people involved."""

    id: int
    programme_id: int
    programme_name: str
    kind_label: str
    region_name: str
    applicant_name: str = Field(description="申请企业（或金融机构）名称")
    year: int
    amount: Yuan = Field(description="拟拨付金额（元）")
    notice_starts_on: date | None
    notice_ends_on: date | None

    @staticmethod
    def resolve_programme_name(obj: Application) -> str:
        return obj.programme.name

    @staticmethod
    def resolve_kind_label(obj: Application) -> str:
        return obj.programme.get_kind_display()

    @staticmethod
    def resolve_region_name(obj: Application) -> str:
        return obj.programme.region.name

    @staticmethod
    def resolve_applicant_name(obj: Application) -> str:
        if obj.enterprise_id:
            return obj.enterprise.name
        return obj.institution.name if obj.institution_id else ""


class PolicyNoticeFilter(Schema):
    programme: ObjectId | None = Field(None, description="政策编号")


class PolicyObjectionIn(InputSchema):
    name: Text(64, min_length=1) = Field(description="异议人")  # type: ignore[valid-type]
    contact: Text(64, min_length=1) = Field(description="联系方式")  # type: ignore[valid-type]
    text: Text(2000, min_length=1) = Field(description="异议内容")  # type: ignore[valid-type]


class PolicyObjectionReceivedOut(Schema):
    id: int
    created_at: datetime
