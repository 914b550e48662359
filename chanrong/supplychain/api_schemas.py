"""The shapes of the supply-chain API (/api/v1/supplychain): what each
operation takes and returns. Kept apart from the handlers in api.py, which
only translate between these and chanrong.supplychain.services.

Class names start with `Supply` (django-ninja names OpenAPI components after
the class; tests/api/test_docs.py refuses two routers with the same name).

Money is in 元, as a decimal string exact to the fen ("800000.00"), as in
the policy API: a financing's backing is checked against the confirmed
amount to the fen, and a float would not round-trip. Inputs accept a JSON
number or a numeric string; the services refuse ≤ 0 and more than two
decimals by field. Rates are percent ("80" is 80 %).
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from ninja import Field, Schema

from chanrong.core.apikit.schemas import (
    BodyId,
    Day,
    IndustryCode,
    InputSchema,
    MoneyIn,
    ObjectId,
    Text,
    Yuan,
)

from .models import (
    Chain,
    ChainKeeper,
    ChainMember,
    Financing,
    FinancingMode,
    FinancingState,
    MemberRole,
    Receivable,
    ReceivableKind,
    ReceivableState,
    Voucher,
    VoucherState,
)

PercentIn = Annotated[
    Decimal,
    Field(
        ge=0,
        le=100,
        max_digits=9,
        decimal_places=6,
        allow_inf_nan=False,
        description="百分比（%），如 80",
        examples=["80"],
    ),
]
#: An enterprise named by its id (JSON integer) or its USCC (18 characters).
EnterpriseRef = Annotated[
    BodyId | Text(18, min_length=18),  # type: ignore[valid-type]
    Field(description="企业编号（整数）或统一社会信用代码（18 位）"),
]


# --- chains ---------------------------------------------------------------------------


class SupplyChainOut(Schema):
    id: int
    name: str
    region_code: str
    region_name: str
    lead_id: int | None = Field(description="链主企业")
    lead_name: str | None
    kept_by: ChainKeeper = Field(description="agency 政府部门维护 / core 链主企业维护")
    agency_id: int | None = Field(description="维护部门")
    agency_name: str | None
    industry_code: str | None = Field(description="所属行业（国民经济行业代码）")
    description: str
    created_at: datetime

    @staticmethod
    def resolve_region_code(obj: Chain) -> str:
        return obj.region_id

    @staticmethod
    def resolve_region_name(obj: Chain) -> str:
        return obj.region.name

    @staticmethod
    def resolve_lead_name(obj: Chain) -> str | None:
        return obj.lead.name if obj.lead_id else None

    @staticmethod
    def resolve_agency_name(obj: Chain) -> str | None:
        return obj.agency.name if obj.agency_id else None

    @staticmethod
    def resolve_industry_code(obj: Chain) -> str | None:
        return obj.industry_id


class SupplyChainFilter(Schema):
    region: Annotated[str, Field(pattern=r"^[0-9]{2,6}$")] | None = Field(
        None, description="行政区划代码（前缀），如 330421"
    )
    lead: ObjectId | None = Field(None, description="链主企业编号")


class SupplyChainIn(InputSchema):
    name: Text(100, min_length=1)  # type: ignore[valid-type]
    region: Annotated[str, Field(pattern=r"^[0-9]{6}$")] | None = Field(
        None, description="6 位行政区划代码；默认维护部门或链主所在地"
    )
    lead: EnterpriseRef | None = Field(None, description="链主企业（政府部门建链时可填）")
    agency: BodyId | None = Field(None, description="维护部门（仅平台管理员）")
    industry: IndustryCode | None = Field(None, description="所属行业：国民经济行业代码，如 C36")
    description: Text(5000) = ""  # type: ignore[valid-type]


class SupplyMemberOut(Schema):
    id: int
    chain_id: int
    enterprise_id: int
    enterprise_name: str
    enterprise_uscc: str
    role: MemberRole = Field(description="supplier 供应商 / dealer 经销商")
    tier: int = Field(description="层级 1–3")
    added_at: datetime

    @staticmethod
    def resolve_enterprise_name(obj: ChainMember) -> str:
        return obj.enterprise.name

    @staticmethod
    def resolve_enterprise_uscc(obj: ChainMember) -> str:
        return obj.enterprise.uscc


class SupplyMemberIn(InputSchema):
    enterprise: EnterpriseRef
    role: MemberRole
    tier: int = Field(strict=True, ge=1, le=3, description="层级 1–3")


class SupplyMeasureOut(Schema):
    id: int
    chain_id: int
    issued_on: date
    text: str
    created_at: datetime


class SupplyMeasureIn(InputSchema):
    issued_on: Day | None = Field(None, description="日期，默认今天")
    text: Text(5000, min_length=1) = Field(description="一链一策措施内容")  # type: ignore[valid-type]


# --- receivables ----------------------------------------------------------------------


class SupplyInvoiceIn(InputSchema):
    code: Text(12) = Field("", description="发票代码（10 或 12 位）；数电票为空")  # type: ignore[valid-type]
    number: Text(20, min_length=1) = Field(description="发票号码（8 位）或数电票号码（20 位）")  # type: ignore[valid-type]


class SupplyInvoiceOut(Schema):
    code: str
    number: str


class SupplyInstalmentIn(InputSchema):
    due_on: Day
    amount: MoneyIn


class SupplyInstalmentOut(Schema):
    due_on: date
    amount: Yuan


class SupplyReceivableIn(InputSchema):
    kind: ReceivableKind = Field(
        ReceivableKind.ORDINARY, description="ordinary 应收账款 / gov_procurement 政府采购合同"
    )
    debtor_uscc: Text(30) = Field(  # type: ignore[valid-type]
        "", description="债务人统一社会信用代码（采购人为政府部门时不填）"
    )
    debtor_name: Text(100) = Field("", description="债务人名称（债务人尚未在平台注册时必填）")  # type: ignore[valid-type]
    purchaser_agency_id: BodyId | None = Field(
        None, description="政采：采购人为平台上的政府部门时填其编号"
    )
    contract_no: Text(64, min_length=1) = Field(description="合同编号")  # type: ignore[valid-type]
    amount: MoneyIn = Field(description="应收账款金额（元），大于 0")
    issued_on: Day = Field(description="债权发生日期，不晚于今天")
    due_on: Day = Field(description="到期日期，不早于债权发生日期和今天")
    invoices: list[SupplyInvoiceIn | Text(40)] = Field(  # type: ignore[valid-type]
        default_factory=list,
        max_length=500,
        description="发票：{code, number} 或字符串（“代码 号码”或 20 位数电票号码）；"
        "普通应收账款至少一张。错误按 invoices[i] 返回",
    )
    payment_schedule: list[SupplyInstalmentIn] = Field(
        default_factory=list,
        max_length=120,
        description="政采付款计划：按日期递增，合计等于合同金额",
    )


class SupplyReceivableOut(Schema):
    id: int
    kind: ReceivableKind
    creditor_id: int
    creditor_name: str
    creditor_uscc: str
    debtor_uscc: str
    debtor_name: str
    debtor_id: int | None
    purchaser_agency_id: int | None
    contract_no: str
    amount: Yuan
    issued_on: date
    due_on: date
    state: ReceivableState = Field(
        description="registered 待确权 / confirmed 已确权 / partly_confirmed 部分确权 / "
        "disputed 有异议 / withdrawn 已撤回"
    )
    state_label: str
    confirmed_amount: Yuan | None
    confirmed_at: datetime | None
    debtor_listed: bool = Field(description="确权时债务人在有效的应收账款核心企业名单中")
    dispute_reason: str
    financed: Yuan = Field(description="已用于融资的确权金额（元）")
    vouchered: Yuan = Field(description="已开立数字债权凭证的金额（元）")
    available: Yuan = Field(description="尚未融资的确权余额（元）")
    created_at: datetime

    @staticmethod
    def resolve_creditor_name(obj: Receivable) -> str:
        return obj.creditor.name

    @staticmethod
    def resolve_creditor_uscc(obj: Receivable) -> str:
        return obj.creditor.uscc

    @staticmethod
    def resolve_state_label(obj: Receivable) -> str:
        return obj.get_state_display()

    @staticmethod
    def resolve_available(obj: Receivable) -> Decimal:
        return Decimal(obj.available)


class SupplyReceivableDetailOut(SupplyReceivableOut):
    invoices: list[SupplyInvoiceOut]
    payment_schedule: list[SupplyInstalmentOut]

    @staticmethod
    def resolve_invoices(obj: Receivable) -> list[dict[str, str]]:
        return [{"code": i.code, "number": i.number} for i in obj.invoices.filter(active=True)]


class SupplyReceivableFilter(Schema):
    state: ReceivableState | None = None
    kind: ReceivableKind | None = None
    role: Annotated[str, Field(pattern=r"^(creditor|debtor)$")] | None = Field(
        None, description="企业用户：creditor 本企业为债权人 / debtor 本企业为债务人"
    )
    chain: ObjectId | None = Field(
        None, description="产业链编号：只列出债权人（凭证为持有企业）是该链成员或链主的"
    )


class SupplyConfirmIn(InputSchema):
    confirmed_amount: MoneyIn | None = Field(
        None, description="确权金额（元）；不填为全额确权，小于金额为部分确权"
    )


class SupplyDisputeIn(InputSchema):
    reason: Text(500, min_length=1) = Field(description="异议理由")  # type: ignore[valid-type]


# --- financing ------------------------------------------------------------------------


class SupplyFinancingIn(InputSchema):
    mode: FinancingMode = Field(
        description="pledge 质押 / factoring_recourse 有追索权保理 / "
        "factoring_non_recourse 无追索权保理"
    )
    advance_ratio: PercentIn = Field(description="融资比例（%），大于 0，不超过 100")
    amount: MoneyIn = Field(description="融资金额（元），不超过 backing × advance_ratio")
    backing: MoneyIn | None = Field(
        None, description="质押/转让的应收账款金额（元）；默认全部未融资确权余额"
    )
    registration_no: Text(40, min_length=1) = Field(  # type: ignore[valid-type]
        description="动产融资统一登记公示系统（中登网）登记编号"
    )
    contract_no: Text(64, min_length=1) = Field(description="融资合同编号")  # type: ignore[valid-type]
    financed_on: Day | None = Field(None, description="放款日期，默认今天")
    matures_on: Day | None = Field(None, description="到期日期，默认应收账款到期日")
    repayment_account: Text(100) = Field(  # type: ignore[valid-type]
        "", description="回款账户（政采合同必填）"
    )


class SupplyFinancingOut(Schema):
    id: int
    receivable_id: int
    contract_of_receivable: str = Field(description="应收账款的合同编号")
    creditor_name: str
    debtor_name: str
    bank_id: int
    bank_name: str
    mode: FinancingMode
    mode_label: str
    backing: Yuan
    amount: Yuan
    advance_ratio: Decimal = Field(description="融资比例（%）")
    registration_no: str
    contract_no: str
    financed_on: date
    matures_on: date
    repayment_account: str
    state: FinancingState = Field(description="active 已放款 / overdue 已逾期 / repaid 已还款")
    state_label: str
    repaid_on: date | None
    overdue_on: date | None
    created_at: datetime

    @staticmethod
    def resolve_contract_of_receivable(obj: Financing) -> str:
        return obj.receivable.contract_no

    @staticmethod
    def resolve_creditor_name(obj: Financing) -> str:
        return obj.receivable.creditor.name

    @staticmethod
    def resolve_debtor_name(obj: Financing) -> str:
        return obj.receivable.debtor_name

    @staticmethod
    def resolve_bank_name(obj: Financing) -> str:
        return obj.bank.name

    @staticmethod
    def resolve_mode_label(obj: Financing) -> str:
        return obj.get_mode_display()

    @staticmethod
    def resolve_state_label(obj: Financing) -> str:
        return obj.get_state_display()


class SupplyFinancingFilter(Schema):
    state: FinancingState | None = None
    receivable: ObjectId | None = Field(None, description="应收账款编号")
    chain: ObjectId | None = Field(
        None, description="产业链编号：只列出债权人（凭证为持有企业）是该链成员或链主的"
    )


class SupplyRepayIn(InputSchema):
    repaid_on: Day | None = Field(None, description="还款日期，默认今天，不晚于今天")


# --- vouchers -------------------------------------------------------------------------


class SupplyVoucherIssueIn(InputSchema):
    amount: MoneyIn | None = Field(None, description="凭证金额（元），默认全部未融资确权余额")
    due_on: Day | None = Field(None, description="到期日期，默认应付账款到期日")


class SupplyVoucherOut(Schema):
    id: int
    number: str
    receivable_id: int
    issuer_id: int
    issuer_name: str
    root_id: int = Field(description="所在凭证树的根节点")
    parent_id: int | None
    depth: int
    holder_id: int
    holder_name: str
    amount: Yuan
    state: VoucherState = Field(
        description="held 持有中 / transferred 已拆分转让 / discounted 已贴现 / paid 已兑付"
    )
    state_label: str
    issued_on: date
    due_on: date
    bank_id: int | None = Field(description="贴现银行")
    discount_rate: Decimal | None = Field(description="贴现年利率（%）")
    discount_proceeds: Yuan | None
    discounted_on: date | None
    paid_on: date | None

    @staticmethod
    def resolve_issuer_name(obj: Voucher) -> str:
        return obj.issuer.name

    @staticmethod
    def resolve_root_id(obj: Voucher) -> int:
        return obj.tree_root_id

    @staticmethod
    def resolve_holder_name(obj: Voucher) -> str:
        return obj.holder.name

    @staticmethod
    def resolve_state_label(obj: Voucher) -> str:
        return obj.get_state_display()


class SupplyVoucherFilter(Schema):
    state: VoucherState | None = None
    root: ObjectId | None = Field(None, description="凭证树根节点编号")
    chain: ObjectId | None = Field(
        None, description="产业链编号：只列出债权人（凭证为持有企业）是该链成员或链主的"
    )


class SupplyPartIn(InputSchema):
    holder: EnterpriseRef = Field(description="接收企业（本企业则为拆分留存）")
    amount: MoneyIn


class SupplySplitIn(InputSchema):
    parts: list[SupplyPartIn] = Field(
        min_length=1, max_length=100, description="拆分的各部分；不足原金额的余额留在本企业"
    )


class SupplyTransferIn(InputSchema):
    to: EnterpriseRef = Field(description="受让企业")
    amount: MoneyIn | None = Field(None, description="转让金额（元），默认全部")


class SupplyDiscountIn(InputSchema):
    amount: MoneyIn | None = Field(None, description="贴现金额（元），默认全部；部分贴现先拆分")
    discount_rate: PercentIn = Field(description="贴现年利率（%），按 360 天计息至到期日")
    contract_no: Text(64, min_length=1) = Field(description="贴现合同编号")  # type: ignore[valid-type]


class SupplyTreeCheckOut(Schema):
    holds: bool = Field(description="叶节点合计等于面额，且每个拆分节点的子节点合计等于其金额")
    face: Yuan = Field(description="根节点面额（元）")
    leaves: Yuan = Field(description="叶节点（持有、贴现、兑付）合计（元）")
    nodes: int
    leaf_count: int
    unbalanced: list[int] = Field(description="子节点合计不等于其金额的节点")


class SupplyVoucherTreeOut(Schema):
    root_id: int
    check: SupplyTreeCheckOut
    nodes: list[SupplyVoucherOut] = Field(description="调用者可见的节点（开立企业可见全部）")
