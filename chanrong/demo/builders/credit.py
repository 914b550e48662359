"""Credit records (信用信息) in the demo: 行政处罚 from 嘉善's departments and
court cases (涉诉) from 嘉善县人民法院 and 嘉兴市中级人民法院 about 嘉善
enterprises, plus a few 社保 / 公积金 / 水电气 arrears, as the county's 大数据局
would import them; and 嘉善县经信局's two event rules (行政处罚, 涉诉), so the
risk builder's evaluation on the build day raises their alerts.

Runs after the registry builder (the enterprises) and before the risk builder
(which evaluates every rule). Deterministic by seed: its own random stream,
enterprises in USCC order, dates before the build day; bulk writes, no
per-row audit. About 330 records at scale 1.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from chanrong.registry.models import CreditKind, CreditRecord, Enterprise

from .base import DemoContext

NAME = "credit"
MODELS = ("registry.creditrecord",)
PILOT_COUNTY = "330421"

#: (issuing body, its 文号 prefix, what it punishes, amount range in 元).
PENALTY_SOURCES = (
    ("嘉善县市场监督管理局", "善市监处罚", ("未按规定公示年度报告", "产品标识不符合规定",
     "销售不合格产品", "虚假宣传"), (2_000, 80_000)),
    ("嘉兴市生态环境局嘉善分局", "嘉环（善）罚字", ("废水超标排放", "未批先建",
     "危险废物贮存不规范", "废气无组织排放"), (10_000, 500_000)),
    ("嘉善县应急管理局", "（善）应急罚", ("安全生产培训记录缺失", "未按规定设置安全警示标志"),
     (5_000, 50_000)),
    ("国家税务总局嘉善县税务局", "善税罚", ("未按期申报纳税", "未按规定开具发票"),
     (500, 20_000)),
    ("嘉善县消防救援大队", "善消行罚决字", ("消防设施未保持完好有效", "占用防火间距"),
     (5_000, 30_000)),
)  # fmt: skip
COURTS = (
    ("嘉善县人民法院", "（{y}）浙0421民初{n}号"),
    ("嘉善县人民法院", "（{y}）浙0421执{n}号"),
    ("嘉兴市中级人民法院", "（{y}）浙04民终{n}号"),
)
CAUSES = ("买卖合同纠纷", "金融借款合同纠纷", "建设工程施工合同纠纷", "劳动争议",
          "民间借贷纠纷", "承揽合同纠纷")  # fmt: skip
ARREARS = (
    (CreditKind.SOCIAL_INSURANCE, "嘉善县社会保险事业管理中心", "欠缴社会保险费"),
    (CreditKind.HOUSING_FUND, "嘉兴市住房公积金管理中心嘉善分中心", "欠缴住房公积金"),
    (CreditKind.UTILITY, "国网浙江嘉善县供电有限公司", "欠缴电费"),
)

#: 嘉善县经信局's event rules: (name, kind, severity, params).
RULES = (
    ("近一年行政处罚（罚没 1 万元以上）", "penalty_event", "yellow",
     {"within_days": 365, "min_amount": 10000}),
    ("近一年涉诉（标的 50 万元以上）", "judgment_event", "orange",
     {"within_days": 365, "min_amount": 500000}),
)  # fmt: skip


def build(ctx: DemoContext) -> None:
    from chanrong.accounts.models import GovernmentAgency, User
    from chanrong.risk.models import WarningRule  # the demo sits above every app

    rng = ctx.rng(NAME)
    enterprises = list(
        Enterprise.objects.filter(region__code__startswith=PILOT_COUNTY)
        .order_by("uscc")
        .values_list("pk", flat=True)
    )
    if not enterprises:
        return
    recorder = User.objects.filter(username="gov_jiashan").first()
    records: list[CreditRecord] = []
    serials: dict[str, int] = {}

    def serial(prefix: str) -> int:
        serials[prefix] = serials.get(prefix, rng.randint(10, 60)) + rng.randint(1, 9)
        return serials[prefix]

    def day_within(days: int):
        return ctx.today - timedelta(days=rng.randint(1, days))

    def add(enterprise_id, kind, on, source, reference, summary, amount, extra=None):
        records.append(
            CreditRecord(
                enterprise_id=enterprise_id, kind=kind, occurred_on=on, source=source,
                reference=reference, summary=summary, amount=amount, extra=extra or {},
                recorded_by=recorder,
            )
        )  # fmt: skip

    count = lambda share: min(len(enterprises), max(2, round(share * ctx.scale)))  # noqa: E731
    for enterprise_id in sorted(rng.sample(enterprises, count(180))):
        source, prefix, facts, (low, high) = rng.choice(PENALTY_SOURCES)
        on = day_within(3 * 365)
        amount = Decimal(rng.randint(low // 100, high // 100) * 100)
        add(
            enterprise_id, CreditKind.PENALTY, on, source,
            f"{prefix}〔{on.year}〕{serial(prefix + str(on.year))}号", rng.choice(facts), amount,
            {"severity": rng.choice(("一般", "一般", "较重", "严重"))},
        )  # fmt: skip
    for enterprise_id in sorted(rng.sample(enterprises, count(90))):
        court, pattern = rng.choice(COURTS)
        on = day_within(3 * 365)
        reference = pattern.format(y=on.year, n=serial(pattern + str(on.year)) * 7)
        amount = Decimal(rng.choice((8, 15, 30, 60, 120, 250, 480))) * 10000
        add(
            enterprise_id, CreditKind.JUDGMENT, on, court, reference,
            f"{rng.choice(CAUSES)}（被告）", amount,
            {"role": "被告", "status": rng.choice(("已结案", "执行中", "审理中"))},
        )  # fmt: skip
    for enterprise_id in sorted(rng.sample(enterprises, count(60))):
        kind, source, summary = rng.choice(ARREARS)
        on = day_within(2 * 365)
        amount = Decimal(rng.randint(20, 400) * 100)
        add(enterprise_id, kind, on, source, f"QJ{on:%Y%m}{serial(source):05d}", summary, amount)
    CreditRecord.objects.bulk_create(records, batch_size=ctx.batch_size)
    ctx.counts["credit_records"] = len(records)
    agency = GovernmentAgency.objects.filter(users__username="gov_jiashan").first()
    if agency is not None:
        WarningRule.objects.bulk_create(
            WarningRule(agency=agency, region_prefix=agency.region_prefix, name=name, kind=kind,
                        severity=severity, params=params, created_by=recorder)
            for name, kind, severity, params in RULES
        )  # fmt: skip


def digest_rows():
    yield (
        "credit_records",
        CreditRecord.objects.order_by(
            "enterprise__uscc", "kind", "source", "reference"
        ).values_list("enterprise__uscc", "kind", "occurred_on", "source", "reference", "amount"),
    )
