"""Demo 绿色融资企业（项目）库 applications (issue 18), after `indicators`.

The catalogue (绿色产业指导目录 2019年版) is reference data loaded by the
green app's migration; loaded here too if missing. `indicators` publishes
嘉善县绿色融资企业（项目）库 v1 (2020-07-01) and v2 (2022-07-01); this builder
gives each of their members the application that put it there (approved,
`added_in` the version it joined; those v2 removed are "removed" with the
reason), then a third version published a month before the build day with
a dozen newer approvals, and the queue a reviewer meets today: applications
submitted and waiting, approved but not yet drafted into a version,
rejected with the reason, withdrawn by the enterprise — projects among
them. A second list, 嘉兴市绿色融资企业（项目）库 kept by 嘉兴市经信局,
holds enterprises of the city's other districts. The demo enterprises:
ent_user's is in the library, ent2_user's has an application waiting.

Written with bulk_create (no per-row audit); random numbers from this
builder's own stream; nothing dated after the build day.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from chanrong.accounts.models import User
from chanrong.green.models import (
    CatalogueEdition,
    CatalogueItem,
    LibraryApplication,
    LibraryEvidence,
    LibraryStatus,
)
from chanrong.green.services.catalogue import load_edition
from chanrong.registry.models import (
    Enterprise,
    EnterpriseList,
    EntryChange,
    ListEntry,
    ListType,
    ListVersion,
    Project,
    VersionStatus,
)

from .base import TZ, DemoContext, bulk_insert

NAME = "green_library"
MODELS = ("green.libraryapplication", "green.libraryevidence")

JIASHAN = "330421"
JIAXING = "3304"

#: Items a manufacturing county's enterprises apply under, with weights.
ITEMS = (
    ("1.1.8", 4),
    ("1.1.13", 3),
    ("1.1.14", 3),
    ("1.2.1", 2),
    ("1.2.2", 2),
    ("1.3.6", 2),
    ("1.4.1", 3),
    ("1.5.3", 2),
    ("2.3.3", 2),
    ("2.4.1", 2),
    ("3.1.2", 4),
    ("3.2.2", 4),
    ("3.4.2", 2),
    ("5.1.2", 1),
    ("6.2.2", 1),
)
PROJECT_ITEMS = ("3.2.2", "1.5.3", "5.1.5", "3.4.2", "2.4.1")
EVIDENCE = (
    ("固定资产投资项目节能审查意见", "善发改能审〔{y}〕{n}号"),
    ("建设项目环境影响报告表批复", "嘉环善建〔{y}〕{n}号"),
    ("绿色工厂名单公告", "浙经信绿色〔{y}〕{n}号"),
    ("节能产品认证证书", "CQC{y}0{n}"),
    ("合同能源管理项目合同", "EMC-{y}-{n}"),
)
DESCRIPTIONS = (
    "主营产品属目录所列高效节能装备，近三年能效指标优于国家一级能效标准。",
    "建设屋顶分布式光伏，年发电量约 {n} 万千瓦时，全部自用。",
    "实施余热回收和电机系统节能改造，年节约标准煤约 {n} 吨。",
    "生产废水经处理后回用，回用率 {n}%。",
    "为园区企业提供合同能源管理服务，已签约项目 {n} 个。",
)
REJECT_NOTES = (
    "所选目录条目与主营业务不符，请按实际业务重新申请",
    "未提供节能审查意见等佐证材料原件编号",
    "项目尚未取得环评批复",
)
WITHDRAW_REASONS = ("项目暂缓实施", "企业主营业务调整", "重复申请，撤回本条")


def _at(day, hour=10):
    return datetime.combine(day, time(hour), tzinfo=TZ)


def build(ctx: DemoContext) -> None:
    if not CatalogueEdition.objects.filter(code="2019").exists():
        load_edition()
    green = (
        EnterpriseList.objects.filter(list_type=ListType.GREEN, region_id=JIASHAN)
        .select_related("agency")
        .first()
    )
    if green is None:
        return
    rng = ctx.rng(NAME)
    today = ctx.today
    items = {i.code: i for i in CatalogueItem.objects.filter(edition__code="2019")}
    tops = {i.code: i for i in items.values() if i.level == 1}
    reviewer = User.objects.filter(username="gov_jiashan").first()
    codes, weights = zip(*ITEMS, strict=True)
    rows: list[LibraryApplication] = []
    evidence: list[tuple[int, int, object]] = []  # (row index, how many, day)

    def add(lst, enterprise_id, status, submitted, *, project=None, item=None, **extra):
        item = items[item or rng.choices(codes, weights)[0]]
        row = LibraryApplication(
            green_list=lst,
            enterprise_id=enterprise_id,
            project=project,
            item=item,
            category=tops[item.top_code],
            description=rng.choice(DESCRIPTIONS).format(n=rng.randint(12, 480)),
            status=status,
            submitted_at=_at(submitted),
            **extra,
        )
        if status != LibraryStatus.SUBMITTED and "reviewed_at" not in extra:
            row.reviewed_at = _at(min(submitted + timedelta(days=rng.randint(5, 25)), today), 15)
            row.reviewed_by = reviewer if lst is green else None
        rows.append(row)
        evidence.append((len(rows) - 1, rng.randint(1, 3), submitted))
        return row

    versions = list(ListVersion.objects.filter(list=green).order_by("number"))
    joined: dict[int, ListVersion] = {}
    removed: dict[int, ListVersion] = {}
    for version in versions:
        for entry in version.entries.filter(project__isnull=True).order_by("pk"):
            if entry.change == EntryChange.REMOVED:
                removed[entry.enterprise_id] = version
            else:
                joined.setdefault(entry.enterprise_id, version)
    for enterprise_id, version in sorted(joined.items()):
        submitted = version.effective_from - timedelta(days=rng.randint(40, 120))
        if enterprise_id in removed:
            out = removed[enterprise_id]
            add(
                green,
                enterprise_id,
                LibraryStatus.REMOVED,
                submitted,
                added_in=version,
                removed_in=out,
                closed_reason="不再符合入库条件",
                closed_at=_at(out.effective_from - timedelta(days=20)),
            )
        else:
            add(green, enterprise_id, LibraryStatus.APPROVED, submitted, added_in=version)

    # The newer ones: Jiashan enterprises not yet in the list, the demo's first.
    demo = [e.pk for e in ctx.refs.get("demo_enterprises", [])]
    others = list(
        Enterprise.objects.filter(region_id=JIASHAN)
        .exclude(pk__in=list(joined) + demo)
        .order_by("uscc")
        .values_list("pk", flat=True)[:400]
    )
    n = max(24, round(40 * ctx.scale))
    first = [pk for pk in demo[:1] if pk not in joined]
    fresh = first + rng.sample(others, min(n, len(others)))
    projects = {
        p.owner_id: p for p in Project.objects.filter(owner_id__in=fresh + demo[1:2]).order_by("pk")
    }
    v3_from = today - timedelta(days=30)
    in_v3: list[int] = []
    for i, enterprise_id in enumerate(fresh):
        project = projects.get(enterprise_id) if rng.random() < 0.5 else None
        item = rng.choice(PROJECT_ITEMS) if project else None
        if i % 4 == 0:  # listed in v3
            submitted = v3_from - timedelta(days=rng.randint(30, 90))
            in_v3.append(len(rows))
            add(green, enterprise_id, LibraryStatus.APPROVED, submitted, project=project, item=item)
            continue
        submitted = today - timedelta(days=rng.randint(1, 25))
        kind = i % 8  # 1, 5 waiting; 2, 6 approved, not yet drafted; 3 rejected; 7 withdrawn
        if kind in (1, 5):
            add(
                green, enterprise_id, LibraryStatus.SUBMITTED, submitted, project=project, item=item
            )
        elif kind in (2, 6):
            add(green, enterprise_id, LibraryStatus.APPROVED, submitted, project=project, item=item)
        elif kind == 3:
            add(
                green,
                enterprise_id,
                LibraryStatus.REJECTED,
                submitted,
                project=project,
                item=item,
                review_note=rng.choice(REJECT_NOTES),
            )
        else:
            add(
                green,
                enterprise_id,
                LibraryStatus.WITHDRAWN,
                submitted,
                project=project,
                item=item,
                closed_reason=rng.choice(WITHDRAW_REASONS),
                closed_at=_at(min(submitted + timedelta(days=3), today), 16),
            )
    if len(demo) > 1 and (demo[1] in projects or demo[1] not in joined):
        # ent2_user's application waits for review.
        add(
            green,
            demo[1],
            LibraryStatus.SUBMITTED,
            today - timedelta(days=2),
            project=projects.get(demo[1]),
            item="3.2.2",
        )

    # v3: v2's members kept, the new approvals added (published a month ago).
    last = versions[-1] if versions else None
    v3 = ListVersion.objects.create(
        list=green,
        number=(last.number + 1) if last else 1,
        status=VersionStatus.DRAFT,
        note="绿色库入库审核结果",
        created_by=reviewer,
    )
    entries = []
    if last is not None:
        entries = [
            ListEntry(
                version=v3,
                enterprise_id=e.enterprise_id,
                project_id=e.project_id,
                change=EntryChange.KEPT,
                reason=e.reason,
            )
            for e in last.entries.members().order_by("pk")
        ]
    for index in in_v3:
        row = rows[index]
        row.added_in = v3
        entries.append(
            ListEntry(
                version=v3,
                enterprise_id=row.enterprise_id,
                project=row.project,
                change=EntryChange.ADDED,
                reason=f"入库申请：{row.item}",
                created_by=reviewer,
            )
        )
    bulk_insert(ctx, ListEntry, entries, "green_list_entries")
    if last is not None:
        ListVersion.objects.filter(pk=last.pk).update(effective_until=v3_from - timedelta(days=1))
    ListVersion.objects.filter(pk=v3.pk).update(
        status=VersionStatus.PUBLISHED,
        effective_from=v3_from,
        submitted_by=reviewer,
        submitted_at=_at(v3_from - timedelta(days=7)),
        approved_by=reviewer,
        published_at=_at(v3_from - timedelta(days=3)),
    )
    ctx.counts["green_list_versions"] = ctx.counts.get("green_list_versions", 0) + 1

    _jiaxing(ctx, rng, add)
    bulk_insert(ctx, LibraryApplication, rows, "green_library_applications")
    papers = []
    for index, count, day in evidence:
        for k in range(count):
            name, number = EVIDENCE[(index + k) % len(EVIDENCE)]
            papers.append(
                LibraryEvidence(
                    application=rows[index],
                    name=name,
                    number=number.format(y=day.year, n=rng.randint(3, 220)),
                    issued_on=day - timedelta(days=rng.randint(10, 300)),
                )
            )
    bulk_insert(ctx, LibraryEvidence, papers, "green_library_evidence")


def _jiaxing(ctx: DemoContext, rng, add) -> None:
    """嘉兴市绿色融资企业（项目）库, v1 published 200 days ago, with the
    applications of enterprises in the city's other districts."""
    agency = ctx.refs.get("agencies", {}).get("jx_industry")
    if agency is None:
        return
    enterprises = list(
        Enterprise.objects.filter(region__code__startswith=JIAXING)
        .exclude(region_id=JIASHAN)
        .order_by("uscc")
        .values_list("pk", flat=True)[:200]
    )
    if not enterprises:
        return
    lst = EnterpriseList.objects.create(
        list_type=ListType.GREEN,
        name="嘉兴市绿色融资企业（项目）库",
        agency=agency,
        region_id="330400",
        description="演示数据：按《绿色产业指导目录（2019年版）》入库",
    )
    start = ctx.today - timedelta(days=200)
    version = ListVersion.objects.create(list=lst, number=1, note="首批入库")
    chosen = rng.sample(enterprises, min(max(8, round(14 * ctx.scale)), len(enterprises)))
    entries = []
    for i, enterprise_id in enumerate(chosen):
        submitted = start - timedelta(days=rng.randint(30, 90))
        if i % 4 == 3:
            add(lst, enterprise_id, LibraryStatus.SUBMITTED, ctx.today - timedelta(days=i))
            continue
        add(lst, enterprise_id, LibraryStatus.APPROVED, submitted, added_in=version)
        entries.append(
            ListEntry(
                version=version,
                enterprise_id=enterprise_id,
                change=EntryChange.ADDED,
                reason="入库申请审核通过",
            )
        )
    bulk_insert(ctx, ListEntry, entries, "green_list_entries")
    ListVersion.objects.filter(pk=version.pk).update(
        status=VersionStatus.PUBLISHED,
        effective_from=start,
        published_at=_at(start - timedelta(days=2)),
    )
