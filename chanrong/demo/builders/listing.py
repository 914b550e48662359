"""上市培育 in the demo: pipelines of 嘉善 enterprises spread over every stage
and over the years since the plan's first year (2021), a few listed or
quoted (with their stock code, proceeds and the registry Qualification of
kind LISTED), a few withdrawn, and 嘉善县经信局's 上市后备企业库 published a
year ago, now a little out of step with the pipelines (so the stats page
offers a proposal).

The demo's own enterprises get a pipeline each: `ent_user`'s 嘉善精工机械 is
at 辅导备案 for 北交所, `ent2_user`'s at 孵化 for the 专精特新专板. Dates run
forward from each pipeline's start, every stage after the one before and
none after the build day; deterministic by seed. Rows are written with
bulk_create like the other builders (no per-row audit).
"""

from __future__ import annotations

from datetime import date, timedelta

from chanrong.listing.models import (
    EXCHANGE_BOARDS,
    PATH,
    RESERVE,
    Board,
    Pipeline,
    Stage,
    StageRecord,
    final_stage,
)
from chanrong.registry.models import (
    EnterpriseList,
    EntryChange,
    FactStatus,
    ListEntry,
    ListType,
    ListVersion,
    Qualification,
    QualificationKind,
    QualificationSource,
    VersionStatus,
)

from .base import TZ, DemoContext, bulk_insert

NAME = "listing"
MODELS = ("listing.pipeline", "listing.stagerecord")

JIASHAN = "330421"
FIRST_YEAR = 2021
#: How far pipelines get: (stage index on the path, 5 = listed/quoted, -1 = withdrawn), weight.
TARGETS = ((0, 24), (1, 20), (2, 14), (3, 10), (4, 6), (5, 16), (-1, 10))
BOARDS = (
    (Board.MAIN, 10),
    (Board.CHINEXT, 16),
    (Board.STAR, 10),
    (Board.BSE, 16),
    (Board.NEEQ, 22),
    (Board.REGIONAL, 14),
    (Board.REGIONAL_SME, 12),
)
#: Days from reaching a stage to reaching the next (low, high).
GAPS = ((90, 300), (120, 300), (90, 240), (60, 240), (20, 60))
CODE_PREFIX = {
    Board.MAIN: "603",
    Board.CHINEXT: "301",
    Board.STAR: "688",
    Board.BSE: "920",
    Board.NEEQ: "874",
    Board.REGIONAL: "8",
    Board.REGIONAL_SME: "8",
}
ISSUERS = {
    Board.MAIN: "上海证券交易所",
    Board.CHINEXT: "深圳证券交易所",
    Board.STAR: "上海证券交易所",
    Board.BSE: "北京证券交易所",
    Board.NEEQ: "全国中小企业股份转让系统",
    Board.REGIONAL: "浙江股权交易中心",
    Board.REGIONAL_SME: "浙江股权交易中心",
}
WITHDRAW_REASONS = (
    "企业主动撤回上市申请，调整募投项目后择机再报",
    "业绩下滑，暂缓上市计划",
    "被并购重组，终止独立上市",
)


def _document_no(stage: str, day: date, n: int) -> str:
    return {
        Stage.INCUBATION: f"嘉善上市办〔{day.year}〕{n}号",
        Stage.SHAREHOLDING: f"股改备案〔{day.year}〕{n}号",
        Stage.TUTORING: f"浙证监辅导备案〔{day.year}〕{n}号",
        Stage.FILING: f"受理〔{day.year}〕{n:04d}号",
        Stage.REVIEW: f"证监许可〔{day.year}〕{n}号",
        Stage.LISTED: f"上市公告〔{day.year}〕{n}号",
        Stage.QUOTED: f"挂牌函〔{day.year}〕{n}号",
    }[stage]


def _pick(rng, table):
    items, weights = zip(*table, strict=True)
    return rng.choices(items, weights=weights, k=1)[0]


def build(ctx: DemoContext) -> None:
    from chanrong.registry.models import Enterprise

    agencies = ctx.refs.get("agencies", {})
    county, csrc_local, csrc = (
        agencies.get("js_industry"),
        agencies.get("zj_csrc"),
        agencies.get("csrc"),
    )
    if county is None or csrc_local is None or csrc is None:
        return
    rng = ctx.rng(NAME)
    today = ctx.today
    start_floor = date(FIRST_YEAR, 1, 1)
    demo = list(ctx.refs.get("demo_enterprises", []))
    others = list(
        Enterprise.objects.filter(region_id=JIASHAN, size__in=("large", "medium", "small"))
        .exclude(pk__in=[e.pk for e in demo])
        .order_by("uscc")
    )
    wanted = max(12, round(80 * ctx.scale))
    chosen = rng.sample(others, min(wanted, len(others)))
    plans: list[tuple] = []  # (enterprise, board, target)
    if len(demo) >= 2:
        plans += [(demo[0], Board.BSE, 2), (demo[1], Board.REGIONAL_SME, 0)]
    # The first three show a listing, a withdrawal and a 股改 at any scale.
    plans += [
        (e, _pick(rng, BOARDS), (5, -1, 1)[i] if i < 3 else _pick(rng, TARGETS))
        for i, e in enumerate(chosen)
    ]

    pipelines, records, qualifications = [], [], []
    serial = 0
    for enterprise, board, target in plans:
        steps = len(PATH) if target in (5, -1) else target
        gaps = [rng.randint(*GAPS[i]) for i in range(steps)]
        span = sum(gaps) + (rng.randint(30, 200) if target == -1 else 0)
        room = (today - start_floor).days - span
        if room < 0:
            gaps = [max(1, g * (today - start_floor).days // (span + 1)) for g in gaps]
            room = 0
        day = today - timedelta(days=span + rng.randint(0, room)) if room else start_floor
        day = max(day, start_floor)
        reached = [day]
        for gap in gaps:
            day = min(day + timedelta(days=gap), today)
            reached.append(day)
        stages = list(PATH[: len(reached)])
        if target == 5:
            stages.append(final_stage(board))
        else:
            reached = reached[: len(stages)]
        pipeline = Pipeline(enterprise=enterprise, board=board, agency=county, stage=stages[-1])
        if target == -1:
            # Withdrawn after a random stage on the way.
            keep = rng.randint(1, len(PATH))
            stages, reached = stages[:keep], reached[:keep]
            pipeline.stage = Stage.WITHDRAWN
            pipeline.withdrawn_on = min(reached[-1] + timedelta(days=rng.randint(30, 200)), today)
            pipeline.withdraw_reason = rng.choice(WITHDRAW_REASONS)
        if stages[-1] in (Stage.LISTED, Stage.QUOTED):
            serial += 1
            prefix = CODE_PREFIX[board]
            pipeline.stock_code = (
                prefix + f"{rng.randint(0, 10 ** (6 - len(prefix)) - 1):0{6 - len(prefix)}d}"
            )
            pipeline.listed_on = reached[-1]
            if board in EXCHANGE_BOARDS:
                pipeline.proceeds = rng.randint(20000, 120000) * 10000
            elif board == Board.NEEQ and rng.random() < 0.5:
                pipeline.proceeds = rng.randint(500, 5000) * 10000
            qualifications.append(
                Qualification(
                    enterprise=enterprise,
                    kind=QualificationKind.LISTED,
                    board="regional" if board == Board.REGIONAL_SME else board,
                    issuer=ISSUERS[board],
                    certificate_no=pipeline.stock_code,
                    valid_from=pipeline.listed_on,
                    source=QualificationSource.GOVERNMENT,
                    status=FactStatus.VERIFIED,
                    note="上市培育进程",
                )
            )
        pipelines.append(pipeline)
        for stage, on in zip(stages, reached, strict=True):
            agency = {
                Stage.TUTORING: csrc_local,
                Stage.FILING: csrc,
                Stage.REVIEW: csrc,
            }.get(stage, county)
            records.append(
                (
                    pipeline,
                    StageRecord(
                        stage=stage,
                        reached_on=on,
                        agency=agency,
                        document_no=_document_no(stage, on, rng.randint(1, 300)),
                    ),
                )
            )
    bulk_insert(ctx, Pipeline, pipelines, "listing_pipelines")
    rows = []
    for pipeline, record in records:
        record.pipeline = pipeline
        rows.append(record)
    bulk_insert(ctx, StageRecord, rows, "listing_stage_records")
    bulk_insert(ctx, Qualification, qualifications, "qualifications")
    _reserve_list(ctx, rng, county, pipelines)


def _reserve_list(ctx: DemoContext, rng, county, pipelines: list[Pipeline]) -> None:
    """嘉善县上市后备企业库, v1 published a year ago: most of today's reserve,
    and one enterprise listed since (so a proposal has both kinds of change)."""
    from datetime import datetime, time

    from chanrong.accounts.models import User

    admin = User.objects.filter(username="gov_jiashan").first()
    reserve = [p.enterprise for p in pipelines if p.stage in RESERVE]
    listed = [p.enterprise for p in pipelines if p.stage in (Stage.LISTED, Stage.QUOTED)]
    members = list(dict.fromkeys([e for e in reserve if rng.random() < 0.7] + listed[:1]))
    if not members:
        return
    lst = EnterpriseList.objects.create(
        list_type=ListType.LISTING_RESERVE,
        name="嘉善县上市后备企业库",
        agency=county,
        region_id=JIASHAN,
        description="股改、辅导备案、申报、审核/注册阶段的上市培育企业",
        created_by=admin,
    )
    start = ctx.today - timedelta(days=365)
    version = ListVersion.objects.create(
        list=lst,
        number=1,
        status=VersionStatus.PUBLISHED,
        note="首次发布",
        effective_from=start,
        created_by=admin,
        submitted_by=admin,
        approved_by=admin,
        published_at=datetime.combine(start - timedelta(days=5), time(10), tzinfo=TZ),
    )
    bulk_insert(
        ctx,
        ListEntry,
        [
            ListEntry(
                version=version,
                enterprise=e,
                change=EntryChange.ADDED,
                reason="上市培育：已完成股份制改造",
                created_by=admin,
            )
            for e in members
        ],
        "list_entries",
    )
