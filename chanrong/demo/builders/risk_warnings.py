"""A year of early-warning history (预警历史) in the demo, so the government
dashboard's 预警趋势 — warnings opened, acknowledged and disposed per month —
shows a board in use rather than one day.

嘉善县经信局's rules (these, and the credit builder's two event rules) are
evaluated as the nightly run would have evaluated them at each month end of
the last `HISTORY_MONTHS` months, then on the build day, with
`warnings.evaluate(on=day)`: every matcher reads the facts as they stood on
that day where the data has dates — loan status reports (a report dated
later is replaced by the loan's event then in force), list versions in
force, tax grades published, operating months ended, qualifications held,
credit records dated. One set-based evaluation per month.

After each month end the people an alert was raised for handle a realistic
share of it: the staff of a bank with a loan on its books to the enterprise
that day, or the agency's admin, acknowledge it a few days later and most
are disposed of some weeks after that, red ones sooner. Handling dated
before the next evaluation is applied before it, so a disposed alert whose
condition persists is raised again the next month, as the nightly run does;
handling that would fall on or after the build day does not happen, and the
build day's own alerts are still open. Nothing is dated after the build day.

Deterministic by seed: its own random stream, alerts in (rule, USCC) order;
bulk writes, no per-row audit (the build records one entry).
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q

from chanrong.risk.models import Alert, AlertState, LoanAccount, LoanStatus, WarningRule
from chanrong.risk.services import warnings

from .base import TZ, DemoContext, bulk_set

NAME = "risk-warnings"
#: Month ends evaluated before the build day.
HISTORY_MONTHS = 12
#: Of a month's alerts: the share acknowledged, and of those the share disposed of.
ACKNOWLEDGED_SHARE = 0.85
DISPOSED_SHARE = 0.7
#: The share of alerts a bank with exposure handles (when it has staff on the platform).
BANK_SHARE = 0.6
#: How much slower (or faster) each severity is handled.
PACE = {"red": 0.5, "orange": 1.0, "yellow": 1.5}

#: 嘉善县经信局's early-warning rules: (name, kind, severity, params).
RULES = (
    ("贷款逾期 90 天以上", "overdue", "red", {"days": 90}),
    ("贷款逾期 30 天以上", "overdue", "orange", {"days": 30}),
    ("五级分类下调", "downgrade", "orange", {"within_days": 180}),
    ("列入失信黑名单", "blacklisted", "red", {}),
    ("纳税信用等级下降", "tax_grade_drop", "yellow", {}),
    ("营业收入同比下降 20% 以上", "revenue_collapse", "yellow", {"drop_percent": 20}),
    ("高新技术企业等资质 30 天内到期", "qualification_expiry", "yellow", {"within_days": 30}),
)
AGENCY_DISPOSALS = (
    "已约谈企业负责人，企业承诺三个月内归还逾期本息",
    "经核实为企业账户临时冻结导致，已解除",
    "已协调贷款银行办理展期，纳入重点关注名单",
    "已提请县金融风险处置工作领导小组会商",
)
BANK_DISPOSALS = (
    "已上门走访企业，核实经营情况正常，列入贷后重点关注",
    "企业已归还逾期本息，分类恢复正常",
    "已追加担保措施，按月跟踪企业现金流",
    "已压降授信额度，到期后不再续贷",
)


@dataclass
class Handling:
    """What happens to one alert after it is opened: each step's moment and actor."""

    alert: Alert
    user_id: int
    note: str
    acknowledged_at: datetime | None
    disposed_at: datetime | None


def build(ctx: DemoContext) -> None:
    """The rules, a year of month-end evaluations and their handling, then
    the build day's evaluation."""
    from chanrong.accounts.models import GovernmentAgency, User

    agency = GovernmentAgency.objects.filter(users__username="gov_jiashan").first()
    if agency is None:
        return
    admin = User.objects.get(username="gov_jiashan")
    WarningRule.objects.bulk_create(
        WarningRule(agency=agency, region_prefix=agency.region_prefix, name=name, kind=kind,
                    severity=severity, params=params, created_by=admin)
        for name, kind, severity, params in RULES
    )  # fmt: skip
    # One member of staff per bank on the platform (the first by username).
    staff: dict[int, int] = {}
    for user_id, institution_id in (
        User.objects.filter(institution__isnull=False, is_active=True)
        .order_by("username")
        .values_list("pk", "institution_id")
    ):
        staff.setdefault(institution_id, user_id)
    rng = ctx.rng(NAME)
    pending: list[Handling] = []
    handled: dict[int, Alert] = {}
    for day in month_ends(ctx.today, HISTORY_MONTHS):
        _apply(pending, _start(day), handled)
        warnings.evaluate(on=day, notify_users=False)
        opened = _opened(day)
        exposure = _exposure(day, {a.enterprise_id for a in opened}, set(staff))
        for alert in opened:
            pending.append(_plan(rng, alert, admin.pk, staff, exposure.get(alert.enterprise_id)))
    _apply(pending, ctx.history_end, handled)
    _write(handled)
    warnings.evaluate(on=ctx.today, notify_users=False)
    _opened(ctx.today)
    alerts = Alert.objects.all()
    ctx.counts["risk_alerts"] = alerts.count()
    ctx.counts["risk_alerts_live"] = alerts.live().count()


def month_ends(today: date, months: int) -> list[date]:
    """The last day of each of the `months` months before `today`'s, oldest first."""
    first = today.replace(day=1)
    out = []
    for _ in range(months):
        first = (first - timedelta(days=1)).replace(day=1)
    for _ in range(months):
        following = (first + timedelta(days=32)).replace(day=1)
        out.append(following - timedelta(days=1))
        first = following
    return out


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=TZ)


def _at(rng: random.Random, day: date) -> datetime:
    """A moment in office hours of `day`."""
    return datetime.combine(day, time(9 + rng.randint(0, 7), rng.randint(0, 59)), tzinfo=TZ)


def _opened(day: date) -> list[Alert]:
    """The alerts the evaluation of `day` opened, stamped as created by that
    day's nightly run (at the start of the day)."""
    alerts = Alert.objects.filter(opened_on=day)
    alerts.update(created_at=_start(day))
    return list(alerts.select_related("rule").order_by("rule__name", "enterprise__uscc"))


def _exposure(day: date, enterprise_ids: set[int], banks: set[int]) -> dict[int, int]:
    """{enterprise: the first bank with staff on the platform that had a loan
    on its books to it on `day`} — who the alert was raised for."""
    loans = (
        LoanAccount.objects.filter(
            enterprise_id__in=enterprise_ids, institution_id__in=banks, disbursed_on__lte=day
        )
        .filter(Q(status__in=(LoanStatus.ACTIVE, LoanStatus.RECALLED)) | Q(closed_on__gt=day))
        .order_by("enterprise_id", "institution__name")
        .values_list("enterprise_id", "institution_id")
    )
    out: dict[int, int] = {}
    for enterprise_id, institution_id in loans:
        out.setdefault(enterprise_id, institution_id)
    return out


def _plan(
    rng: random.Random, alert: Alert, admin_id: int, staff: dict[int, int], bank: int | None
) -> Handling:
    """Who handles the alert and when: a bank with exposure for a share of
    them, else the agency; acknowledged days later, disposed of weeks later,
    red sooner and yellow later. Some stay unhandled."""
    by_bank = bank is not None and rng.random() < BANK_SHARE
    user_id = staff[bank] if by_bank else admin_id
    note = rng.choice(BANK_DISPOSALS if by_bank else AGENCY_DISPOSALS)
    pace = PACE.get(alert.severity, 1.0)
    acknowledged_at = disposed_at = None
    if rng.random() < ACKNOWLEDGED_SHARE:
        acknowledged = alert.opened_on + timedelta(days=1 + round(rng.randint(1, 10) * pace))
        acknowledged_at = _at(rng, acknowledged)
        if rng.random() < DISPOSED_SHARE:
            disposed = acknowledged + timedelta(days=round(rng.randint(3, 35) * pace))
            disposed_at = max(_at(rng, disposed), acknowledged_at + timedelta(hours=1))
    return Handling(alert, user_id, note, acknowledged_at, disposed_at)


def _apply(pending: list[Handling], before: datetime, handled: dict[int, Alert]) -> None:
    """Carry out every step dated before `before` (the next evaluation, or
    the build day). The states are written at once, one update per state,
    since the next evaluation reads them; who and when are kept in `handled`
    and written once at the end (`_write`). What is still ahead stays pending."""
    moved: dict[str, list[int]] = defaultdict(list)
    remaining: list[Handling] = []
    for item in pending:
        alert = item.alert
        state = alert.state
        if item.acknowledged_at and item.acknowledged_at < before and not alert.acknowledged_at:
            alert.state = AlertState.ACKNOWLEDGED
            alert.acknowledged_by_id = item.user_id
            alert.acknowledged_at = item.acknowledged_at
        if item.disposed_at and item.disposed_at < before and not alert.disposed_at:
            alert.state = AlertState.DISPOSED
            alert.disposed_by_id = item.user_id
            alert.disposed_at = item.disposed_at
            alert.disposal = item.note
        if alert.state != state:
            moved[alert.state].append(alert.pk)
            handled[alert.pk] = alert
        if (item.acknowledged_at and not alert.acknowledged_at) or (
            item.disposed_at and not alert.disposed_at
        ):
            remaining.append(item)
    pending[:] = remaining
    for state, pks in sorted(moved.items()):
        Alert.objects.filter(pk__in=pks).update(state=state)


def _write(handled: dict[int, Alert]) -> None:
    """Who handled each alert and when: one bulk update after the last evaluation."""
    bulk_set(
        Alert,
        [handled[pk] for pk in sorted(handled)],
        ["acknowledged_by", "acknowledged_at", "disposed_by", "disposed_at", "disposal"],
        batch_size=500,
    )


def digest_rows():
    yield (
        "risk_alerts",
        Alert.objects.order_by("rule__name", "enterprise__uscc", "opened_on").values_list(
            "rule__name",
            "enterprise__uscc",
            "severity",
            "state",
            "opened_on",
            "detail",
            "acknowledged_by__username",
            "disposed_by__username",
        ),
    )
