"""公开服务 in the demo: 融资知识 articles in every category (national,
浙江 and 嘉善; two drafts), an ordered FAQ, and about a dozen 留言咨询 to
the platform, 嘉善县经信局 and the demo bank — most answered, several
answered and public (the public list masks the askers), a few waiting in
the queues, one closed.

Fixed counts (the public side does not grow with the number of
enterprises), dates before the build day, askers' contact details
encrypted like any other (bulk_create goes through the fields); no
per-row audit, like the other builders; deterministic by seed.
"""

from __future__ import annotations

from datetime import timedelta

from chanrong.content.models import (
    AddresseeKind,
    Article,
    ArticleState,
    Consultation,
    ConsultationState,
    Faq,
)

from .base import DemoContext, bulk_insert

NAME = "content"
MODELS = ("content.article", "content.faq", "content.consultation")

JIASHAN, ZHEJIANG = "330421", "330000"

#: (category, title, source, region key, published, body paragraphs)
ARTICLES = (
    (
        "product",
        "什么是“首贷”和“信用贷”？小微企业怎样选择",
        "人民银行嘉兴市分行",
        "zhejiang",
        True,
        (
            "首贷是指企业第一次从银行获得贷款。很多小微企业没有贷款记录，银行难以判断风险；平台汇集纳税、社保、用电等数据，帮助银行为首贷户授信。",
            "信用贷无需抵押和担保，额度通常在 300 万元以内，期限一般不超过一年，适合经营稳定、纳税记录良好的企业。",
            "选择时先看资金用途和期限：短期周转选流动资金贷款或信用贷；购置设备选中长期固定资产贷款，或考虑融资租赁。",
        ),
    ),
    (
        "product",
        "应收账款融资与供应链金融入门",
        "产融通平台",
        "",
        True,
        (
            "企业持有核心企业的应收账款，经核心企业确权后，可以向银行申请保理或质押融资，无需另外提供抵押物。",
            "在平台“供应链金融”栏目登记应收账款、邀请债务人确权，即可向多家银行同时发起融资申请。",
        ),
    ),
    (
        "policy",
        "嘉善县小微企业贷款贴息政策解读",
        "嘉善县经济和信息化局",
        "jiashan",
        True,
        (
            "贴息对象为在嘉善县登记注册、纳税的小微企业，贷款用于生产经营。贴息比例为实际支付利息的 30%，单户年度贴息不超过 20 万元。",
            "企业在平台“政策发布”中找到该政策后在线申请，银行确认贷款信息，县经信局审核后公示 5 个工作日，无异议即拨付。",
        ),
    ),
    (
        "policy",
        "政府性融资担保降费政策要点",
        "浙江省财政厅",
        "zhejiang",
        True,
        (
            "政府性融资担保机构对小微企业的担保费率原则上不超过 1%，对单户 500 万元以下的担保业务给予担保费补贴。",
            "担保费补贴由担保机构申请，企业无需另行提交材料。",
        ),
    ),
    (
        "guide",
        "三步发布融资需求，让银行主动对接",
        "产融通平台",
        "",
        True,
        (
            "第一步：完善企业信息，授权银行查看经营数据；信息越完整，匹配越准确。",
            "第二步：在“我的融资需求”中填写金额、期限、用途和可提供的担保方式，发布后平台按条件派单给合适的金融机构。",
            "第三步：银行在规定时限内接单并提出方案，企业比较后采纳其中一个方案。",
        ),
    ),
    (
        "guide",
        "如何在手机上查看政策并留言咨询",
        "产融通平台",
        "",
        True,
        (
            "无需登录即可在“公开服务”中查看正在执行的政策、融资知识和常见问题。",
            "遇到问题可以“我要留言”，选择向平台、政府部门或金融机构提问，并留下电话或邮箱以便答复。",
        ),
    ),
    (
        "risk",
        "警惕“包装贷款”“代办贷款”中介陷阱",
        "嘉兴金融监管分局",
        "zhejiang",
        True,
        (
            "部分中介以“内部渠道”“包过”为名收取高额服务费，甚至伪造材料，企业可能因此承担法律责任。",
            "正规银行贷款不收取任何前期费用。通过平台对接银行，全程留痕，无需中介。",
        ),
    ),
    (
        "risk",
        "贷款到期前如何避免资金链断裂",
        "嘉善县经济和信息化局",
        "jiashan",
        True,
        (
            "提前 1 至 2 个月与贷款银行沟通续贷安排。确有困难的，可申请转贷应急资金过桥。",
            "银行拟抽贷、断贷的，企业可在平台申请抽贷断贷会商，由政府部门召集各贷款银行协调。",
        ),
    ),
    (
        "case",
        "嘉善一家机械企业凭订单获得 500 万元信用贷款",
        "嘉善县经济和信息化局",
        "jiashan",
        True,
        (
            "该企业订单饱满但缺少抵押物。发布融资需求后，三家银行接单，企业采纳了利率最低的方案，十个工作日内放款。",
        ),
    ),
    (
        "policy",
        "（草稿）2026 年度专精特新企业融资支持措施",
        "嘉善县经济和信息化局",
        "jiashan",
        False,
        ("本文尚在编辑中。",),
    ),
    (
        "guide",
        "（草稿）金融机构接单操作说明",
        "产融通平台",
        "",
        False,
        ("本文尚在编辑中。",),
    ),
)

FAQ = (
    ("platform", "使用平台需要付费吗？", "不需要。企业、金融机构和政府部门使用平台均免费。"),
    ("platform", "手机上可以使用吗？", "可以。平台页面适配手机浏览器，公开服务无需登录。"),
    (
        "registration",
        "企业如何注册账户？",
        "在登录页选择“注册”，填写统一社会信用代码、企业名称和联系人信息；经所在地主管部门核验后即可使用全部功能。",
    ),
    (
        "registration",
        "忘记密码怎么办？",
        "请联系本企业的账户管理员或所在地主管部门重置密码。",
    ),
    (
        "financing",
        "发布融资需求后多久会有银行联系？",
        "需求发布后平台即派单给符合条件的金融机构，机构须在规定时限内接单；一般 3 个工作日内会有方案。",
    ),
    (
        "financing",
        "可以同时采纳多家银行的方案吗？",
        "一个融资需求只能采纳一个方案。采纳后，其他机构的派单自动关闭。如需更多资金，可以再发布新的需求。",
    ),
    (
        "policy",
        "申请贴息需要准备哪些材料？",
        "通常需要贷款合同、利息支付凭证。平台已有的企业信息和银行确认的贷款信息无需重复提交。",
    ),
    (
        "policy",
        "什么是“免申即享”？",
        "符合条件的企业无需提交申请，由平台根据已有数据自动生成申请，企业确认后即可享受政策。",
    ),
    (
        "consultation",
        "留言后多久答复？会公开我的信息吗？",
        "咨询对象一般在 5 个工作日内答复。答复公开时，您的姓名会打码显示，电话和邮箱不会公开。",
    ),
)

#: (subject, question, addressee key, asker name, state, answer)
CONSULTATIONS = (
    (
        "去年的贷款能否申请今年的贴息？",
        "我司 2025 年 10 月在农商行贷款 300 万元，今年还在还款中，能否申请今年的贴息政策？",
        "jiashan",
        "张伟",
        ConsultationState.PUBLISHED,
        "可以。贴息按政策执行期内实际支付的利息计算，2026 年内支付的利息可以申请。",
    ),
    (
        "个体工商户可以在平台发布融资需求吗？",
        "我是个体工商户，没有企业账户，能否在平台上申请贷款？",
        "platform",
        "李娜",
        ConsultationState.PUBLISHED,
        "目前平台面向企业法人。个体工商户可在公开服务中查看各银行的普惠金融产品，或直接联系银行网点。",
    ),
    (
        "信用贷款最快多久放款？",
        "我司急需一笔 100 万元的周转资金，贵行信用贷款最快多久可以放款？",
        "bank",
        "王强",
        ConsultationState.PUBLISHED,
        "资料齐全的情况下，我行信用贷款一般 3 至 5 个工作日放款。建议先在平台授权我行查看经营数据，可缩短审批时间。",
    ),
    (
        "担保费补贴由谁申请？",
        "我们通过县担保公司担保贷款，担保费补贴需要企业自己申请吗？",
        "jiashan",
        "欧阳晓红",
        ConsultationState.PUBLISHED,
        "担保费补贴由担保机构统一申请，企业无需另行申请。",
    ),
    (
        "专精特新企业有哪些融资支持？",
        "我司去年被认定为省级专精特新企业，请问在融资方面有哪些支持政策？",
        "jiashan",
        "陈静",
        ConsultationState.PUBLISHED,
        "可享受专精特新专属信贷产品、贷款贴息上浮等支持。请关注“政策发布”栏目，也可在平台发布融资需求，系统会优先匹配专属产品。",
    ),
    (
        "账户被锁定怎么办？",
        "连续输错密码后账户被锁定，请问多久可以解锁？",
        "platform",
        "刘洋",
        ConsultationState.ANSWERED,
        "已为您解锁，请使用短信验证码登录后修改密码。",
    ),
    (
        "续贷需要重新提交材料吗？",
        "我司贷款下月到期，续贷时是否需要重新提交全部材料？",
        "bank",
        "赵敏",
        ConsultationState.ANSWERED,
        "已有资料无变化的无需重复提交，客户经理会与您联系。",
    ),
    (
        "设备更新贷款的贴息比例是多少？",
        "今年购买的生产设备，贷款贴息比例是多少？是否有上限？",
        "jiashan",
        "孙丽",
        ConsultationState.SUBMITTED,
        "",
    ),
    (
        "平台能否查看我司的征信报告？",
        "授权银行查看数据后，银行能否看到我司的征信报告？",
        "platform",
        "周杰",
        ConsultationState.SUBMITTED,
        "",
    ),
    (
        "应收账款融资利率咨询",
        "我司有一笔核心企业确认的应收账款 200 万元，贵行保理融资的利率大概是多少？",
        "bank",
        "吴昊",
        ConsultationState.SUBMITTED,
        "",
    ),
    (
        "重复留言",
        "同一问题已经留言过，请忽略本条。",
        "jiashan",
        "郑爽",
        ConsultationState.CLOSED,
        "",
    ),
)


def build(ctx: DemoContext) -> None:
    from chanrong.accounts.models import GovernmentAgency, User

    jiashan = GovernmentAgency.objects.filter(users__username="gov_jiashan").first()
    bank_user = User.objects.filter(username="bank_manager").select_related("institution").first()
    if jiashan is None or bank_user is None:
        return
    zhejiang = GovernmentAgency.objects.filter(users__username="gov_zhejiang").first()
    admin = User.objects.filter(username="admin").first()
    gov = User.objects.get(username="gov_jiashan")
    rng = ctx.rng("content")
    agencies = {"jiashan": jiashan, "zhejiang": zhejiang, "": None}
    authors = {"jiashan": gov, "zhejiang": None, "": admin}

    articles = []
    for index, (category, title, source, key, published, body) in enumerate(ARTICLES):
        agency = agencies.get(key)
        articles.append(
            Article(
                category=category,
                title=title,
                body="\n\n".join(body),
                source=source,
                region=agency.region if agency else None,
                agency=agency,
                state=ArticleState.PUBLISHED if published else ArticleState.DRAFT,
                published_on=ctx.today - timedelta(days=7 * index + rng.randint(0, 6))
                if published
                else None,
                created_by=authors.get(key),
            )
        )
    bulk_insert(ctx, Article, articles, "content_articles")

    faq = [
        Faq(category=category, question=question, answer=answer, position=10 * (i + 1))
        for i, (category, question, answer) in enumerate(FAQ)
    ]
    bulk_insert(ctx, Faq, faq, "content_faq")

    answerers = {"jiashan": gov, "platform": admin, "bank": bank_user}
    rows = []
    for index, (subject, question, key, name, state, answer) in enumerate(CONSULTATIONS):
        asked = ctx.history_end - timedelta(days=3 * index + 1, hours=rng.randint(1, 10))
        answered = asked + timedelta(days=rng.randint(1, 4))
        has_answer = state in (ConsultationState.ANSWERED, ConsultationState.PUBLISHED)
        target = {
            "jiashan": {"addressee_kind": AddresseeKind.AGENCY, "agency": jiashan},
            "bank": {
                "addressee_kind": AddresseeKind.INSTITUTION,
                "institution": bank_user.institution,
            },
            "platform": {"addressee_kind": AddresseeKind.PLATFORM},
        }[key]
        rows.append(
            Consultation(
                subject=subject,
                question=question,
                asker_name=name,
                asker_phone=f"139{rng.randint(0, 99_999_999):08d}",
                state=state,
                answer=answer,
                answered_by=answerers[key] if has_answer else None,
                answered_at=answered if has_answer else None,
                published_at=answered if state == ConsultationState.PUBLISHED else None,
                submitted_at=asked,
                **target,
            )
        )
    bulk_insert(ctx, Consultation, rows, "content_consultations")
