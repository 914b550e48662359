"""The 名录库 on top of the demo enterprises: profiles, tax credit grades,
qualifications (some expired), 重点项目, versioned lists and two years of
monthly operating data.

- Profiles, grades and qualifications for the pilot county's enterprises
  first, then the rest of 嘉兴 (capped at DETAIL_CAP, so a huge demo scale
  does not spend hours here).
- Lists: 嘉善's manufacturing and 科创 white lists, 嘉兴's 金融守信红名单 and
  嘉善's 失信黑名单 each have a first version in force last year and a second
  one in force since this year's 1 January that adds and removes members with reasons;
  a third version of the manufacturing white list is submitted and waits
  for gov_jiashan's approval. There is also a 重点项目白名单 and a 上市后备库.
  ent_user's enterprise is on the manufacturing white list now; ent2_user's
  was on it last year and was taken off in the second version.
- Operating data: 24 months (up to the month before last) for the 规上 industrial
  enterprises and both demo enterprises; a few rows are implausible
  (a negative figure, a ten-fold jump, a month entered in 元 instead of
  万元) and are flagged exactly as services.plausibility_flags flags them;
  some of those are already confirmed by the county.

Dates are placed relative to the build day (`ctx.today`; "this year" is its
year), not the clock; rows are bulk-inserted and not audited one by one, and
every number comes from this builder's own random stream. `build` accepts
the demo's DemoContext, or a bare random.Random, a scale and a build day.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from chanrong.accounts.models import GovernmentAgency, User
from chanrong.core.fieldcrypt import fill_hashes
from chanrong.registry.models import (
    Enterprise,
    EnterpriseList,
    EntryChange,
    FactSource,
    FactStatus,
    ListEntry,
    ListingBoard,
    ListSector,
    ListType,
    ListVersion,
    OperatingRecord,
    PeriodType,
    Project,
    ProjectClass,
    ProjectKind,
    ProjectStage,
    Qualification,
    QualificationKind,
    QualificationSource,
    ReviewStatus,
    StrategicEmergingCategory,
    TaxCreditGrade,
    VersionStatus,
)
from chanrong.registry.services import plausibility_flags

from ..vocabulary import JIASHAN_STREETS, JIASHAN_TOWNS
from .base import DemoContext, add_months, bulk_set, default_today

NAME = "registry"
# What this builder writes; a rebuild empties these and whatever references them.
MODELS = (
    "registry.taxcreditgrade",
    "registry.qualification",
    "registry.project",
    "registry.enterpriselist",
    "registry.listversion",
    "registry.listentry",
    "registry.operatingrecord",
)

PILOT_COUNTY = "330421"
PILOT_CITY_PREFIX = "3304"
DETAIL_CAP = 20_000
MONTHS = 24
DEMO_ENTERPRISE_NAMES = ("嘉善精工机械有限公司", "嘉善新材料科技有限公司")
WAN = Decimal(10000)
BATCH = 2000

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红云飞鹏宇浩凯"
PRODUCTS = {
    "C13": ("大米", "饲料", "植物油"),
    "C14": ("烘焙食品", "调味品", "速冻食品"),
    "C17": ("纺织面料", "家纺制品", "纱线"),
    "C18": ("服装", "针织服饰"),
    "C19": ("箱包", "皮革制品", "鞋类"),
    "C20": ("木地板", "胶合板"),
    "C21": ("实木家具", "办公家具", "软体家具"),
    "C22": ("包装纸", "纸箱"),
    "C26": ("新型涂料", "精细化工品", "功能性新材料"),
    "C29": ("塑料制品", "橡胶密封件"),
    "C30": ("玻璃制品", "陶瓷材料"),
    "C33": ("五金制品", "紧固件", "金属结构件"),
    "C34": ("数控机床", "精密减速机", "液压件", "轴承"),
    "C35": ("专用设备", "环保设备", "医疗器械"),
    "C36": ("汽车零部件", "新能源汽车电驱系统"),
    "C38": ("电机", "光伏组件", "电线电缆", "储能电池"),
    "C39": ("光电子器件", "集成电路封装", "智能终端"),
    "C40": ("智能仪表", "传感器"),
}
DEFAULT_PRODUCTS = ("工业产品", "配套零部件")
# Industry divisions' most likely 战略性新兴产业 category.
EMERGING = {
    "C26": StrategicEmergingCategory.NEW_MATERIALS,
    "C30": StrategicEmergingCategory.NEW_MATERIALS,
    "C34": StrategicEmergingCategory.HIGH_END_EQUIPMENT,
    "C35": StrategicEmergingCategory.HIGH_END_EQUIPMENT,
    "C36": StrategicEmergingCategory.NEW_ENERGY_VEHICLES,
    "C38": StrategicEmergingCategory.NEW_ENERGY,
    "C39": StrategicEmergingCategory.NEXT_GENERATION_IT,
    "C40": StrategicEmergingCategory.NEXT_GENERATION_IT,
    "C27": StrategicEmergingCategory.BIOTECHNOLOGY,
    "I65": StrategicEmergingCategory.NEXT_GENERATION_IT,
}
Q = QualificationKind
# kind, share of enterprises, issuer, years valid (None: no end).
QUALIFICATIONS = (
    (Q.HIGH_TECH, 0.14, "浙江省科学技术厅、浙江省财政厅、国家税务总局浙江省税务局", 3),
    (Q.SPECIALISED_SME, 0.08, "浙江省经济和信息化厅", 3),
    (Q.LITTLE_GIANT, 0.012, "工业和信息化部", 3),
    (Q.GREEN_FACTORY, 0.03, "浙江省经济和信息化厅", None),
    (Q.MILITARY_CIVIL, 0.005, "浙江省国防科技工业办公室", 3),
)


@dataclass
class Counts:
    values: dict[str, int]

    def add(self, key: str, n: int) -> None:
        self.values[key] = self.values.get(key, 0) + n


@dataclass(frozen=True)
class Dates:
    """The registry's dates, from the build day: "this year" (Y) is its year."""

    today: date

    @property
    def year(self) -> int:
        return self.today.year

    @property
    def grade_years(self) -> tuple[int, ...]:
        """Four years of tax credit grades; a year's grades are published in April."""
        last = self.year - 1 if self.today > date(self.year, 4, 20) else self.year - 2
        return tuple(range(last - 3, last + 1))

    @property
    def v1_from(self) -> date:
        return date(self.year - 1, 1, 1)

    @property
    def v2_from(self) -> date:
        return date(self.year, 1, 1)

    def months(self) -> list[date]:
        """MONTHS months of operating data, up to the month before last
        (reported about 40 days after the month, reviewed after 45)."""
        return [add_months(self.today, -2 - n) for n in range(MONTHS - 1, -1, -1)]


def build(ctx_or_rng, *, scale: float | None = None, today: date | None = None) -> None:
    if isinstance(ctx_or_rng, DemoContext):
        rng, scale, counts = ctx_or_rng.rng(NAME), ctx_or_rng.scale, ctx_or_rng.counts
        today = ctx_or_rng.today
    else:
        rng, scale, counts = ctx_or_rng, 1.0 if scale is None else scale, {}
        today = today or default_today()
    dates = Dates(today)
    tally = Counts(counts)
    enterprises = _chosen_enterprises()
    if not enterprises:
        return
    _profiles(rng, enterprises, dates)
    _tax_grades(rng, enterprises, tally, dates)
    _qualifications(rng, enterprises, tally, dates)
    projects = _projects(rng, enterprises, scale, tally, dates)
    _lists(rng, enterprises, projects, tally, dates)
    _operating(rng, enterprises, tally, dates)


def _chosen_enterprises() -> list[Enterprise]:
    """The demo enterprises, then 嘉善's, then the rest of 嘉兴's, by USCC."""
    demo = list(
        Enterprise.objects.filter(name__in=DEMO_ENTERPRISE_NAMES)
        .select_related("region")
        .order_by("name")
    )
    demo.sort(key=lambda e: DEMO_ENTERPRISE_NAMES.index(e.name))
    rest = list(
        Enterprise.objects.filter(region__code__startswith=PILOT_CITY_PREFIX)
        .exclude(pk__in=[e.pk for e in demo])
        .select_related("region")  # _profiles writes the district's name into the address
        .order_by("uscc")[: DETAIL_CAP * 2]
    )
    rest.sort(key=lambda e: (e.region_id != PILOT_COUNTY, e.uscc))
    return demo + rest[: max(0, DETAIL_CAP - len(demo))]


def _moment(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)


def _wan(value: float) -> Decimal:
    return (Decimal(str(round(value, 2))) * WAN).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _is_industrial(enterprise: Enterprise) -> bool:
    return enterprise.industry_id[:1] in ("B", "C", "D")


# --- profiles, grades, qualifications -------------------------------------------------------


def _profiles(rng: random.Random, enterprises: list[Enterprise], dates: Dates) -> None:
    for index, e in enumerate(enterprises):
        revenue_wan = float(e.revenue or 0) / 10000
        age = rng.randint(2, 28)
        e.founded_on = date(dates.year - 1 - age, rng.randint(1, 12), rng.randint(1, 28))
        e.registered_capital = _wan(max(50, round(revenue_wan * rng.uniform(0.05, 0.4), -1)))
        e.legal_representative = _person(rng)
        e.contact_name = _person(rng)
        e.contact_phone = f"0573-8{rng.randint(4000000, 4999999)}"
        e.contact_email = f"contact{index + 1}@example.cn"
        fill_hashes(e)  # the phone and e-mail lookup hashes (bulk_update skips pre_save)
        if e.region_id == PILOT_COUNTY:
            e.address = f"浙江省嘉兴市嘉善县{rng.choice(JIASHAN_TOWNS)}镇{rng.choice(JIASHAN_STREETS)}{rng.randint(1, 999)}号"
        else:
            e.address = f"浙江省嘉兴市{e.region.name}{rng.randint(1, 999)}号"
        products = PRODUCTS.get(e.industry_id, DEFAULT_PRODUCTS)
        e.main_products = "、".join(rng.sample(products, min(len(products), rng.randint(1, 3))))
        industrial = _is_industrial(e)
        e.rd_expense = _wan(revenue_wan * rng.uniform(0.01, 0.06)) if industrial else None
        e.is_above_scale = industrial and revenue_wan >= 2000
        if e.industry_id[:3] in EMERGING and rng.random() < 0.45:
            e.strategic_emerging_category = EMERGING[e.industry_id[:3]]
        else:
            e.strategic_emerging_category = ""
        e.chongqing_class = ""
    # The demo accounts' enterprises read well on screen.
    enterprises[0].main_products = "数控机床、精密减速机"
    enterprises[0].strategic_emerging_category = StrategicEmergingCategory.HIGH_END_EQUIPMENT
    enterprises[0].founded_on = date(2009, 6, 18)
    # Fictitious but check-digit-valid 法定代表人身份证号 and mobile contacts
    # for the demo accounts' enterprises, so a walkthrough shows masking
    # (138****…) and the audited 查看完整信息.
    for e, id_number, mobile in (
        (enterprises[0], "330421198006181235", "13857301234"),
        (enterprises[1], "330421197603024569", "13957305678"),
    ):
        e.legal_rep_id_number, e.contact_phone = id_number, mobile
        fill_hashes(e)
    bulk_set(
        Enterprise,
        enterprises,
        [
            "founded_on",
            "registered_capital",
            "legal_representative",
            "contact_name",
            "contact_phone",
            "contact_email",
            "contact_phone_hash",
            "contact_email_hash",
            "legal_rep_id_number",
            "legal_rep_id_hash",
            "address",
            "main_products",
            "rd_expense",
            "is_above_scale",
            "strategic_emerging_category",
            "chongqing_class",
        ],
        batch_size=500,
    )


def _grade(rng: random.Random, year: int, founded: date) -> str | None:
    if founded.year > year:
        return None
    if founded.year >= year - 1 and year >= 2018:
        return "M"
    roll = rng.random()
    return "A" if roll < 0.36 else "B" if roll < 0.84 else "C" if roll < 0.97 else "D"


def _tax_grades(
    rng: random.Random, enterprises: list[Enterprise], tally: Counts, dates: Dates
) -> None:
    grade_years = dates.grade_years
    rows: list[TaxCreditGrade] = []
    for e in enterprises:
        latest = None
        grade = None
        for year in grade_years:
            # Grades are sticky: most enterprises keep last year's.
            if grade in ("A", "B") and rng.random() < 0.8:
                pass
            else:
                grade = _grade(rng, year, e.founded_on)
            if grade is None:
                continue
            rows.append(TaxCreditGrade(enterprise=e, year=year, grade=grade))
            latest = (year, grade)
        if e is enterprises[0]:
            rows = [r for r in rows if r.enterprise is not e]
            rows += [TaxCreditGrade(enterprise=e, year=y, grade="A") for y in grade_years]
            latest = (grade_years[-1], "A")
        e.tax_grade_year, e.tax_grade = latest if latest else (None, "")
    TaxCreditGrade.objects.bulk_create(rows, batch_size=BATCH)
    _stamp(TaxCreditGrade, rows, lambda r: _moment(date(r.year + 1, 4, 20)))
    bulk_set(Enterprise, enterprises, ["tax_grade", "tax_grade_year"], batch_size=500)
    tally.add("tax_grades", len(rows))


def _stamp(model, rows, when) -> None:
    """created_at / updated_at as of the record's own date, not the build's."""
    for row in rows:
        row.created_at = row.updated_at = when(row)
    bulk_set(model, rows, ["created_at", "updated_at"], batch_size=500)


def _qualifications(
    rng: random.Random, enterprises: list[Enterprise], tally: Counts, dates: Dates
) -> None:
    rows: list[Qualification] = []
    y = dates.year
    for index, e in enumerate(enterprises):
        size_boost = {"large": 3.0, "medium": 2.0, "small": 1.0, "micro": 0.4}.get(e.size, 0.5)
        for kind, share, issuer, years in QUALIFICATIONS:
            wanted = index == 0 and kind in (Q.HIGH_TECH, Q.SPECIALISED_SME)
            if not wanted and rng.random() >= share * size_boost:
                continue
            start = date(rng.randint(y - 8, y - 1), rng.choice((1, 6, 9, 12)), rng.randint(1, 28))
            if wanted:
                start = date(y - 2, 12, 10) if kind == Q.HIGH_TECH else date(y - 3, 9, 1)
            while True:
                until = (
                    None
                    if years is None
                    else start.replace(year=start.year + years) - timedelta(days=1)
                )
                rows.append(_qualification(rng, e, kind, issuer, start, until))
                # About half renew when the period ends; the old row stays.
                if until is None or until.year >= y or rng.random() < 0.5:
                    break
                start = until + timedelta(days=1)
        # 科技型中小企业: evaluated every year, valid to the year's end.
        if _is_industrial(e) and e.size in ("small", "micro", "medium") and rng.random() < 0.25:
            first = rng.randint(y - 3, y)
            for year in range(first, y + 1):
                evaluated = date(year, rng.randint(3, 6), rng.randint(1, 28))
                if evaluated > dates.today:
                    continue  # this year's evaluation is still to come
                rows.append(
                    _qualification(
                        rng, e, Q.TECH_SME, "浙江省科学技术厅", evaluated, date(year, 12, 31)
                    )
                )
        if e.size in ("large", "medium") and rng.random() < 0.04:
            listed = rng.random() < 0.3
            rows.append(
                Qualification(
                    enterprise=e,
                    kind=Q.LISTED if listed else Q.LISTING_RESERVE,
                    board=rng.choice(
                        (
                            ListingBoard.MAIN,
                            ListingBoard.CHINEXT,
                            ListingBoard.STAR,
                            ListingBoard.NEEQ,
                        )
                    )
                    if listed
                    else rng.choice(("", ListingBoard.BSE, ListingBoard.CHINEXT)),
                    issuer="上海证券交易所" if listed else "嘉兴市人民政府金融工作办公室",
                    certificate_no=""
                    if listed
                    else f"JX-SSHB-{rng.randint(y - 5, y - 1)}-{rng.randint(1, 300):03d}",
                    valid_from=date(rng.randint(y - 7, y - 1), rng.randint(1, 12), 1),
                    valid_until=None,
                    source=QualificationSource.GOVERNMENT,
                )
            )
    _provenance(rows)
    _declared_figures(enterprises)
    Qualification.objects.bulk_create(rows, batch_size=BATCH)
    _stamp(Qualification, rows, lambda q: _moment(q.valid_from))
    tally.add("qualifications", len(rows))


#: Share (in 1/1000) of demo qualifications still declared by the enterprise
#: and not yet verified by its agency (issue 15); the rest came from
#: government announcements and count as verified.
DECLARED_PER_MILLE = 120


def _provenance(rows: list[Qualification]) -> None:
    """A realistic mix: most verified, about 12 % declared by the enterprise
    and waiting for its agency (企业自报，待核验). Chosen by a digest of the
    certificate, not by the builder's random stream, so adding it changed no
    other row of the world; same seed, same choice."""
    for q in rows:
        digest = zlib.crc32(f"{q.enterprise.uscc}|{q.kind}|{q.certificate_no}".encode())
        if digest % 1000 < DECLARED_PER_MILLE:
            q.status = FactStatus.DECLARED
            q.source = QualificationSource.ENTERPRISE
        else:
            q.status = FactStatus.VERIFIED


#: Share (in 1/1000) of demo enterprises whose headcount, revenue and assets
#: were last updated by the enterprise itself and wait for verification.
DECLARED_FIGURES_PER_MILLE = 50


def _declared_figures(enterprises: list[Enterprise]) -> None:
    """About 5 % of enterprises declared their latest figures themselves
    (plausible ones: no 待复核 flag); chosen by a digest of the USCC, as above."""
    declared = [
        e
        for e in enterprises
        if e.revenue is not None
        and zlib.crc32(f"figures|{e.uscc}".encode()) % 1000 < DECLARED_FIGURES_PER_MILLE
    ]
    for e in declared:
        e.figures_status = FactStatus.DECLARED
        e.figures_source = FactSource.ENTERPRISE
    bulk_set(Enterprise, declared, ["figures_status", "figures_source"], batch_size=BATCH)


def _qualification(rng, e, kind, issuer, start, until) -> Qualification:
    prefix = {"high_tech": "GR", "specialised_sme": "ZJZJTX", "little_giant": "GXB-XJR"}.get(
        kind, "ZJ"
    )
    return Qualification(
        enterprise=e,
        kind=kind,
        issuer=issuer,
        certificate_no=f"{prefix}{start.year}33{rng.randint(100000, 999999)}",
        valid_from=start,
        valid_until=until,
        source=QualificationSource.GOVERNMENT,
    )


# --- projects ------------------------------------------------------------------------------------

PROJECT_TEMPLATES = (
    ("年产{n}万台{p}技术改造项目", ProjectKind.TECH_UPGRADE, ProjectClass.UPGRADING),
    ("{p}智能化生产线技术改造项目", ProjectKind.TECH_UPGRADE, ProjectClass.INTEGRATION),
    ("{p}数字化车间建设项目", ProjectKind.TECH_UPGRADE, ProjectClass.INTEGRATION),
    ("年产{n}万件{p}新建项目", ProjectKind.NEW, ProjectClass.MADE_IN_CHINA_2025),
    ("{p}扩产项目", ProjectKind.EXPANSION, ProjectClass.UPGRADING),
    ("{p}研发中心建设项目", ProjectKind.RESEARCH, ProjectClass.MADE_IN_CHINA_2025),
    ("{p}海外生产基地项目", ProjectKind.NEW, ProjectClass.GOING_GLOBAL),
)


def _projects(
    rng, enterprises: list[Enterprise], scale: float, tally: Counts, dates: Dates
) -> list[Project]:
    industrial = [e for e in enterprises if _is_industrial(e) and e.size != "micro"]
    count = min(len(industrial), max(2, round(120 * scale)))
    owners = industrial[:1] + rng.sample(industrial[1:], max(0, count - 1))
    rows: list[Project] = []
    taken: set[tuple[int, str]] = set()
    for owner in owners:
        product = rng.choice(PRODUCTS.get(owner.industry_id, DEFAULT_PRODUCTS))
        template, kind, klass = rng.choice(PROJECT_TEMPLATES)
        name = template.format(n=rng.choice((1, 2, 3, 5, 10, 20, 50)), p=product)
        if (owner.pk, name) in taken:
            continue
        taken.add((owner.pk, name))
        revenue_wan = float(owner.revenue or 0) / 10000
        total = max(500.0, round(revenue_wan * rng.uniform(0.2, 1.5), -1))
        rows.append(
            Project(
                owner=owner,
                name=name,
                kind=kind,
                project_class=klass if rng.random() < 0.7 else "",
                total_investment=_wan(total),
                financing_need=_wan(round(total * rng.uniform(0.2, 0.6), -1))
                if rng.random() < 0.8
                else None,
                stage=rng.choice(list(ProjectStage.values)),
                region_id=owner.region_id,
                start_year=rng.randint(dates.year - 3, dates.year),
                description=f"新增{product}生产设备，提升产能与自动化水平。",
            )
        )
    Project.objects.bulk_create(rows, batch_size=BATCH)
    tally.add("projects", len(rows))
    return rows


# --- lists --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListSpec:
    agency: str
    list_type: str
    sector: str
    name: str
    region: str
    size: int  # members of the first version at scale 1 (capped by the candidates)


LIST_SPECS = (
    ListSpec("嘉善县经济和信息化局", ListType.KEY_ENTERPRISES, ListSector.MANUFACTURING, "嘉善县制造业重点企业白名单", PILOT_COUNTY, 60),
    ListSpec("嘉善县科学技术局", ListType.KEY_ENTERPRISES, ListSector.TECH_INNOVATION, "嘉善县科技创新企业白名单", PILOT_COUNTY, 40),
    ListSpec("中国人民银行嘉兴市分行", ListType.RED, ListSector.GENERAL, "嘉兴市金融守信红名单", "330400", 50),
    ListSpec("嘉善县发展和改革局", ListType.BLACK, ListSector.GENERAL, "嘉善县失信黑名单", PILOT_COUNTY, 8),
)  # fmt: skip

REASONS = {
    ListType.KEY_ENTERPRISES: ("亩均效益综合评价 A 类", "规上工业企业，连续三年营收增长", "省级专精特新中小企业", "高新技术企业，研发投入强度超过 3%"),
    ListType.RED: ("纳税信用 A 级，近三年无逾期", "银行信用评级 AA 级以上，按期还本付息"),
    ListType.BLACK: ("被列为失信被执行人", "恶意逃废银行债务", "欠缴税款逾期未缴"),
    ListType.KEY_PROJECTS: ("列入县级重点建设项目计划", "省重大产业项目"),
    ListType.LISTING_RESERVE: ("已完成股份制改造", "已与保荐机构签订辅导协议"),
}  # fmt: skip
REMOVE_REASONS = {
    ListType.KEY_ENTERPRISES: ("年度评价降为 C 类", "迁出本县", "发生重大安全生产事故"),
    ListType.RED: ("出现贷款逾期", "纳税信用等级下调"),
    ListType.BLACK: ("已履行完毕，信用修复", "失信被执行人信息已屏蔽"),
    ListType.LISTING_RESERVE: ("已上市", "终止上市计划"),
}  # fmt: skip


def _agency(name: str) -> GovernmentAgency | None:
    return GovernmentAgency.objects.filter(name=name).first()


def _lists(
    rng, enterprises: list[Enterprise], projects: list[Project], tally: Counts, dates: Dates
) -> None:
    admin = User.objects.filter(username="gov_jiashan").first()
    county = [e for e in enterprises if e.region_id == PILOT_COUNTY]
    demo_ent, demo_ent2 = enterprises[0], enterprises[1]
    # Never both: the black list's members are kept off every red and white list.
    black_pool = [e for e in county[2:] if e.tax_grade in ("C", "D")] or county[2:]
    black = rng.sample(black_pool, min(len(black_pool), 8))
    blocked = {e.pk for e in black}
    good = [e for e in county if e.pk not in blocked and e.tax_grade in ("A", "B")]
    pools = {
        ListType.KEY_ENTERPRISES: [e for e in good if _is_industrial(e)],
        ListType.RED: [e for e in enterprises if e.pk not in blocked and e.tax_grade == "A"],
        ListType.BLACK: black,
    }
    for spec in LIST_SPECS:
        agency = _agency(spec.agency)
        if agency is None:
            continue
        lst = EnterpriseList.objects.create(
            list_type=spec.list_type,
            sector=spec.sector,
            name=spec.name,
            agency=agency,
            region_id=spec.region,
        )
        pool = [e for e in pools[spec.list_type] if e not in (demo_ent, demo_ent2)]
        size = min(len(pool), spec.size)
        first = rng.sample(pool, size)
        if spec.list_type == ListType.KEY_ENTERPRISES and spec.sector == ListSector.MANUFACTURING:
            first = [demo_ent, demo_ent2, *first]
        reasons = REASONS[spec.list_type]
        v1_members = [(e, None, rng.choice(reasons)) for e in first]
        # The second version: a few leave (with the reason), a few join.
        leaving = set(
            rng.sample(range(2, len(first)), max(0, min(len(first) - 2, max(1, size // 12))))
        )
        if spec.list_type == ListType.KEY_ENTERPRISES and spec.sector == ListSector.MANUFACTURING:
            leaving.add(1)  # ent2_user's enterprise: on it last year, not this year
        rest = [e for e in pool if e not in first]
        joining = rng.sample(rest, min(len(rest), max(1, size // 8)))
        v2_changes = {
            "removed": [(first[i], None, rng.choice(REMOVE_REASONS[spec.list_type])) for i in sorted(leaving)],
            "added": [(e, None, rng.choice(reasons)) for e in joining],
        }  # fmt: skip
        _versions(lst, v1_members, v2_changes, admin, tally, dates)
        if spec.sector == ListSector.MANUFACTURING:
            _pending(rng, lst, rest, joining, admin, tally, dates)
    _project_list(rng, projects, admin, tally, dates)
    _listing_reserve(rng, enterprises, admin, tally, dates)


def _version(lst, number, status, start, until, note, admin) -> ListVersion:
    published = status == VersionStatus.PUBLISHED
    return ListVersion.objects.create(
        list=lst,
        number=number,
        status=status,
        note=note,
        effective_from=start,
        effective_until=until,
        created_by=admin,
        submitted_by=admin if status != VersionStatus.DRAFT else None,
        submitted_at=_moment(start - timedelta(days=20)) if start else None,
        approved_by=admin if published else None,
        published_at=_moment(start - timedelta(days=10)) if published else None,
    )


def _entries(version, members, change, rows: list) -> None:
    for enterprise, project, reason in members:
        rows.append(
            ListEntry(
                version=version,
                enterprise=enterprise,
                project=project,
                change=change,
                reason=reason,
            )
        )


def _versions(lst, v1_members, v2_changes, admin, tally: Counts, dates: Dates) -> None:
    v1_from, v2_from = dates.v1_from, dates.v2_from
    v1 = _version(
        lst, 1, VersionStatus.PUBLISHED, v1_from, v2_from - timedelta(days=1), "首次发布", admin
    )
    v2 = _version(lst, 2, VersionStatus.PUBLISHED, v2_from, None, "年度动态调整", admin)
    rows: list[ListEntry] = []
    _entries(v1, v1_members, EntryChange.ADDED, rows)
    removed = {(e.pk, p.pk if p else None) for e, p, _ in v2_changes["removed"]}
    kept = [m for m in v1_members if (m[0].pk, m[1].pk if m[1] else None) not in removed]
    _entries(v2, kept, EntryChange.KEPT, rows)
    _entries(v2, v2_changes["removed"], EntryChange.REMOVED, rows)
    _entries(v2, v2_changes["added"], EntryChange.ADDED, rows)
    ListEntry.objects.bulk_create(rows, batch_size=BATCH)
    tally.add("lists", 1)
    tally.add("list_versions", 2)
    tally.add("list_entries", len(rows))
    lst._v2_members = kept + v2_changes["added"]  # for a third version


def _pending(rng, lst, rest, joining, admin, tally: Counts, dates: Dates) -> None:
    """A third version of the manufacturing white list for next year,
    submitted a few days before the build day and waiting for gov_jiashan's approval."""
    y = dates.year
    v3 = _version(
        lst, 3, VersionStatus.SUBMITTED, date(y + 1, 1, 1), None, f"{y} 年度调整（拟）", admin
    )
    v3.published_at = None
    v3.submitted_at = min(v3.submitted_at, _moment(dates.today - timedelta(days=3)))
    ListVersion.objects.filter(pk=v3.pk).update(submitted_at=v3.submitted_at)
    rows: list[ListEntry] = []
    members = lst._v2_members
    _entries(v3, members, EntryChange.KEPT, rows)
    candidates = [e for e in rest if e not in joining]
    _entries(
        v3,
        [(e, None, f"{y} 年度亩均效益综合评价 A 类") for e in candidates[:3]],
        EntryChange.ADDED,
        rows,
    )
    ListEntry.objects.bulk_create(rows, batch_size=BATCH)
    tally.add("list_versions", 1)
    tally.add("list_entries", len(rows))


def _project_list(rng, projects: list[Project], admin, tally: Counts, dates: Dates) -> None:
    agency = _agency("嘉善县发展和改革局")
    county = [p for p in projects if p.region_id == PILOT_COUNTY]
    if agency is None or not county:
        return
    lst = EnterpriseList.objects.create(
        list_type=ListType.KEY_PROJECTS,
        name="嘉善县重点项目白名单",
        agency=agency,
        region_id=PILOT_COUNTY,
        description="银行可据此优先对接项目融资需求",
    )
    chosen = rng.sample(county, min(len(county), 25))
    start = date(dates.year, 3, 1)
    if start - timedelta(days=10) >= dates.today:  # not published yet this year: last year's
        start = date(dates.year - 1, 3, 1)
    v1 = _version(lst, 1, VersionStatus.PUBLISHED, start, None, "首次发布", admin)
    rows: list[ListEntry] = []
    _entries(v1, [(p.owner, p, rng.choice(REASONS[ListType.KEY_PROJECTS])) for p in chosen], EntryChange.ADDED, rows)  # fmt: skip
    ListEntry.objects.bulk_create(rows, batch_size=BATCH)
    tally.add("lists", 1)
    tally.add("list_versions", 1)
    tally.add("list_entries", len(rows))


def _listing_reserve(
    rng, enterprises: list[Enterprise], admin, tally: Counts, dates: Dates
) -> None:
    agency = _agency("浙江省经济和信息化厅")
    reserve = [
        q.enterprise
        for q in Qualification.objects.filter(
            enterprise__in=enterprises, kind=Q.LISTING_RESERVE
        ).select_related("enterprise")
    ]
    if agency is None or not reserve:
        return
    lst = EnterpriseList.objects.create(
        list_type=ListType.LISTING_RESERVE,
        name="浙江省上市后备企业库（嘉兴）",
        agency=agency,
        region_id="330400",
    )
    v1 = _version(
        lst, 1, VersionStatus.PUBLISHED, date(dates.year - 1, 7, 1), None, "首次发布", admin
    )
    rows: list[ListEntry] = []
    unique = list(dict.fromkeys(reserve))
    _entries(v1, [(e, None, rng.choice(REASONS[ListType.LISTING_RESERVE])) for e in unique], EntryChange.ADDED, rows)  # fmt: skip
    ListEntry.objects.bulk_create(rows, batch_size=BATCH)
    tally.add("lists", 1)
    tally.add("list_versions", 1)
    tally.add("list_entries", len(rows))


# --- operating data ------------------------------------------------------------------------------


SEASON = (0.78, 0.82, 1.02, 0.98, 1.0, 1.05, 0.97, 0.96, 1.02, 1.04, 1.08, 1.28)  # Jan … Dec


def _operating(rng, enterprises: list[Enterprise], tally: Counts, dates: Dates) -> None:
    reporters = enterprises[:2] + [e for e in enterprises[2:] if e.is_above_scale]
    months = dates.months()
    reviewer = User.objects.filter(username="gov_jiashan").first()
    rows: list[OperatingRecord] = []
    flagged = 0
    for index, e in enumerate(reporters):
        annual_wan = max(float(e.revenue or 0) / 10000, 600.0)
        growth = rng.uniform(-0.05, 0.15)
        margin = rng.uniform(-0.02, 0.12)
        kwh_per_wan = rng.uniform(80, 600)
        employees = e.employees or rng.randint(20, 200)
        history: dict[date, dict] = {}
        # One implausible month for about one reporter in 25 (and for ent_user's).
        # (in the second year, so that last year's figure is there to compare with).
        odd = rng.randrange(12, len(months)) if rng.random() < 0.04 else None
        if index == 0:
            odd = len(months) - 2
        for i, month in enumerate(months):
            trend = (1 + growth) ** (i / 12)
            revenue = annual_wan / 12 * SEASON[month.month - 1] * trend * rng.uniform(0.92, 1.08)
            values = {
                "output_value": _wan(revenue * rng.uniform(1.0, 1.15)),
                "revenue": _wan(revenue),
                "profit": _wan(revenue * (margin + rng.uniform(-0.03, 0.03))),
                "tax_paid": _wan(revenue * rng.uniform(0.02, 0.05)),
                "employees": max(1, round(employees * rng.uniform(0.97, 1.03))),
                "electricity_kwh": Decimal(round(revenue * kwh_per_wan)),
            }
            if i == odd:
                trick = rng.choice(("negative", "jump", "yuan")) if index else "jump"
                if trick == "negative":
                    values["tax_paid"] = -values["tax_paid"]
                elif trick == "jump":
                    values["output_value"] = values["output_value"] * 10
                else:  # typed in 元 where 万元 was asked: 10,000 times too large
                    values["revenue"] = values["revenue"] * WAN
            last = month.replace(year=month.year - 1)
            flags = plausibility_flags(values, history.get(last))
            history[month] = values
            status = ReviewStatus.FLAGGED if flags else ReviewStatus.OK
            note, reviewed_by, reviewed_at = "", None, None
            if flags and index and rng.random() < 0.4:
                status = ReviewStatus.CONFIRMED
                note = "已与企业财务负责人电话核实：当月一次性确认大额订单收入"
                reviewed_by, reviewed_at = reviewer, _moment(month + timedelta(days=45))
            flagged += status == ReviewStatus.FLAGGED
            rows.append(
                OperatingRecord(
                    enterprise=e,
                    period_type=PeriodType.MONTH,
                    period_start=month,
                    flags=[{"field": f["field"], "reason": str(f["reason"])} for f in flags],
                    review_status=status,
                    review_note=note,
                    reviewed_by=reviewed_by,
                    reviewed_at=reviewed_at,
                    **values,
                )
            )
        if len(rows) >= BATCH:
            _write_operating(rows, tally)
            rows = []
    if rows:
        _write_operating(rows, tally)
    tally.add("operating_flagged", flagged)


def _write_operating(rows: list[OperatingRecord], tally: Counts) -> None:
    OperatingRecord.objects.bulk_create(rows, batch_size=BATCH)
    _stamp(OperatingRecord, rows, lambda r: _moment(r.period_start + timedelta(days=40)))
    tally.add("operating_records", len(rows))


def digest_rows():
    """Key fields of what this builder makes (for the demo digest)."""
    yield (
        "tax_grades",
        TaxCreditGrade.objects.order_by("enterprise__uscc", "year").values_list(
            "enterprise__uscc", "year", "grade"
        ),
    )
    yield (
        "qualifications",
        Qualification.objects.order_by(
            "enterprise__uscc", "kind", "valid_from", "certificate_no"
        ).values_list(
            "enterprise__uscc", "kind", "board", "valid_from", "valid_until", "certificate_no"
        ),
    )
    yield (
        "projects",
        Project.objects.order_by("owner__uscc", "name").values_list(
            "owner__uscc", "name", "kind", "total_investment", "stage"
        ),
    )
    yield (
        "list_entries",
        ListEntry.objects.order_by(
            "version__list__name", "version__number", "enterprise__uscc", "project__name"
        ).values_list(
            "version__list__name",
            "version__number",
            "enterprise__uscc",
            "project__name",
            "change",
            "reason",
        ),
    )
    yield (
        "operating",
        OperatingRecord.objects.order_by("enterprise__uscc", "period_start").values_list(
            "enterprise__uscc", "period_start", "revenue", "output_value", "review_status"
        ),
    )
