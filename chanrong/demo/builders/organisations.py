"""Government agencies and financial institutions (with their branches).

The pilot county is 嘉善县 (330421), in 嘉兴市 (330400), 浙江省 (330000).
Agencies sit at the four levels that steer a pilot (国家, 省, 市, 县) with
the functions the seed documents name (工信, 财政, 人行, 金融监管, 证监 …).
Each institution has the branch network an enterprise in 嘉善 would meet:
national banks a 浙江省分行, a 嘉兴分行 and a 嘉善支行; provincial and city
banks a 嘉兴分行 and/or a 嘉善支行; local ones offices in the county's towns.
"""

from __future__ import annotations

from dataclasses import dataclass

from chanrong.accounts.models import AgencyFunction, AgencyLevel, GovernmentAgency
from chanrong.finance.models import Branch, BranchLevel, FinancialInstitution, InstitutionKind

from ..vocabulary import HANGZHOU_STREETS, JIASHAN_STREETS, JIASHAN_TOWNS, JIAXING_STREETS
from .base import DemoContext

NAME = "organisations"
# What this builder writes; a rebuild empties these and whatever references them.
MODELS = ("accounts.governmentagency", "finance.financialinstitution", "finance.branch")

ZHEJIANG = "330000"
JIAXING = "330400"
JIASHAN = "330421"

N, P, M, C = AgencyLevel.NATIONAL, AgencyLevel.PROVINCIAL, AgencyLevel.MUNICIPAL, AgencyLevel.COUNTY
F = AgencyFunction

# (key, name, level, function, region); the key is how builders refer to it.
AGENCIES: tuple[tuple[str, str, str, str, str | None], ...] = (
    ("miit", "工业和信息化部", N, F.INDUSTRY, None),
    ("mof", "财政部", N, F.FINANCE, None),
    ("pboc", "中国人民银行", N, F.PBOC, None),
    ("nfra", "国家金融监督管理总局", N, F.FINANCIAL_REGULATION, None),
    ("csrc", "中国证券监督管理委员会", N, F.SECURITIES, None),
    ("ndrc", "国家发展和改革委员会", N, F.DEVELOPMENT, None),
    ("most", "科学技术部", N, F.SCIENCE, None),
    ("zj_industry", "浙江省经济和信息化厅", P, F.INDUSTRY, ZHEJIANG),
    ("zj_finance", "浙江省财政厅", P, F.FINANCE, ZHEJIANG),
    ("zj_pboc", "中国人民银行浙江省分行", P, F.PBOC, ZHEJIANG),
    ("zj_nfra", "国家金融监督管理总局浙江监管局", P, F.FINANCIAL_REGULATION, ZHEJIANG),
    ("zj_csrc", "中国证券监督管理委员会浙江监管局", P, F.SECURITIES, ZHEJIANG),
    ("zj_development", "浙江省发展和改革委员会", P, F.DEVELOPMENT, ZHEJIANG),
    ("zj_science", "浙江省科学技术厅", P, F.SCIENCE, ZHEJIANG),
    ("jx_industry", "嘉兴市经济和信息化局", M, F.INDUSTRY, JIAXING),
    ("jx_finance", "嘉兴市财政局", M, F.FINANCE, JIAXING),
    ("jx_pboc", "中国人民银行嘉兴市分行", M, F.PBOC, JIAXING),
    ("jx_nfra", "国家金融监督管理总局嘉兴监管分局", M, F.FINANCIAL_REGULATION, JIAXING),
    ("jx_development", "嘉兴市发展和改革委员会", M, F.DEVELOPMENT, JIAXING),
    ("jx_science", "嘉兴市科学技术局", M, F.SCIENCE, JIAXING),
    ("js_industry", "嘉善县经济和信息化局", C, F.INDUSTRY, JIASHAN),
    ("js_finance", "嘉善县财政局", C, F.FINANCE, JIASHAN),
    ("js_nfra", "国家金融监督管理总局嘉善监管支局", C, F.FINANCIAL_REGULATION, JIASHAN),
    ("js_development", "嘉善县发展和改革局", C, F.DEVELOPMENT, JIASHAN),
    ("js_science", "嘉善县科学技术局", C, F.SCIENCE, JIASHAN),
)


@dataclass(frozen=True)
class InstitutionSpec:
    key: str
    name: str
    short_name: str
    kind: str
    hq_region: str
    # Which branches: "national" 省/市/县, "provincial" 市/县, "city" 县,
    # "local" several offices in the county's towns, "regional" 省/市 only,
    # "office" one 嘉兴 business office (a lessor based in the province).
    network: str


K = InstitutionKind
INSTITUTIONS: tuple[InstitutionSpec, ...] = (
    InstitutionSpec("icbc", "中国工商银行股份有限公司", "工商银行", K.BANK, "110102", "national"),
    InstitutionSpec("abc", "中国农业银行股份有限公司", "农业银行", K.BANK, "110101", "national"),
    InstitutionSpec("boc", "中国银行股份有限公司", "中国银行", K.BANK, "110102", "national"),
    InstitutionSpec("ccb", "中国建设银行股份有限公司", "建设银行", K.BANK, "110102", "national"),
    InstitutionSpec("bocom", "交通银行股份有限公司", "交通银行", K.BANK, "310115", "national"),
    InstitutionSpec(
        "psbc", "中国邮政储蓄银行股份有限公司", "邮储银行", K.BANK, "110102", "national"
    ),
    InstitutionSpec("adbc", "中国农业发展银行", "农发行", K.BANK, "110102", "national"),
    InstitutionSpec("cdb", "国家开发银行", "国开行", K.BANK, "110102", "regional"),
    InstitutionSpec("cmb", "招商银行股份有限公司", "招商银行", K.BANK, "440304", "provincial"),
    InstitutionSpec("cib", "兴业银行股份有限公司", "兴业银行", K.BANK, "350102", "provincial"),
    InstitutionSpec("czb", "浙商银行股份有限公司", "浙商银行", K.BANK, "330102", "provincial"),
    InstitutionSpec("hzb", "杭州银行股份有限公司", "杭州银行", K.BANK, "330102", "provincial"),
    InstitutionSpec("nbb", "宁波银行股份有限公司", "宁波银行", K.BANK, "330212", "provincial"),
    InstitutionSpec("jxb", "嘉兴银行股份有限公司", "嘉兴银行", K.BANK, "330402", "city"),
    InstitutionSpec(
        "jsrcb",
        "浙江嘉善农村商业银行股份有限公司",
        "嘉善农商行",
        K.BANK,
        JIASHAN,
        "local",
    ),
    InstitutionSpec(
        "jsvb", "嘉善禾源村镇银行股份有限公司", "禾源村镇银行", K.BANK, JIASHAN, "local"
    ),
    InstitutionSpec(
        "zjguar", "浙江省融资担保有限公司", "浙江省担保", K.GUARANTEE, "330106", "provincial"
    ),
    InstitutionSpec("jxguar", "嘉兴市融资担保有限公司", "嘉兴担保", K.GUARANTEE, "330402", "city"),
    InstitutionSpec("jsguar", "嘉善县融资担保有限公司", "嘉善担保", K.GUARANTEE, JIASHAN, "local"),
    InstitutionSpec(
        "picc", "中国人民财产保险股份有限公司", "人保财险", K.INSURER, "110105", "national"
    ),
    InstitutionSpec(
        "sinosure", "中国出口信用保险公司", "中国信保", K.INSURER, "110102", "regional"
    ),
    InstitutionSpec(
        "zyleasing",
        "浙江浙银金融租赁股份有限公司",
        "浙银金租",
        K.LEASING,
        "330902",
        "office",
    ),
    InstitutionSpec(
        "icbcleasing", "工银金融租赁有限公司", "工银金租", K.LEASING, "120116", "regional"
    ),
    InstitutionSpec(
        "czsec", "浙商证券股份有限公司", "浙商证券", K.SECURITIES, "330102", "provincial"
    ),
    InstitutionSpec(
        "ctsec", "财通证券股份有限公司", "财通证券", K.SECURITIES, "330106", "provincial"
    ),
    InstitutionSpec("zjfund", "浙江省产业基金有限公司", "浙江产业基金", K.FUND, "330102", "city"),
    InstitutionSpec(
        "jsfund", "嘉善县产业投资基金有限公司", "嘉善产业基金", K.FUND, JIASHAN, "local"
    ),
    InstitutionSpec(
        "jsmicro",
        "嘉善县汇鑫小额贷款股份有限公司",
        "汇鑫小贷",
        K.MICRO_LOAN,
        JIASHAN,
        "local",
    ),
    InstitutionSpec(
        "xzmicro",
        "嘉兴市秀洲区禾丰小额贷款股份有限公司",
        "禾丰小贷",
        K.MICRO_LOAN,
        "330411",
        "city",
    ),
    InstitutionSpec(
        "jxrcb",
        "浙江嘉兴农村商业银行股份有限公司",
        "嘉兴农商行",
        K.BANK,
        "330402",
        "city",
    ),
)

# Branch name suffixes by institution kind and level.
_SUFFIXES = {
    K.BANK: ("浙江省分行", "嘉兴分行", "嘉善支行"),
    K.INSURER: ("浙江省分公司", "嘉兴市分公司", "嘉善支公司"),
    K.SECURITIES: ("浙江分公司", "嘉兴分公司", "嘉善证券营业部"),
}
_DEFAULT_SUFFIXES = ("浙江分公司", "嘉兴分公司", "嘉善业务部")


def build(ctx: DemoContext) -> None:
    rng = ctx.rng(NAME)
    agencies = [
        GovernmentAgency(name=name, level=level, function=function, region_id=region)
        for _key, name, level, function, region in AGENCIES
    ]
    GovernmentAgency.objects.bulk_create(agencies)
    ctx.refs["agencies"] = {
        spec[0]: agency for spec, agency in zip(AGENCIES, agencies, strict=True)
    }
    ctx.counts["agencies"] = len(agencies)

    institutions = [
        FinancialInstitution(
            name=spec.name,
            short_name=spec.short_name,
            kind=spec.kind,
            uscc=ctx.new_uscc(rng, spec.hq_region),
            region_id=spec.hq_region,
        )
        for spec in INSTITUTIONS
    ]
    FinancialInstitution.objects.bulk_create(institutions)
    by_key = {spec.key: inst for spec, inst in zip(INSTITUTIONS, institutions, strict=True)}
    ctx.refs["institutions"] = by_key
    ctx.counts["institutions"] = len(institutions)

    county_branches: dict[str, list[Branch]] = {}
    total = 0
    for spec in INSTITUTIONS:
        branches = _branch_network(rng, spec, by_key[spec.key])
        total += len(branches)
        county_branches[spec.key] = [b for b in branches if b.region_id == JIASHAN]
    ctx.refs["county_branches"] = county_branches
    ctx.counts["branches"] = total


def _branch_network(rng, spec: InstitutionSpec, institution) -> list[Branch]:
    """Create one institution's branches, parents first (parent is a FK)."""
    provincial_suffix, city_suffix, county_suffix = _SUFFIXES.get(spec.kind, _DEFAULT_SUFFIXES)
    made: list[Branch] = []

    def add(name: str, level: str, region: str, parent: Branch | None) -> Branch:
        branch = Branch.objects.create(
            institution=institution,
            parent=parent,
            name=name,
            level=level,
            region_id=region,
            address=_address(rng, region),
            phone=_phone(rng, region),
        )
        made.append(branch)
        return branch

    base = spec.name
    province = city = None
    if spec.network in ("national", "regional"):
        province = add(base + provincial_suffix, BranchLevel.PROVINCIAL, ZHEJIANG, None)
    if spec.network in ("national", "regional", "provincial"):
        city = add(base + city_suffix, BranchLevel.MUNICIPAL, JIAXING, province)
    if spec.network in ("national", "provincial", "city"):
        add(base + county_suffix, BranchLevel.SUB, JIASHAN, city)
    if spec.network == "office":
        add(spec.short_name + "嘉兴业务部", BranchLevel.MUNICIPAL, JIAXING, None)
    if spec.network == "local":
        head = add(spec.short_name + "营业部", BranchLevel.SUB, JIASHAN, None)
        towns = JIASHAN_TOWNS if spec.kind == K.BANK else JIASHAN_TOWNS[:2]
        office = "支行" if spec.kind == K.BANK else "业务部"
        for town in towns:
            add(f"{spec.short_name}{town}{office}", BranchLevel.SUB, JIASHAN, head)
    return made


def _address(rng, region: str) -> str:
    number = rng.randint(1, 999)
    if region == JIASHAN:
        return f"浙江省嘉兴市嘉善县{rng.choice(JIASHAN_STREETS)}{number}号"
    if region == JIAXING:
        return f"浙江省嘉兴市南湖区{rng.choice(JIAXING_STREETS)}{number}号"
    return f"浙江省杭州市上城区{rng.choice(HANGZHOU_STREETS)}{number}号"


def _phone(rng, region: str) -> str:
    if region == JIASHAN:
        return f"0573-84{rng.randint(0, 999999):06d}"
    if region == JIAXING:
        return f"0573-82{rng.randint(0, 999999):06d}"
    return f"0571-87{rng.randint(0, 999999):06d}"
