"""The pilot-city programme: three batches and applications in every state.

- 第一批 (published): 湖州市, plan 2017—2019 — whose period has ended, so
  it renews in the second batch.
- 第二批 (published), the notice of seed 000 (工信部联财函〔2020〕161号):
  嘉善县's application (its 实施方案 chapters from seed 004, period
  2021—2023, the indicator plan the insights builder imported from 004's
  定量指标表), recommended by 浙江 and confirmed with a joint report, scored
  by the five ministries and approved; 温州市 recommended but not chosen;
  绍兴市 not recommended (浙江's two places were used); 宁波市鄞州区
  recommended by 宁波 on its own 计划单列市 place and approved; 湖州市's
  renewal, submitted directly and continued. 嘉善 has progress reports.
- 第三批 (not yet opened): the ministry's next call, ready to edit and open,
  its deadlines about three and a half months after the build day.

Run after the insights builder (it links 嘉善's IndicatorPlan; without it,
this builder imports the table itself). Rows go in with bulk_create, no
per-row audit; the uploaded documents are tiny generated PDFs stored under
MEDIA_ROOT/pilots/demo/ with fixed names, so rebuilding overwrites rather
than piles up. Nothing depends on the clock: the first two batches' dates are
the programme's real history (2016, 2020), the third batch's deadlines are
placed relative to the build day (`ctx.today`, at least 2024-01-01).
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from chanrong.accounts.models import AgencyFunction, AgencyLevel, GovernmentAgency, Role, User
from chanrong.core.models import Region
from chanrong.insights.models import IndicatorPlan
from chanrong.pilots import services
from chanrong.pilots.defaults import DEFAULT_OUTLINE, DEFAULT_RUBRIC, THIRD_BATCH_OUTLINE
from chanrong.pilots.models import (
    Application,
    ApplicationKind,
    ApplicationState,
    Batch,
    BatchState,
    Document,
    DocumentKind,
    MinistryReview,
    MinistryScore,
    MinistryState,
    PlanSection,
    ProgressReport,
    ProvincialReview,
    ProvincialSubmission,
    ReportState,
    ReviewOpinion,
    ReviewState,
    RubricCriterion,
    SubmissionState,
)

from .base import DemoContext, add_months, bulk_insert

NAME = "pilots"

TZ = ZoneInfo("Asia/Shanghai")
JIASHAN, HUZHOU, WENZHOU, SHAOXING = "330421", "330500", "330300", "330600"
NINGBO, YINZHOU, ZHEJIANG = "330200", "330212", "330000"


def _at(y: int, m: int, d: int, hh: int = 10) -> datetime:
    return datetime(y, m, d, hh, 0, tzinfo=TZ)


# (username, display name, agency key or (name, level, function, region), role)
EXTRA_AGENCIES = {
    "nb_industry": ("宁波市经济和信息化局", AgencyLevel.MUNICIPAL, AgencyFunction.INDUSTRY, NINGBO),
    "yz_industry": (
        "宁波市鄞州区经济和信息化局",
        AgencyLevel.COUNTY,
        AgencyFunction.INDUSTRY,
        YINZHOU,
    ),
    "hz_industry": ("湖州市经济和信息化局", AgencyLevel.MUNICIPAL, AgencyFunction.INDUSTRY, HUZHOU),
    "wz_industry": (
        "温州市经济和信息化局",
        AgencyLevel.MUNICIPAL,
        AgencyFunction.INDUSTRY,
        WENZHOU,
    ),
    "sx_industry": (
        "绍兴市经济和信息化局",
        AgencyLevel.MUNICIPAL,
        AgencyFunction.INDUSTRY,
        SHAOXING,
    ),
}
EXTRA_USERS = (
    ("pilot_ningbo", "宁波市经信局管理员", "nb_industry", Role.GOV_ADMIN),
    ("pilot_yinzhou", "鄞州区经信局管理员", "yz_industry", Role.GOV_ADMIN),
    ("pilot_huzhou", "湖州市经信局管理员", "hz_industry", Role.GOV_ADMIN),
    ("pilot_wenzhou", "温州市经信局管理员", "wz_industry", Role.GOV_ADMIN),
    ("pilot_shaoxing", "绍兴市经信局管理员", "sx_industry", Role.GOV_ADMIN),
    ("pilot_zj_finance", "浙江省财政厅审核人员", "zj_finance", Role.GOV_STAFF),
    ("pilot_zj_pboc", "人民银行浙江省分行审核人员", "zj_pboc", Role.GOV_STAFF),
    ("pilot_mof", "财政部评审人员", "mof", Role.GOV_STAFF),
    ("pilot_pboc", "人民银行评审人员", "pboc", Role.GOV_STAFF),
    ("pilot_nfra", "金融监管总局评审人员", "nfra", Role.GOV_STAFF),
    ("pilot_csrc", "证监会评审人员", "csrc", Role.GOV_STAFF),
)

NOTICE_2 = """根据《国务院关于深化制造业与互联网融合发展的指导意见》（国发〔2016〕28号）、《关于金融支持制造强国建设的指导意见》（银发〔2017〕58号）等部署，为进一步增强金融服务实体经济能力，工业和信息化部、财政部、人民银行、银保监会、证监会决定开展第二批产融合作试点工作。

一、申报对象
县级及以上城市（区）原则上均可申报第二批产融合作试点。

二、申报条件
（一）对产融合作工作高度重视，将产融合作列入本地重点工作，建立相关机构或工作机制，资源整合能力较强，安排相关专项资金，组织保障和政策保障有力，积极支持和参与国家产融合作平台建设。
（二）产业基础能力较强，产业特色鲜明，产业链水平较高，金融资源较为丰富，金融科技发展条件良好，普惠金融和绿色金融发展初显成效，有效防范化解金融风险。
（三）产融合作相关做法亮点突出，金融支持制造业力度较大，战略性新兴产业、新型基础设施建设等重点领域的产融合作成效较为显著，积极应用工业大数据等赋能产融合作。
（四）积极落实常态化疫情防控举措，支持企业复工复产。

三、申报程序和要求
（一）申报城市（区）通过“产融合作试点城市申报系统”进行申报。申报截止日期为2020年8月31日。申报材料包括：申报文件（由申报城市（区）人民政府出具）；实施方案（根据编制提纲编写，方案实施期不超过3年）；定量指标统计表；相关材料。
（二）省级工业和信息化主管部门会同财政厅（局）、人民银行分支机构、银保监会派出机构、证监会派出机构负责辖区内申报材料的审核筛选工作。2020年9月15日前在申报系统中确认推荐试点城市（区）并提交联合上报文件。各省、自治区、直辖市推荐试点城市（区）数量不超过2个，计划单列市和新疆生产建设兵团推荐试点城市（区）数量不超过1个。
（三）工业和信息化部会同财政部、人民银行、银保监会、证监会评审确定并公布第二批产融合作试点城市名单。后续将持续跟踪试点工作进展，适时评估工作成效。

四、有关事项
第一批试点城市方案实施期满，如有意愿继续试点，请按照编制提纲要求更新实施方案，并直接通过申报系统上报，由工业和信息化部会同相关部门复核后延续试点。"""

# 嘉善县国家产融合作试点城市实施方案（2021—2023年）, seed 004, by chapter.
JIASHAN_PLAN = {
    "guiding-thought": (
        "坚持以习近平新时代中国特色社会主义思想为指导，坚定不移贯彻新发展理念，忠实践行“八八战略”，"
        "结合《嘉善县国民经济和社会发展的第十四个五年规划和二〇三五年远景目标纲要》，以推动高质量发展为主题，"
        "切实提升金融服务实体经济效能，夯实产融合作平台，创新金融产品与服务，增强金融对产业的支撑作用，"
        "全面推动“迭代升级、再造嘉善”，在长三角更高质量一体化发展上走在前列，助力共同富裕先行典范建设。"
    ),
    "principles": (
        "——坚持市场主导、政府引导。坚持市场在资源配置中的决定性作用，充分发挥政府引导作用，优化产业、政策、"
        "金融资源配置，推动产业与金融良性互动、协调发展。\n"
        "——坚持产业为本、金融为用。重点支持数字经济、生命健康、新能源（新材料）等产业领域金融需求，"
        "提升产业资源与金融资源对接能力。\n"
        "——坚持创新驱动，示范引领。借助长三角一体化发展新机遇和G60科技走廊浙江第一站的优势，"
        "探索推进区域一体化金融创新。\n"
        "——坚持部门协同、上下联动。加强统筹规划，加大政策扶持力度，提升资源整合能力，精准高效服务实体经济。"
    ),
    "goals": (
        "逐步完善产业信息与金融机构对接机制，建立形成“企业+财政+银行+证券+保险”的全方位产融合作体系。"
        "到2023年，力争金融业增加值达到60亿元，制造业贷款余额突破450亿元，占全部贷款余额比重超过25%，"
        "制造业中长期贷款增速高于各项贷款增速。政府性融资担保余额16亿元以上，其中制造业占比85%以上。"
        "新组建产业基金10支以上，各类产业投资基金实际规模超过300亿元。力争工业投资年均增长15%以上，"
        "规上企业研发费用增长40%以上。力争规上工业产值达到2000亿元，规上企业工业增加值年均增长12%，"
        "高新技术产业占规上工业增加值比重达到75%。"
    ),
    "tasks": (
        "（一）探索区域合作，构建一体化金融生态圈。\n"
        "1. 打造长三角资本市场一体化服务基地。2. 推进长三角（嘉善）金融创新中心建设。"
        "3. 推进一体化金融服务和风险联防联控。\n"
        "（二）强化信息供给，推进产融合作有效对接。\n"
        "4. 深化政金企信息沟通共享机制。5. 推进金融综合信息服务平台建设：为企业及各类金融机构快速匹配适宜的"
        "金融产品，着力破解融资信息不对称问题。6. 完善线上线下金融信息对接：确保第一时间在平台发布企业融资需求、"
        "第一时间督导金融机构开展融资对接、第一时间反馈融资对接结果“三个第一”，力争撮合融资金额超200亿元。"
        "7. 增强金融风险技防能力建设：运用数据挖掘、机器学习等技术优化风险防控；利用通道加密、双向认证、"
        "加密存储、信息摘要、身份认证、日志完整性保护等技术和措施保障金融信息安全。\n"
        "（三）深化融资畅通，夯实实体经济发展根基。\n"
        "8. 加大示范区金融支持力度。9. 稳定提升实体经济融资规模。10. 推动小微企业普惠金融增量扩面。"
        "11. 降低小微企业融资担保成本。12. 提升企业直接融资比重。\n"
        "（四）突出创新协同，赋能制造业高质量发展。\n"
        "13. 推进产业链、供应链金融稳定增效发展。14. 推进股权投资和开放金融发展。15. 提升科创金融服务质效。"
        "16. 推进绿色金融发展。17. 加快数字金融改革运用。18. 创新保险产品和服务。"
    ),
    "safeguards": (
        "（一）加强组织领导。成立由县长任组长的嘉善县国家产融合作试点城市建设工作领导小组，领导小组办公室设在"
        "县经信局，项目化、清单化、节点化推进。\n"
        "（二）加强绩效督查。建立定期监测分析机制，建立“季度交流、半年督导、全年评估”的工作落实推进机制，"
        "对本实施方案执行情况进行定期督查检查，涉及的主要指标进行评价反馈，纳入年度绩效考核。\n"
        "（三）加强氛围营造。加大国家产融合作试点城市建设的宣传引导，适时评选一批产融合作示范企业和金融机构。"
    ),
}


def _generic_plan(city: str, outline: list[dict], focus: str) -> dict[str, str]:
    texts = {
        "guiding-thought": f"以推动高质量发展为主题，立足{city}{focus}产业基础，提升金融服务实体经济质效。",
        "principles": "坚持市场主导、政府引导；坚持产业为本、金融为用；坚持创新驱动；坚持部门协同。",
        "goals": f"到实施期末，{city}制造业贷款余额年均增长10%以上，产融合作平台服务企业数量明显增加。",
        "tasks": f"建设{city}产融合作信息服务平台；开展银企对接活动；发展供应链金融；推动企业上市培育。",
        "safeguards": "成立试点工作领导小组，建立季度调度、年度评估机制，安排专项资金。",
        "basis": f"{city}已将产融合作列入本地重点工作，建立了工作机制。",
        "approach": "总体思路与基本原则。",
        "content": "重点任务及责任单位。",
    }
    return {item["key"]: texts.get(item["key"], item["title"]) for item in outline}


def _pdf(text: str) -> bytes:
    """A one-page PDF showing an ASCII line (real %PDF content, so the
    documents pass the same content check as uploads)."""
    stream = f"BT /F1 14 Tf 72 770 Td ({text}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def _document(kind: str, slug: str, title: str, original: str, **owner) -> Document:
    content = _pdf(f"chanrong demo: {slug}")
    name = f"pilots/demo/{slug}.pdf"
    if default_storage.exists(name):
        default_storage.delete(name)
    default_storage.save(name, ContentFile(content))
    return Document(
        kind=kind,
        title=title,
        file=name,
        original_name=original,
        file_type="pdf",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        **owner,
    )


def build(ctx: DemoContext) -> None:
    rng = ctx.rng(NAME)
    agencies = dict(ctx.refs.get("agencies", {}))
    extra = [
        GovernmentAgency(name=name, level=level, function=function, region_id=region)
        for name, level, function, region in EXTRA_AGENCIES.values()
    ]
    GovernmentAgency.objects.bulk_create(extra)
    agencies.update(dict(zip(EXTRA_AGENCIES, extra, strict=True)))
    ctx.counts["agencies"] = ctx.counts.get("agencies", 0) + len(extra)
    users = [
        User(
            username=username,
            display_name=display,
            role=role,
            agency=agencies[key],
            password=ctx.password_hash,
            is_active=True,
        )
        for username, display, key, role in EXTRA_USERS
        if key in agencies
    ]
    User.objects.bulk_create(users)
    ctx.counts["users"] = ctx.counts.get("users", 0) + len(users)
    by_name = {u.username: u for u in User.objects.filter(agency__isnull=False)}
    ministry = by_name["gov_national"]
    zhejiang = by_name["gov_zhejiang"]

    # --- batches -------------------------------------------------------------
    first = Batch(
        number=1,
        name="第一批",
        state=BatchState.PUBLISHED,
        notice_title="关于组织申报产融合作试点城市的通知",
        application_deadline=date(2016, 9, 30),
        provincial_deadline=date(2016, 10, 20),
        outline=DEFAULT_OUTLINE,
        created_by=ministry,
        opened_at=_at(2016, 8, 1),
        published_at=_at(2016, 12, 20),
        result_title="第一批产融合作试点城市名单",
    )
    second = Batch(
        number=2,
        name="第二批",
        state=BatchState.PUBLISHED,
        notice_title="五部门关于组织申报第二批产融合作试点城市的通知",
        notice_number="工信部联财函〔2020〕161号",
        notice_text=NOTICE_2,
        application_deadline=date(2020, 8, 31),
        provincial_deadline=date(2020, 9, 15),
        outline=DEFAULT_OUTLINE,
        created_by=ministry,
        opened_at=_at(2020, 7, 24),
        published_at=_at(2021, 1, 20),
        result_title="第二批产融合作试点城市名单",
    )
    # The next call: applications due at the end of the month three months on.
    third_deadline = add_months(ctx.today, 4) - timedelta(days=1)
    third = Batch(
        number=3,
        name="第三批",
        state=BatchState.DRAFT,
        notice_title="关于组织申报第三批产融合作试点城市的通知（演示草稿）",
        notice_text="演示数据：发布前请按实际修改申报截止日期和省级确认推荐截止日期。",
        application_deadline=third_deadline,
        provincial_deadline=third_deadline + timedelta(days=15),
        outline=THIRD_BATCH_OUTLINE,
        created_by=ministry,
    )
    batches = [first, second, third]
    bulk_insert(ctx, Batch, batches, "pilot_batches")
    criteria = [
        RubricCriterion(batch=b, order=i, **row)
        for b in batches
        for i, row in enumerate(DEFAULT_RUBRIC)
    ]
    bulk_insert(ctx, RubricCriterion, criteria, "pilot_rubric_criteria")
    rubric = [c for c in criteria if c.batch is second]

    # --- applications -----------------------------------------------------
    def application(
        batch,
        code,
        title,
        start,
        end,
        *,
        kind=ApplicationKind.NEW,
        previous=None,
        contact=("", ""),
        submitted=None,
        creator=None,
    ):
        region = Region.objects.get(code=code)
        return Application(
            batch=batch,
            region=region,
            review_region=services.review_unit_for(region),
            kind=kind,
            previous=previous,
            title=title,
            start_year=start,
            end_year=end,
            contact_name=contact[0],
            contact_phone=contact[1],
            state=ApplicationState.SUBMITTED,
            submitted_at=submitted,
            created_by=creator,
        )

    huzhou_1 = application(
        first,
        HUZHOU,
        "湖州市产融合作试点城市实施方案（2017—2019年）",
        2017,
        2019,
        submitted=_at(2016, 9, 26),
        creator=by_name.get("pilot_huzhou"),
    )
    Application.objects.bulk_create([huzhou_1])
    jiashan = application(
        second,
        JIASHAN,
        "嘉善县国家产融合作试点城市实施方案（2021—2023年）",
        2021,
        2023,
        contact=("嘉善县经信局", "0573-84012345"),
        submitted=_at(2020, 8, 28),
        creator=by_name["gov_jiashan"],
    )
    wenzhou = application(
        second,
        WENZHOU,
        "温州市产融合作试点城市实施方案（2021—2023年）",
        2021,
        2023,
        submitted=_at(2020, 8, 30),
        creator=by_name.get("pilot_wenzhou"),
    )
    shaoxing = application(
        second,
        SHAOXING,
        "绍兴市产融合作试点城市实施方案（2021—2023年）",
        2021,
        2023,
        submitted=_at(2020, 8, 31, 16),
        creator=by_name.get("pilot_shaoxing"),
    )
    yinzhou = application(
        second,
        YINZHOU,
        "宁波市鄞州区产融合作试点实施方案（2021—2023年）",
        2021,
        2023,
        submitted=_at(2020, 8, 27),
        creator=by_name.get("pilot_yinzhou"),
    )
    huzhou_2 = application(
        second,
        HUZHOU,
        "湖州市产融合作试点城市实施方案（2021—2023年）（延续）",
        2021,
        2023,
        kind=ApplicationKind.RENEWAL,
        previous=huzhou_1,
        submitted=_at(2020, 8, 25),
        creator=by_name.get("pilot_huzhou"),
    )
    second_apps = [jiashan, wenzhou, shaoxing, yinzhou, huzhou_2]
    Application.objects.bulk_create(second_apps)
    ctx.counts["pilot_applications"] = 1 + len(second_apps)

    plan = (
        ctx.refs.get("indicator_plan")
        or IndicatorPlan.objects.filter(region_id=JIASHAN, start_year=2021, end_year=2023)
        .order_by("pk")
        .first()
    )
    if plan is None:
        plan = _import_jiashan_plan(by_name["gov_jiashan"])
    jiashan.indicator_plan = plan
    Application.objects.filter(pk=jiashan.pk).update(indicator_plan=plan)

    sections = []
    for app in (huzhou_1, *second_apps):
        texts = (
            JIASHAN_PLAN
            if app is jiashan
            else _generic_plan(
                app.region.name,
                app.batch.outline,
                rng.choice(["数字经济", "高端装备", "绿色石化", "时尚产业", "新材料"]),
            )
        )
        sections += [
            PlanSection(
                application=app,
                key=item["key"],
                title=item["title"],
                order=i,
                body=texts.get(item["key"], ""),
            )
            for i, item in enumerate(app.batch.outline)
        ]
    bulk_insert(ctx, PlanSection, sections, "pilot_plan_sections")

    # --- provincial review ----------------------------------------------------
    reviews = [
        ProvincialReview(
            application=huzhou_1,
            batch=first,
            review_region_id=ZHEJIANG,
            state=ReviewState.FORWARDED,
            slot=1,
            decided_by=zhejiang,
            decided_at=_at(2016, 10, 15),
        ),
        ProvincialReview(
            application=jiashan,
            batch=second,
            review_region_id=ZHEJIANG,
            state=ReviewState.FORWARDED,
            slot=1,
            decided_by=zhejiang,
            decided_at=_at(2020, 9, 10),
            comment="产融合作基础扎实，长三角一体化示范区特色鲜明",
        ),
        ProvincialReview(
            application=wenzhou,
            batch=second,
            review_region_id=ZHEJIANG,
            state=ReviewState.FORWARDED,
            slot=2,
            decided_by=zhejiang,
            decided_at=_at(2020, 9, 11),
            comment="民营经济金融服务特色明显",
        ),
        ProvincialReview(
            application=shaoxing,
            batch=second,
            review_region_id=ZHEJIANG,
            state=ReviewState.NOT_RECOMMENDED,
            decided_by=zhejiang,
            decided_at=_at(2020, 9, 12),
            comment="本省推荐名额已满，建议下一批次申报",
        ),
        ProvincialReview(
            application=yinzhou,
            batch=second,
            review_region_id=NINGBO,
            state=ReviewState.FORWARDED,
            slot=1,
            decided_by=by_name.get("pilot_ningbo"),
            decided_at=_at(2020, 9, 9),
            comment="计划单列市推荐",
        ),
    ]
    bulk_insert(ctx, ProvincialReview, reviews, "pilot_provincial_reviews")
    review_of = {r.application_id: r for r in reviews}
    opinions = []
    for app in (jiashan, wenzhou, shaoxing):
        review = review_of[app.pk]
        for username, stance, text in (
            (
                "gov_zhejiang",
                "support" if app is not shaoxing else "reserve",
                "同意" if app is not shaoxing else "名额有限",
            ),
            ("pilot_zj_finance", "support", "已安排专项资金"),
            (
                "pilot_zj_pboc",
                "support" if app is jiashan else "reserve",
                "普惠金融和绿色金融成效明显" if app is jiashan else "建议补充金融风险防控材料",
            ),
        ):
            author = by_name.get(username)
            if author is not None:
                opinions.append(
                    ReviewOpinion(
                        review=review,
                        author=author,
                        agency=author.agency,
                        stance=stance,
                        text=text,
                    )
                )
    bulk_insert(ctx, ReviewOpinion, opinions, "pilot_review_opinions")
    # auto_now_add stamps the build time; the demo's history has fixed dates.
    ReviewOpinion.objects.filter(review__batch=second).update(created_at=_at(2020, 9, 8))
    submissions = [
        ProvincialSubmission(
            batch=first,
            review_region_id=ZHEJIANG,
            state=SubmissionState.CONFIRMED,
            confirmed_by=zhejiang,
            confirmed_at=_at(2016, 10, 18),
        ),
        ProvincialSubmission(
            batch=second,
            review_region_id=ZHEJIANG,
            state=SubmissionState.CONFIRMED,
            confirmed_by=zhejiang,
            confirmed_at=_at(2020, 9, 14),
            note="经省经信厅、财政厅、人民银行杭州中心支行、浙江银保监局、浙江证监局联合审核，推荐嘉善县、温州市。",
        ),
        ProvincialSubmission(
            batch=second,
            review_region_id=NINGBO,
            state=SubmissionState.CONFIRMED,
            confirmed_by=by_name.get("pilot_ningbo"),
            confirmed_at=_at(2020, 9, 14),
        ),
    ]
    bulk_insert(ctx, ProvincialSubmission, submissions, "pilot_provincial_submissions")

    # --- ministry review ---------------------------------------------------------
    decisions = [
        (huzhou_1, first, MinistryState.APPROVED, "确定为第一批试点"),
        (jiashan, second, MinistryState.APPROVED, "确定为第二批产融合作试点城市"),
        (wenzhou, second, MinistryState.REJECTED, "综合评审未入选"),
        (yinzhou, second, MinistryState.APPROVED, "确定为第二批产融合作试点城市"),
        (huzhou_2, second, MinistryState.APPROVED, "复核通过，延续试点"),
    ]
    ministry_reviews = [
        MinistryReview(
            application=app,
            batch=batch,
            state=state,
            decision_note=note,
            decided_by=ministry,
            decided_at=_at(batch.published_at.year, 1, 10)
            if batch is second
            else _at(2016, 12, 10),
        )
        for app, batch, state, note in decisions
    ]
    bulk_insert(ctx, MinistryReview, ministry_reviews, "pilot_ministry_reviews")
    reviewers = [
        u
        for u in (
            ministry,
            *(by_name.get(n) for n in ("pilot_mof", "pilot_pboc", "pilot_nfra", "pilot_csrc")),
        )
        if u is not None
    ]
    level = {jiashan.pk: 0.9, yinzhou.pk: 0.86, huzhou_2.pk: 0.84, wenzhou.pk: 0.72}
    scores = []
    for review in ministry_reviews:
        if review.batch is not second:
            continue
        for reviewer in reviewers:
            items = {}
            total = Decimal(0)
            for criterion in rubric:
                share = min(1.0, max(0.4, rng.gauss(level[review.application_id], 0.05)))
                value = (criterion.max_score * Decimal(str(round(share, 2)))).quantize(
                    Decimal("0.5")
                )
                items[str(criterion.pk)] = str(value.quantize(Decimal("0.01")))
                total += value
            scores.append(
                MinistryScore(
                    review=review,
                    reviewer=reviewer,
                    agency=reviewer.agency,
                    items=items,
                    total=total.quantize(Decimal("0.01")),
                    comment="",
                )
            )
    bulk_insert(ctx, MinistryScore, scores, "pilot_ministry_scores")

    # --- documents -----------------------------------------------------------------
    documents = [
        _document(
            DocumentKind.NOTICE,
            "batch2-notice",
            "五部门关于组织申报第二批产融合作试点城市的通知",
            "工信部联财函〔2020〕161号.pdf",
            batch=second,
        ),
        _document(
            DocumentKind.OUTLINE,
            "batch2-outline",
            "附件1 产融合作试点城市实施方案编制提纲",
            "附件1 实施方案编制提纲.pdf",
            batch=second,
        ),
        _document(
            DocumentKind.TEMPLATE,
            "batch2-template",
            "附件2 定量指标统计表",
            "附件2 定量指标统计表.pdf",
            batch=second,
        ),
    ]
    for app in second_apps:
        documents.append(
            _document(
                DocumentKind.DECLARATION,
                f"declaration-{app.region_id}",
                f"{app.region.name}人民政府关于申报第二批产融合作试点城市的函",
                f"{app.region.name}申报文件.pdf",
                application=app,
            )
        )
    documents.append(
        _document(
            DocumentKind.MATERIAL,
            "material-330421-policy",
            "嘉善县金融支持制造业高质量发展若干政策",
            "金融支持制造业发展政策.pdf",
            application=jiashan,
        )
    )
    for submission in submissions[1:]:
        documents.append(
            _document(
                DocumentKind.JOINT_REPORT,
                f"joint-report-{submission.review_region_id}",
                "联合上报文件",
                "联合上报文件.pdf",
                submission=submission,
            )
        )
    bulk_insert(ctx, Document, documents, "pilot_documents")
    Document.objects.filter(batch=second).update(uploaded_at=_at(2020, 7, 24))
    Document.objects.filter(application__batch=second).update(uploaded_at=_at(2020, 8, 20))
    Document.objects.filter(submission__batch=second).update(uploaded_at=_at(2020, 9, 14, 9))

    # --- progress reports (嘉善) -------------------------------------------------
    reports_text = [
        (
            2021,
            "H1",
            "金融综合信息服务平台完成与嘉兴市金融信用信息共享平台对接，上线融资需求发布、派单和结果反馈功能，落实“三个第一”。",
            "部分金融机构反馈时效不一。",
            "建立对接时效通报制度。",
        ),
        (
            2021,
            "Y",
            "全年组织银企对接活动2场，平台撮合融资超百亿元；制造业贷款余额较年初明显增长。",
            "科创企业首贷覆盖面仍需扩大。",
            "开展首贷和信用贷拓展专项行动。",
        ),
        (
            2022,
            "H1",
            "推进长三角（嘉善）金融创新中心建设，新设产业基金3支；绿色信贷余额持续增长。",
            "",
            "推进QFLP试点。",
        ),
        (
            2022,
            "Y",
            "制造业中长期贷款增速高于各项贷款增速；普惠型小微企业贷款利率下降。",
            "直接融资比重提升偏慢。",
            "深入实施“凤凰行动”计划。",
        ),
        (
            2023,
            "Y",
            "三年试点任务基本完成，平台累计融资笔数与金额均达到目标。",
            "",
            "总结试点经验，做好延续试点准备。",
        ),
    ]
    reports = [
        ProgressReport(
            application=jiashan,
            year=year,
            period=period,
            summary=summary,
            problems=problems,
            next_steps=steps,
            state=ReportState.SUBMITTED,
            submitted_at=_at(year + (1 if period == "Y" else 0), 1 if period == "Y" else 7, 15),
            created_by=by_name["gov_jiashan"],
        )
        for year, period, summary, problems, steps in reports_text
    ]
    bulk_insert(ctx, ProgressReport, reports, "pilot_progress_reports")
    ctx.refs["pilot_batches"] = {b.number: b for b in batches}


def _import_jiashan_plan(gov: User) -> IndicatorPlan:
    from chanrong.insights import services as insights
    from chanrong.insights.tables import JIASHAN_TABLE

    return insights.import_plan_table(
        gov, Region.objects.get(code=JIASHAN), JIASHAN_TABLE.read_text(encoding="utf-8")
    )
