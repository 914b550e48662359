"""Early-warning rules (预警规则) and their evaluation.

A rule is data: a kind, its parameters (checked here, in one place) and a
severity. `evaluate` asks each enabled rule which enterprises of its region
match on a day — every matcher is a few set-based queries over facts the
platform holds, never a loop of queries per enterprise — and opens an alert
for each match that has no live alert of that rule yet. It runs when the data
changes (a loan report, a registry change, a list published, credit
records recorded: see `apps.ready`) for the enterprises concerned, and nightly for everyone.

Who is told: the users of the rule's agency, and the staff of every
institution with a loan on its books to the enterprise — one message per
person per run ("新增 3 条风险预警"), not one per alert.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, Subquery, Sum, When
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.accounts.models import Role, User
from chanrong.core import audit, notify
from chanrong.core.errors import FieldError, NotAllowed, ValidationFailed
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.core.workflow import apply_transition
from chanrong.registry.models import (
    CreditKind,
    CreditRecord,
    ListEntry,
    ListType,
    OperatingRecord,
    Qualification,
    TaxCreditGrade,
)

from ..models import (
    CLASS_RANK,
    Alert,
    LoanAccount,
    LoanEvent,
    LoanEventKind,
    LoanStatus,
    RuleKind,
    Severity,
    WarningRule,
)
from ..workflows import ALERT

#: Tax grades from best to worst (M, for new taxpayers, between B and C).
GRADE_RANK = {"A": 0, "B": 1, "M": 2, "C": 3, "D": 4}
ON_BOOK = (LoanStatus.ACTIVE, LoanStatus.RECALLED)

#: kind → {param: (default, minimum, maximum, label)}.
PARAMS: dict[str, dict[str, tuple[int, int, int, str]]] = {
    RuleKind.TAX_GRADE_DROP: {},
    RuleKind.BLACKLISTED: {},
    RuleKind.OVERDUE: {"days": (30, 1, 3650, _("逾期天数不少于"))},
    RuleKind.DOWNGRADE: {"within_days": (90, 1, 730, _("近多少天内下调"))},
    RuleKind.REVENUE_COLLAPSE: {"drop_percent": (30, 1, 100, _("营业收入同比下降不少于（%）"))},
    RuleKind.ELECTRICITY_DROP: {
        "drop_percent": (40, 1, 100, _("用电量同比下降不少于（%）")),
        "months": (3, 1, 12, _("比较最近几个月")),
    },
    RuleKind.QUALIFICATION_EXPIRY: {"within_days": (60, 1, 365, _("多少天内到期"))},
    RuleKind.LOW_SCORE: {"below": (500, 0, 1000, _("评分低于"))},
    RuleKind.PENALTY_EVENT: {
        "within_days": (365, 1, 3650, _("近多少天内")),
        "min_amount": (0, 0, 10**12, _("罚没金额不少于（元，0 为不限）")),
    },
    RuleKind.JUDGMENT_EVENT: {
        "within_days": (365, 1, 3650, _("近多少天内")),
        "min_amount": (0, 0, 10**12, _("涉案金额不少于（元，0 为不限）")),
    },
}


def parse_params(kind: str, raw: Any) -> dict[str, int]:
    """The rule's parameters, defaults filled in; each problem a field error
    named `params.<name>`; unknown names are refused, not ignored."""
    if kind not in PARAMS:
        raise ValidationFailed({"kind": _("未知的规则类型")})
    raw = raw or {}
    if not isinstance(raw, dict):
        raise ValidationFailed({"params": _("参数应为对象")})
    spec = PARAMS[kind]
    errors: list[FieldError] = [
        FieldError(f"params.{name}", _("该规则没有此参数")) for name in raw if name not in spec
    ]
    out: dict[str, int] = {}
    for name, (default, low, high, _label) in spec.items():
        value = raw.get(name, default)
        if value in (None, ""):
            value = default
        try:
            if isinstance(value, bool) or Decimal(str(value)) != int(Decimal(str(value))):
                raise ValueError
            value = int(Decimal(str(value)))
        except (ValueError, ArithmeticError):
            errors.append(FieldError(f"params.{name}", _("应为整数")))
            continue
        if not low <= value <= high:
            errors.append(
                FieldError(f"params.{name}", _("应在 %(a)s 到 %(b)s 之间") % {"a": low, "b": high})
            )
            continue
        out[name] = value
    if errors:
        raise ValidationFailed(errors)
    return out


def can_manage_rules(actor) -> bool:
    scope = scope_of(actor)
    return scope.kind == ScopeKind.PLATFORM or (
        scope.kind == ScopeKind.GOVERNMENT and actor.role == Role.GOV_ADMIN
    )


def create_rule(actor, data: dict[str, Any]) -> WarningRule:
    """A rule of the actor's agency, watching the agency's region."""
    if not can_manage_rules(actor) or scope_of(actor).kind != ScopeKind.GOVERNMENT:
        raise NotAllowed(_("只有政府管理员可以配置预警规则"))
    errors: list[FieldError] = []
    name = str(data.get("name") or "").strip()
    if not name:
        errors.append(FieldError("name", _("必填")))
    elif len(name) > 100:
        errors.append(FieldError("name", _("最多 100 个字符")))
    kind = str(data.get("kind") or "")
    if kind not in RuleKind.values:
        errors.append(FieldError("kind", _("未知的规则类型")))
    severity = str(data.get("severity") or "")
    if severity not in Severity.values:
        errors.append(FieldError("severity", _("应为红色、橙色或黄色")))
    params: dict[str, int] = {}
    if kind in RuleKind.values:
        try:
            params = parse_params(kind, data.get("params"))
        except ValidationFailed as exc:
            errors.extend(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        rule = WarningRule.objects.create(
            agency=actor.agency,
            region_prefix=scope_of(actor).region_prefix,
            name=name,
            kind=kind,
            params=params,
            severity=severity,
            created_by=actor,
        )
        audit.record(
            "risk.rule.create",
            actor=actor,
            obj=rule,
            changes={"kind": [None, kind], "params": [None, params], "severity": [None, severity]},
        )
    return rule


def set_enabled(actor, rule: WarningRule, enabled: bool) -> WarningRule:
    if not can_manage_rules(actor) or (
        scope_of(actor).kind == ScopeKind.GOVERNMENT and rule.agency_id != actor.agency_id
    ):
        raise NotAllowed(_("只有规则所属部门的管理员可以启用或停用"))
    with transaction.atomic():
        before = rule.enabled
        rule.enabled = enabled
        rule.save(update_fields=["enabled", "updated_at"])
        audit.record(
            "risk.rule.enable", actor=actor, obj=rule, changes={"enabled": [before, enabled]}
        )
    return rule


# --- matchers: (rule, day, enterprise ids or None) → {enterprise id: what matched} --------------

Matches = dict[int, str]


def _in_region(queryset, rule: WarningRule, ids: set[int] | None, field: str = "enterprise"):
    queryset = queryset.filter(**{f"{field}__region__code__startswith": rule.region_prefix})
    if ids is not None:
        queryset = queryset.filter(**{f"{field}_id__in": ids})
    return queryset


def _tax_grade_drop(rule, on: date, ids) -> Matches:
    """The latest published grade is worse than the year before's."""
    rows = _in_region(TaxCreditGrade.objects.filter(year__lt=on.year), rule, ids)
    grades: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for enterprise_id, year, grade in rows.values_list("enterprise_id", "year", "grade"):
        grades[enterprise_id].append((year, grade))
    out: Matches = {}
    for enterprise_id, years in grades.items():
        years.sort()
        if len(years) < 2:
            continue
        (y0, g0), (y1, g1) = years[-2], years[-1]
        if GRADE_RANK.get(g1, 0) > GRADE_RANK.get(g0, 0):
            out[enterprise_id] = _("纳税信用等级由 %(a)s（%(y0)s 年）降为 %(b)s（%(y1)s 年）") % {
                "a": g0, "b": g1, "y0": y0, "y1": y1,
            }  # fmt: skip
    return out


def _blacklisted(rule, on: date, ids) -> Matches:
    entries = _in_region(
        ListEntry.objects.in_force(on).filter(
            version__list__list_type=ListType.BLACK, project__isnull=True
        ),
        rule,
        ids,
    )
    return {
        enterprise_id: _("列入「%(list)s」") % {"list": name}
        for enterprise_id, name in entries.values_list("enterprise_id", "version__list__name")
    }


def _overdue(rule, on: date, ids) -> Matches:
    """Loans on the books on `on` whose days overdue, as last reported on or
    before `on`, reach the threshold. A loan's row holds its latest report;
    when that report is dated after `on` (an evaluation of a past day: a
    re-run, the demo's history), the report then in force is read from the
    loan's events, so a past day is judged on what was known that day."""
    days = rule.params.get("days", 30)
    reported_then = Subquery(
        LoanEvent.objects.filter(loan=OuterRef("pk"), on__lte=on)
        .order_by("-on", "-pk")
        .values("days_overdue")[:1],
        output_field=IntegerField(),
    )
    loans = _in_region(
        LoanAccount.objects.filter(Q(status__in=ON_BOOK) | Q(closed_on__gt=on))
        .exclude(disbursed_on__gt=on)
        .annotate(
            overdue_then=Case(
                When(reported_on__gt=on, then=Coalesce(reported_then, 0)),
                default=F("days_overdue"),
                output_field=IntegerField(),
            )
        )
        .filter(overdue_then__gte=days),
        rule,
        ids,
    ).order_by("enterprise_id", "-overdue_then", "pk")
    out: Matches = {}
    for enterprise_id, no, pk, overdue in loans.values_list(
        "enterprise_id", "contract_no", "pk", "overdue_then"
    ):
        out.setdefault(
            enterprise_id,
            _("贷款 %(no)s 逾期 %(d)s 天") % {"no": no or f"LB-{pk}", "d": overdue},
        )
    return out


def _downgrade(rule, on: date, ids) -> Matches:
    since = on - timedelta(days=rule.params.get("within_days", 90))
    events = _in_region(
        LoanEvent.objects.filter(kind=LoanEventKind.STATUS, on__gt=since, on__lte=on).exclude(
            previous_classification=""
        ),
        rule,
        ids,
        field="loan__enterprise",
    ).order_by("loan__enterprise_id", "-on")
    out: Matches = {}
    for enterprise_id, before, after, day in events.values_list(
        "loan__enterprise_id", "previous_classification", "classification", "on"
    ):
        if enterprise_id in out or CLASS_RANK[after] <= CLASS_RANK[before]:
            continue
        labels = dict(LoanEvent._meta.get_field("classification").choices)
        out[enterprise_id] = _("%(day)s 贷款五级分类由%(a)s下调为%(b)s") % {
            "day": day.isoformat(), "a": labels[before], "b": labels[after],
        }  # fmt: skip
    return out


def _year_over_year(
    rule, on: date, ids, field: str, months: int
) -> dict[int, tuple[Decimal, Decimal]]:
    """{enterprise: (last `months` months, the same months a year before)} of
    `field`, over months already ended, for enterprises with both."""
    end = on.replace(day=1)
    start = _months_before(end, months)
    base = _in_region(OperatingRecord.objects.filter(period_type="month"), rule, ids)
    now = dict(
        base.filter(period_start__gte=start, period_start__lt=end)
        .values("enterprise_id").annotate(v=Sum(field)).values_list("enterprise_id", "v")
    )  # fmt: skip
    earlier_start = _months_before(start, 12)
    earlier_end = _months_before(end, 12)
    before = dict(
        base.filter(period_start__gte=earlier_start, period_start__lt=earlier_end)
        .values("enterprise_id").annotate(v=Sum(field)).values_list("enterprise_id", "v")
    )  # fmt: skip
    return {
        e: (now[e], before[e])
        for e in now
        if now[e] is not None and before.get(e) and before[e] > 0
    }


def _months_before(first_of_month: date, months: int) -> date:
    index = first_of_month.year * 12 + first_of_month.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def _drop(rule, on, ids, field: str, months: int, wording: str) -> Matches:
    threshold = Decimal(rule.params.get("drop_percent", 30))
    out: Matches = {}
    for enterprise_id, (now, before) in _year_over_year(rule, on, ids, field, months).items():
        change = (now - before) * 100 / before
        if change <= -threshold:
            out[enterprise_id] = wording % {"m": months, "p": f"{-change:.1f}"}
    return out


def _revenue_collapse(rule, on, ids) -> Matches:
    return _drop(rule, on, ids, "revenue", 12, _("近 %(m)s 个月营业收入同比下降 %(p)s%%"))


def _electricity_drop(rule, on, ids) -> Matches:
    months = rule.params.get("months", 3)
    return _drop(rule, on, ids, "electricity_kwh", months, _("近 %(m)s 个月用电量同比下降 %(p)s%%"))


def _qualification_expiry(rule, on, ids) -> Matches:
    until = on + timedelta(days=rule.params.get("within_days", 60))
    held = _in_region(
        Qualification.objects.active_on(on).filter(valid_until__gte=on, valid_until__lte=until),
        rule,
        ids,
    ).order_by("enterprise_id", "valid_until")
    out: Matches = {}
    for enterprise_id, kind, day in held.values_list("enterprise_id", "kind", "valid_until"):
        labels = dict(Qualification._meta.get_field("kind").choices)
        out.setdefault(
            enterprise_id,
            _("%(kind)s 将于 %(day)s 到期")
            % {"kind": labels.get(kind, kind), "day": day.isoformat()},
        )
    return out


def _low_score(rule, on, ids) -> Matches:
    """Each enterprise's latest score under the live version (as of `on`)
    below the threshold. An earlier low score that a later run raised, or one
    a retired version gave, is history and raises nothing."""
    from .scoring import latest_scores  # scoring reads the loan book; imported when used

    below = rule.params.get("below", 500)
    scores = _in_region(latest_scores(on).filter(score__lt=below), rule, ids)
    return {
        enterprise_id: _("风险评分 %(s)s，低于 %(b)s") % {"s": round(score), "b": below}
        for enterprise_id, score in scores.order_by("enterprise_id").values_list(
            "enterprise_id", "score"
        )
    }


def _credit_events(rule, on: date, ids, kind: str, wording: str) -> Matches:
    """Credit records of `kind` (from the registry: imported or pushed by
    government) dated within the look-back window, at or above the minimum
    amount when one is set (a record without an amount then does not count).
    One query; the newest record is named, with how many there were."""
    since = on - timedelta(days=rule.params.get("within_days", 365))
    records = _in_region(
        CreditRecord.objects.filter(kind=kind, occurred_on__gt=since, occurred_on__lte=on),
        rule,
        ids,
    )
    minimum = rule.params.get("min_amount", 0)
    if minimum:
        records = records.filter(amount__gte=minimum)
    newest: dict[int, tuple[date, str, str, Decimal | None]] = {}
    counts: dict[int, int] = defaultdict(int)
    for enterprise_id, day, source, reference, amount in records.order_by(
        "enterprise_id", "-occurred_on", "-pk"
    ).values_list("enterprise_id", "occurred_on", "source", "reference", "amount"):
        counts[enterprise_id] += 1
        newest.setdefault(enterprise_id, (day, source, reference, amount))
    out: Matches = {}
    for enterprise_id, (day, source, reference, amount) in newest.items():
        text = wording % {"day": day.isoformat(), "source": source, "ref": reference}
        if amount is not None:
            text += _("，金额 %(a)s 元") % {"a": f"{amount:,.2f}"}
        if counts[enterprise_id] > 1:
            text += _("（近期共 %(n)s 条）") % {"n": counts[enterprise_id]}
        out[enterprise_id] = text
    return out


def _penalty_event(rule, on, ids) -> Matches:
    return _credit_events(
        rule, on, ids, CreditKind.PENALTY, _("%(day)s 受到%(source)s行政处罚（%(ref)s）")
    )


def _judgment_event(rule, on, ids) -> Matches:
    return _credit_events(rule, on, ids, CreditKind.JUDGMENT, _("%(day)s 涉诉：%(source)s %(ref)s"))


MATCHERS: dict[str, Callable[[WarningRule, date, set[int] | None], Matches]] = {
    RuleKind.TAX_GRADE_DROP: _tax_grade_drop,
    RuleKind.BLACKLISTED: _blacklisted,
    RuleKind.OVERDUE: _overdue,
    RuleKind.DOWNGRADE: _downgrade,
    RuleKind.REVENUE_COLLAPSE: _revenue_collapse,
    RuleKind.ELECTRICITY_DROP: _electricity_drop,
    RuleKind.QUALIFICATION_EXPIRY: _qualification_expiry,
    RuleKind.LOW_SCORE: _low_score,
    RuleKind.PENALTY_EVENT: _penalty_event,
    RuleKind.JUDGMENT_EVENT: _judgment_event,
}


# --- evaluation ---------------------------------------------------------------------------------


def evaluate(
    *,
    on: date | None = None,
    enterprise_ids: Iterable[int] | None = None,
    notify_users: bool = True,
) -> int:
    """Open an alert for every (enabled rule, matching enterprise) without a
    live one; returns how many were opened."""
    day = on or timezone.localdate()
    ids = set(enterprise_ids) if enterprise_ids is not None else None
    if ids is not None and not ids:
        return 0
    opened: list[Alert] = []
    for rule in WarningRule.objects.filter(enabled=True).order_by("pk"):
        matches = MATCHERS[rule.kind](rule, day, ids)
        if not matches:
            continue
        live = set(
            Alert.objects.live()
            .filter(rule=rule, enterprise_id__in=list(matches))
            .values_list("enterprise_id", flat=True)
        )
        opened += [
            Alert(
                rule=rule, enterprise_id=e, severity=rule.severity, detail=text[:500], opened_on=day
            )
            for e, text in sorted(matches.items())
            if e not in live
        ]
    if not opened:
        return 0
    with transaction.atomic():
        # Another evaluation may have opened the same alert meanwhile: the
        # partial unique index keeps one, the other insert is skipped.
        Alert.objects.bulk_create(opened, batch_size=1000, ignore_conflicts=True)
    if notify_users:
        _tell(opened)
    return len(opened)


def _tell(alerts: list[Alert]) -> None:
    per_user: dict[int, int] = defaultdict(int)
    agencies = defaultdict(int)
    for alert in alerts:
        agencies[alert.rule.agency_id] += 1
    for user_id in User.objects.filter(agency_id__in=list(agencies), is_active=True).values_list(
        "pk", "agency_id"
    ):
        per_user[user_id[0]] += agencies[user_id[1]]
    exposure = (
        LoanAccount.objects.filter(
            status__in=ON_BOOK, enterprise_id__in={a.enterprise_id for a in alerts}
        )
        .values_list("institution_id", "enterprise_id")
        .distinct()
    )
    per_institution: dict[int, set[int]] = defaultdict(set)
    for institution_id, enterprise_id in exposure:
        per_institution[institution_id].add(enterprise_id)
    counts = defaultdict(int)
    for alert in alerts:
        for institution_id, enterprises in per_institution.items():
            if alert.enterprise_id in enterprises:
                counts[institution_id] += 1
    for user_id, institution_id in User.objects.filter(
        institution_id__in=list(counts), is_active=True
    ).values_list("pk", "institution_id"):
        per_user[user_id] += counts[institution_id]
    link = reverse("risk:alerts")
    users = {u.pk: u for u in User.objects.filter(pk__in=list(per_user))}
    for user_id, n in sorted(per_user.items()):
        notify.send(
            [users[user_id]],
            "risk.alerts",
            _("新增 %(n)s 条风险预警") % {"n": n},
            link,
            email=False,
        )


# --- handling an alert --------------------------------------------------------------------------


def acknowledge(actor, alert: Alert) -> Alert:
    return apply_transition(ALERT, alert, "acknowledge", actor, changes={
        "acknowledged_by": actor, "acknowledged_at": timezone.now(),
    })  # fmt: skip


def dispose(actor, alert: Alert, note: str) -> Alert:
    note = (note or "").strip()
    if not note:
        raise ValidationFailed({"disposal": _("请填写处置情况")})
    if len(note) > 1000:
        raise ValidationFailed({"disposal": _("最多 1000 个字符")})
    return apply_transition(ALERT, alert, "dispose", actor, changes={
        "disposed_by": actor, "disposed_at": timezone.now(), "disposal": note,
    })  # fmt: skip


def board(queryset) -> dict[str, list[tuple[str, str, int]]]:
    """Live alerts counted by severity, by region and by industry."""
    live = queryset.live()
    by_severity = [
        (s, str(label), live.filter(severity=s).count()) for s, label in Severity.choices
    ]
    by_region = [
        (r["enterprise__region_id"], r["enterprise__region__name"], r["n"])
        for r in live.values("enterprise__region_id", "enterprise__region__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "enterprise__region_id")[:20]
    ]
    by_industry = [
        (r["enterprise__industry_id"] or "", r["enterprise__industry__name"] or "—", r["n"])
        for r in live.values("enterprise__industry_id", "enterprise__industry__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "enterprise__industry_id")[:12]
    ]
    return {"severity": by_severity, "region": by_region, "industry": by_industry}
