"""抽贷断贷会商 in the demo: about ten consultations in 嘉善 at every stage,
on loans the risk builder put on the books, so the list, the detail pages
and the dashboard's open count show real cases.

Each is about one 嘉善 enterprise with loans on the books (those with two or
more lenders first, as a consultation between banks is the point); half are
asked by the enterprise, half by one of its banks. 嘉善县经信局 accepts,
convenes every bank with exposure, records the meeting, the decision and
each bank's commitment, and follows up. Dates run backwards from the build
day, in order (request ≤ acceptance ≤ meeting ≤ decision ≤ follow-ups ≤
closing). Rows are written directly, without per-row audit, like the other
builders; deterministic by seed.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from chanrong.risk.models import (
    Consultation,
    ConsultationFollowUp,
    ConsultationKind,
    ConsultationParticipant,
    ConsultationState,
    DecisionKind,
    LoanAccount,
    LoanStatus,
)

from .base import DemoContext

NAME = "risk_consultations"
MODELS = ("risk.consultation",)

JIASHAN = "330421"

#: The stages the demo shows, in order: one consultation each.
STAGES = (
    ConsultationState.REQUESTED,
    ConsultationState.REQUESTED,
    ConsultationState.ACCEPTED,
    ConsultationState.DECLINED,
    ConsultationState.WITHDRAWN,
    ConsultationState.CONVENED,
    ConsultationState.CONVENED,
    ConsultationState.DECIDED,
    ConsultationState.DECIDED,
    ConsultationState.CLOSED,
)

REASONS_BY_BANK = (
    "企业近两个季度营业收入同比下降逾三成，我行拟于贷款到期后压降授信，提请会商。",
    "企业在他行出现逾期，按我行授信政策拟提前收回部分贷款，申请会商以免引发连锁抽贷。",
    "企业主要客户订单转移，现金流趋紧，我行拟到期不再续贷，提请政府部门协调各行意见。",
)
REASONS_BY_ENTERPRISE = (
    "我司贷款即将到期，贷款银行告知到期后不再续贷。我司订单饱满，仅因原材料涨价导致短期资金紧张，恳请协调银行维持授信。",
    "银行拟提前收回我司流动资金贷款，我司正常付息、无逾期，恳请召集各贷款银行会商，避免抽贷断贷。",
    "受上游停产影响，我司一季度营收下滑，现有两家银行拟压降授信，申请会商并协调调整还款计划。",
)
POSITIONS = (
    "我行对该企业授信余额较小，同意在企业提供补充担保的前提下维持现有授信。",
    "我行拟按期收回到期贷款，可配合转贷应急资金办理续贷，续贷金额视企业经营情况确定。",
    "我行同意展期六个月，期间按月付息，要求企业按月报送经营数据。",
    "我行风险偏好收紧，拟压降授信 20%，但不提前收回未到期贷款。",
)
MINUTES = (
    "县经信局牵头，人行嘉善支行、各贷款银行及企业负责人参会。企业介绍生产经营和订单情况，"
    "各行通报授信及风险评估意见。会议认为企业属于暂时性困难，主营业务正常，符合不抽贷、"
    "不断贷的帮扶条件。",
    "线上会商。企业说明资金缺口约 800 万元，已落实应收账款回款计划；各行就续贷条件、担保"
    "方式交换意见，同意在县转贷应急资金支持下办理续贷。",
)
DECISIONS = (
    (
        DecisionKind.RENEW,
        "各贷款银行对企业到期贷款予以续贷，续贷期间不抽贷、不压贷；企业按月报送经营数据。",
    ),
    (
        DecisionKind.EXTEND,
        "到期贷款展期六个月，展期期间按月付息；县经信局每月跟踪企业订单及回款情况。",
    ),
    (
        DecisionKind.RESCHEDULE,
        "调整还款计划为按季分期还本，首期还款推迟至下季度末；各行维持现有授信额度。",
    ),
    (
        DecisionKind.MAINTAIN,
        "各行维持现有授信，不提前收回未到期贷款；企业引入县融资担保公司提供增信。",
    ),
)
COMMITMENTS = (
    "到期后续贷，金额不低于原贷款余额",
    "维持现有授信额度，不提前收回",
    "展期六个月，期间按月付息",
    "按调整后的还款计划执行，不加收罚息",
)
FOLLOW_UPS = (
    "电话回访企业，企业反映续贷手续已办理，生产经营正常。",
    "企业报送当月经营数据，营收环比回升 12%。",
    "现场走访企业，订单排产至下季度，资金周转基本正常。",
)
KEPT = "已按会商意见办理完毕。"
NOT_KEPT = "受总行授信政策调整影响，续贷金额低于承诺，已向县经信局书面说明并补充流动资金支持方案。"
DECLINE = "经核实，所涉贷款已于申请前结清，无需会商。"


def build(ctx: DemoContext) -> None:
    from chanrong.accounts.models import GovernmentAgency, User

    agency = GovernmentAgency.objects.filter(users__username="gov_jiashan").first()
    if agency is None:
        return
    admin = User.objects.get(username="gov_jiashan")
    rng = ctx.rng("risk-consultations")
    book: dict[int, list[LoanAccount]] = defaultdict(list)
    for loan in (
        LoanAccount.objects.filter(
            enterprise__region__code__startswith=JIASHAN,
            status__in=(LoanStatus.ACTIVE, LoanStatus.RECALLED),
        )
        .select_related("enterprise")
        .order_by("enterprise__uscc", "disbursed_on", "contract_no")
    ):
        book[loan.enterprise_id].append(loan)
    # Borrowers with two or more lenders first: a consultation between banks.
    borrowers = sorted(
        book,
        key=lambda e: (-len({loan.institution_id for loan in book[e]}), book[e][0].enterprise.uscc),
    )
    users = defaultdict(list)
    for user in User.objects.filter(is_active=True).order_by("pk"):
        users[("ent", user.enterprise_id)].append(user)
        users[("inst", user.institution_id)].append(user)
    today = ctx.today
    made = 0
    for n, (state, enterprise_id) in enumerate(zip(STAGES, borrowers, strict=False)):
        loans = book[enterprise_id]
        banks = sorted({loan.institution_id for loan in loans})
        by_bank = n % 2 == 0
        asker = rng.choice(banks) if by_bank else None
        concerned = [loan for loan in loans if asker is None or loan.institution_id == asker]
        requested_on = today - timedelta(
            days=rng.randint(40, 150) if n >= 7 else rng.randint(3, 35)
        )
        requester = (users[("inst", asker)] or [None])[0] if by_bank else (
            users[("ent", enterprise_id)] or [None]
        )[0]  # fmt: skip
        c = Consultation.objects.create(
            enterprise_id=enterprise_id,
            kind=rng.choice(ConsultationKind.values),
            reason=rng.choice(REASONS_BY_BANK if by_bank else REASONS_BY_ENTERPRISE),
            state=state,
            requested_by=requester,
            requesting_institution_id=asker,
            requested_on=requested_on,
        )
        c.loans.set(concerned)
        made += 1
        if state in (ConsultationState.REQUESTED, ConsultationState.WITHDRAWN):
            continue
        c.agency = agency
        c.accepted_on = min(requested_on + timedelta(days=2), today)
        if state == ConsultationState.DECLINED:
            c.accepted_on = None
            c.declined_reason = DECLINE
            c.save()
            continue
        if state == ConsultationState.ACCEPTED:
            c.save()
            continue
        c.meeting_on = min(c.accepted_on + timedelta(days=rng.randint(3, 7)), today)
        online = rng.random() < 0.3
        c.meeting_online = online
        c.meeting_place = "" if online else "嘉善县经信局三楼会议室"
        held = state != ConsultationState.CONVENED or n % 2 == 1
        for bank in banks:
            position = rng.choice(POSITIONS) if held or rng.random() < 0.5 else ""
            ConsultationParticipant.objects.create(
                consultation=c,
                institution_id=bank,
                position=position,
                position_at=ctx.history_end if position else None,
            )
        if held:
            c.minutes = rng.choice(MINUTES)
        if state == ConsultationState.CONVENED:
            c.save()
            continue
        decision, text = rng.choice(DECISIONS)
        c.decision, c.decision_text, c.decided_on = decision, text, c.meeting_on
        participants = list(c.participants.order_by("pk"))
        follow_day = c.decided_on
        for pt in participants:
            pt.commitment = rng.choice(COMMITMENTS)
            follow_day = min(follow_day + timedelta(days=rng.randint(10, 30)), today)
            roll = rng.random()
            if state == ConsultationState.DECIDED and roll < 0.3:
                pt.save(update_fields=["commitment"])  # not reported yet
                continue
            pt.commitment_kept = state == ConsultationState.CLOSED or roll < 0.8
            ConsultationFollowUp.objects.create(
                consultation=c,
                on=follow_day,
                note=KEPT if pt.commitment_kept else NOT_KEPT,
                institution_id=pt.institution_id,
                kept=pt.commitment_kept,
                author=(users[("inst", pt.institution_id)] or [None])[0],
            )
            pt.save(update_fields=["commitment", "commitment_kept"])
        ConsultationFollowUp.objects.create(
            consultation=c, on=follow_day, note=rng.choice(FOLLOW_UPS), author=admin
        )
        if state == ConsultationState.CLOSED:
            c.closed_on = follow_day
            c.closing_note = "各贷款银行均已履行会商承诺，企业经营恢复正常，会商办结。"
        c.save()
    ctx.counts["risk_consultations"] = made


def digest_rows():
    yield (
        "risk_consultations",
        Consultation.objects.order_by("enterprise__uscc", "requested_on").values_list(
            "enterprise__uscc",
            "kind",
            "state",
            "requested_on",
            "meeting_on",
            "decision",
            "closed_on",
        ),
    )
    yield (
        "risk_consultation_follow_ups",
        ConsultationFollowUp.objects.order_by(
            "consultation__enterprise__uscc", "on", "institution__name", "note"
        ).values_list("consultation__enterprise__uscc", "on", "institution__name", "kept", "note"),
    )
