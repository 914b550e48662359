"""Financing statistics split by policy group, and the 无贷户 list.

Groups (`group_choices`), each defined once:

- loan groups, facts of one loan (here):
  - first_loan 首贷: the enterprise's first loan on record — no loan of the
    same enterprise (any lender, any status) was disbursed earlier (same day:
    a lower id); a 无还本续贷 is never a first loan (its predecessor is earlier);
  - credit 信用贷: `collateral` = 信用; secured 担保类: 保证, 抵押 or 质押
    (loans whose 担保方式 is not reported are in neither);
- enterprise groups, from insights.groups (qualifications, 绿色库, 三类企业,
  五类项目, 白名单, and those apps above register: 产业链 from supplychain,
  无贷户 from here): a loan or demand counts for the group when its enterprise
  is a member on `as_of`.

Figures per group (and in total), over what the viewer may see — loans by
`LoanAccount.visible_to` (government: its region subtree; a bank: its own
loans), demands and dispatches by their own `visible_to`:

- loans / amount: loans disbursed in [start, end] and their principal (元);
- balance / balance_loans: the balance on `as_of`, rebuilt from the history
  (principal less principal repaid on or before `as_of`; nothing for a loan
  closed — settled, renewed, recalled, written off — on or before `as_of`),
  and how many loans have one;
- avg_rate: principal-weighted mean rate (%) of the period's loans that
  carry a rate, rounded once to 4 places (half up);
- demands, dispatches, claims, financings and 接单率 (claims / dispatches),
  获得率 (financings / demands) — the definitions of demands.stats (StatRow),
  over demands published in [start, end]; for enterprise groups only (a
  demand is no loan yet, so it has no 担保方式 and no 首贷).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chanrong.core.errors import FieldError, NotAllowed, ValidationFailed
from chanrong.core.models import Industry, Region
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.demands.models import Demand, DemandState, Dispatch
from chanrong.demands.stats import StatRow
from chanrong.insights import groups as policy_groups
from chanrong.registry.models import Enterprise, EnterpriseSize

from ..models import SECURED, Collateral, LoanAccount, Repayment

MAX_SPAN_DAYS = 3660
REGION_CODE = re.compile(r"^[0-9]{6}$")
INDUSTRY_CODE = re.compile(r"^[A-Z][0-9]{0,4}$")
RATE_PLACES = Decimal("0.0001")


# --- the loan groups and 无贷户 ------------------------------------------------------------------


def first_loans(loans: QuerySet) -> QuerySet:
    """首贷: loans that are their enterprise's first loan on record."""
    earlier = LoanAccount.objects.filter(enterprise_id=OuterRef("enterprise_id")).filter(
        Q(disbursed_on__lt=OuterRef("disbursed_on"))
        | Q(disbursed_on=OuterRef("disbursed_on"), pk__lt=OuterRef("pk"))
    )
    return loans.filter(~Exists(earlier))


def credit_loans(loans: QuerySet) -> QuerySet:
    return loans.filter(collateral=Collateral.CREDIT)


def secured_loans(loans: QuerySet) -> QuerySet:
    return loans.filter(collateral__in=SECURED)


LOAN_GROUPS = {
    "first_loan": (
        gettext_lazy("首贷"),
        gettext_lazy(
            "企业在平台贷款台账中的第一笔贷款（任何机构、任何状态的贷款中放款最早的一笔）"
        ),
        first_loans,
    ),
    "credit": (gettext_lazy("信用贷款"), gettext_lazy("担保方式为信用的贷款"), credit_loans),
    "secured": (
        gettext_lazy("担保类贷款"),
        gettext_lazy("担保方式为保证、抵押或质押的贷款（未报送担保方式的不计入）"),
        secured_loans,
    ),
}


def no_loan_members(day: dt.date) -> QuerySet:
    """无贷户: enterprises with no loan on record disbursed on or before `day`."""
    loans = LoanAccount.objects.filter(enterprise_id=OuterRef("pk"), disbursed_on__lte=day)
    return Enterprise.objects.filter(~Exists(loans))


NO_LOAN = policy_groups.PolicyGroup(
    "no_loan",
    gettext_lazy("无贷户"),
    gettext_lazy("截至统计日在平台贷款台账中没有任何贷款记录（任何机构、任何状态）的企业"),
    no_loan_members,
    40,
)


def register_groups() -> None:
    """无贷户 joins the registry of enterprise groups (insights.groups)."""
    policy_groups.register_group(NO_LOAN)


def group_choices() -> list[tuple[str, str, str]]:
    """(key, label, definition) of every group: loan groups first."""
    rows = [(key, str(label), str(text)) for key, (label, text, _f) in LOAN_GROUPS.items()]
    rows += [(g.key, str(g.label), str(g.definition)) for g in policy_groups.groups()]
    return rows


# --- the query -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    start: dt.date
    end: dt.date
    as_of: dt.date
    group: str = ""
    region: Region | None = None


def _day(value: Any, name: str, errors: list[FieldError]) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        errors.append(FieldError(name, _("应为日期，如 2026-01-31")))
        return None


def clean_region(value: Any, errors: list[FieldError], name: str = "region") -> Region | None:
    code = str(value or "").strip()
    if not code:
        return None
    region = Region.objects.filter(code=code).first() if REGION_CODE.match(code) else None
    if region is None:
        errors.append(FieldError(name, _("应为 6 位行政区划代码")))
    return region


def clean_group(value: Any, errors: list[FieldError], name: str = "group") -> str:
    key = str(value or "").strip()
    if key and key not in {k for k, _l, _d in group_choices()}:
        errors.append(FieldError(name, _("未知的政策群体：%(g)s") % {"g": key[:40]}))
        return ""
    return key


def clean_query(
    *, group: Any = "", region: Any = "", start: Any = None, end: Any = None, as_of: Any = None
) -> Query:
    """The query's fields, checked; errors by field (`from`, `to`, `as_of`,
    `group`, `region`), never a 500. Defaults: to = today, from = 1 January
    of that year, as_of = to."""
    errors: list[FieldError] = []
    today = timezone.localdate()
    end_day = _day(end, "to", errors)
    start_day = _day(start, "from", errors)
    as_of_day = _day(as_of, "as_of", errors)
    key = clean_group(group, errors)
    place = clean_region(region, errors)
    end_day = end_day or today
    start_day = start_day or end_day.replace(month=1, day=1)
    as_of_day = as_of_day or end_day
    if start_day > end_day:
        errors.append(FieldError("from", _("开始日期不能晚于结束日期")))
    elif (end_day - start_day).days > MAX_SPAN_DAYS:
        errors.append(FieldError("from", _("统计区间最长 10 年")))
    if as_of_day > today:
        errors.append(FieldError("as_of", _("统计日不能晚于今天")))
    if end_day > today:
        errors.append(FieldError("to", _("结束日期不能晚于今天")))
    if errors:
        raise ValidationFailed(errors)
    return Query(start_day, end_day, as_of_day, key, place)


# --- the split -----------------------------------------------------------------------------------


@dataclass
class GroupRow:
    key: str
    label: str
    definition: str = ""
    loans: int = 0
    amount: Decimal = Decimal(0)
    balance: Decimal = Decimal(0)
    balance_loans: int = 0
    _weighted: Decimal = field(default=Decimal(0), repr=False)
    _rated: Decimal = field(default=Decimal(0), repr=False)
    demand: StatRow | None = None

    @property
    def avg_rate(self) -> Decimal | None:
        if not self._rated:
            return None
        return (self._weighted / self._rated).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)

    def add_loan(self, loan: dict[str, Any], query: Query, balance: Decimal) -> None:
        if query.start <= loan["disbursed_on"] <= query.end:
            self.loans += 1
            self.amount += loan["principal"]
            if loan["rate"] is not None:
                self._weighted += loan["principal"] * loan["rate"]
                self._rated += loan["principal"]
        if balance > 0:
            self.balance += balance
            self.balance_loans += 1

    def as_dict(self) -> dict[str, Any]:
        demand = self.demand
        return {
            "key": self.key,
            "label": self.label,
            "definition": self.definition,
            "loans": self.loans,
            "amount": self.amount,
            "balance": self.balance,
            "balance_loans": self.balance_loans,
            "avg_rate": self.avg_rate,
            "demands": demand.demands if demand else None,
            "dispatches": demand.dispatches if demand else None,
            "claims": demand.claims if demand else None,
            "financings": demand.financings if demand else None,
            "claim_rate": demand.claim_rate if demand else None,
            "success_rate": demand.success_rate if demand else None,
        }


@dataclass
class Split:
    query: Query
    total: GroupRow
    rows: list[GroupRow]

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.query.start,
            "to": self.query.end,
            "as_of": self.query.as_of,
            "region": self.query.region.code if self.query.region else "",
            "total": self.total.as_dict(),
            "rows": [row.as_dict() for row in self.rows],
        }


def _in_region(queryset: QuerySet, region: Region | None, path: str = "enterprise__") -> QuerySet:
    if region is None:
        return queryset
    return queryset.filter(**{f"{path}region__code__startswith": region.prefix})


def balance_on(loan: dict[str, Any], repaid: Decimal, day: dt.date) -> Decimal:
    """A loan's balance on `day` from its history (see the module docstring)."""
    if loan["disbursed_on"] > day:
        return Decimal(0)
    if loan["closed_on"] is not None and loan["closed_on"] <= day:
        return Decimal(0)
    return max(loan["principal"] - repaid, Decimal(0))


def _demands(actor, query: Query) -> QuerySet:
    tz = timezone.get_current_timezone()
    low = timezone.make_aware(dt.datetime.combine(query.start, dt.time.min), tz)
    high = timezone.make_aware(dt.datetime.combine(query.end + dt.timedelta(1), dt.time.min), tz)
    demands = _in_region(
        Demand.objects.visible_to(actor)
        .exclude(state=DemandState.DRAFT)
        .filter(published_at__gte=low, published_at__lt=high),
        query.region,
    )
    return demands


def _demand_rows(actor, demands: QuerySet) -> tuple[list[tuple], list[tuple]]:
    rows = list(demands.values_list("pk", "enterprise_id", "amount", "state", "disbursed_amount"))
    dispatches = list(
        Dispatch.objects.visible_to(actor)
        .filter(demand__in=demands)
        .values_list("demand_id", "claimed_at")
    )
    return rows, dispatches


def _demand_stat(key: str, members: set[int] | None, rows, dispatches) -> StatRow:
    """demands.stats' counts for the demands of `members` (None: all)."""
    stat = StatRow(key, "")
    chosen: set[int] = set()
    for pk, enterprise_id, amount, state, disbursed_amount in rows:
        if members is not None and enterprise_id not in members:
            continue
        chosen.add(pk)
        stat.demands += 1
        stat.demand_amount += amount
        if state == DemandState.DISBURSED and disbursed_amount is not None:
            stat.financings += 1
            stat.financing_amount += disbursed_amount
    for demand_id, claimed_at in dispatches:
        if demand_id in chosen:
            stat.dispatches += 1
            stat.claims += claimed_at is not None
    return stat


def _member_ids(key: str, day: dt.date, loans: QuerySet, demands: QuerySet) -> set[int]:
    """The group's members among the enterprises of `loans` and `demands`.

    The two sets go to the database as subqueries, not as lists of ids: a
    bank's book at scale 10 touches ~3,000 enterprises, and ten groups each
    sent in a 3,000-literal IN list cost ~4 s per page (building the lookup,
    psycopg splitting the statement's placeholders, and a nested loop
    probing the list per row); the semi-join costs milliseconds."""
    involved = (
        loans.order_by().values("enterprise_id").union(demands.order_by().values("enterprise_id"))
    )
    members = policy_groups.members(key, day).filter(pk__in=involved)
    return set(members.order_by().values_list("pk", flat=True))


def split(actor, query: Query) -> Split:
    """The figures of every group (or of `query.group`) and in total."""
    loans_qs = _in_region(
        LoanAccount.objects.visible_to(actor).filter(disbursed_on__lte=max(query.end, query.as_of)),
        query.region,
    )
    columns = ("pk", "enterprise_id", "principal", "rate", "disbursed_on", "closed_on")
    loans = {row["pk"]: row for row in loans_qs.values(*columns)}
    repaid = dict(
        Repayment.objects.filter(loan__in=loans_qs, paid_on__lte=query.as_of)
        .values("loan_id")
        .annotate(total=Sum("principal"))
        .values_list("loan_id", "total")
    )
    balances = {
        pk: balance_on(row, repaid.get(pk) or Decimal(0), query.as_of) for pk, row in loans.items()
    }
    demands = _demands(actor, query)
    demand_rows, dispatches = _demand_rows(actor, demands)

    total = GroupRow("", _("合计"))
    for pk, row in loans.items():
        total.add_loan(row, query, balances[pk])
    total.demand = _demand_stat("", None, demand_rows, dispatches)

    rows: list[GroupRow] = []
    for key, label, definition in group_choices():
        if query.group and key != query.group:
            continue
        row = GroupRow(key, label, definition)
        if key in LOAN_GROUPS:
            chosen = set(LOAN_GROUPS[key][2](loans_qs).values_list("pk", flat=True))
            for pk in chosen:
                row.add_loan(loans[pk], query, balances[pk])
        else:
            members = _member_ids(key, query.as_of, loans_qs, demands)
            for pk, loan in loans.items():
                if loan["enterprise_id"] in members:
                    row.add_loan(loan, query, balances[pk])
            row.demand = _demand_stat(key, members, demand_rows, dispatches)
        rows.append(row)
    return Split(query, total, rows)


# --- the 无贷户 list ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoLoanQuery:
    as_of: dt.date
    region: Region | None = None
    industry: str = ""
    size: str = ""
    group: str = ""


def clean_no_loan(
    *, as_of: Any = None, region: Any = "", industry: Any = "", size: Any = "", group: Any = ""
) -> NoLoanQuery:
    errors: list[FieldError] = []
    day = _day(as_of, "as_of", errors) or timezone.localdate()
    place = clean_region(region, errors)
    code = str(industry or "").strip().upper()
    if code and not (INDUSTRY_CODE.match(code) and Industry.objects.filter(code=code).exists()):
        errors.append(FieldError("industry", _("应为国民经济行业分类代码，如 C 或 C39")))
    size_value = str(size or "").strip()
    if size_value and size_value not in EnterpriseSize.values:
        errors.append(FieldError("size", _("应为 large、medium、small 或 micro")))
    key = str(group or "").strip()
    enterprise_groups = {g.key for g in policy_groups.groups()}
    if key and key not in enterprise_groups:
        errors.append(FieldError("group", _("应为企业群体（不含贷款群体）之一")))
    if day > timezone.localdate():
        errors.append(FieldError("as_of", _("统计日不能晚于今天")))
    if errors:
        raise ValidationFailed(errors)
    return NoLoanQuery(day, place, code, size_value, key)


def no_loan_enterprises(actor, query: NoLoanQuery) -> QuerySet:
    """The enterprises the actor may see with no loan on record by
    `query.as_of` (无贷户), narrowed by region, industry (section or
    division, by prefix), size and another enterprise group."""
    queryset = Enterprise.objects.visible_to(actor).filter(
        pk__in=no_loan_members(query.as_of).values("pk")
    )
    queryset = _in_region(queryset, query.region, path="")
    if query.industry:
        queryset = queryset.filter(industry__code__startswith=query.industry)
    if query.size:
        queryset = queryset.filter(size=query.size)
    if query.group:
        queryset = queryset.filter(
            pk__in=policy_groups.members(query.group, query.as_of).values("pk")
        )
    return queryset.select_related("region", "industry").order_by("region_id", "name", "pk")


def may_view(actor) -> bool:
    """Statistics by group and the 无贷户 list are for government (its region
    subtree), institutions (their own loans, their authorised enterprises)
    and platform admins; an enterprise user has no such page (404)."""
    return scope_of(actor).kind in (ScopeKind.PLATFORM, ScopeKind.GOVERNMENT, ScopeKind.INSTITUTION)


# --- 首贷培育: a government clerk sends the list to a bank's outreach -----------------------------


def send_to_outreach(actor, query: NoLoanQuery, institution_id: Any) -> int:
    """A government user sends the 无贷户 list it filtered to a financial
    institution for 首贷培育: the institution's staff are told how many
    enterprises it holds and get a link to their outreach list filtered to
    无贷户 (matching's outreach, `group=no_loan`). Audited; returns the count."""
    from chanrong.core import audit, notify
    from chanrong.demands.services.common import institution_users
    from chanrong.finance.models import FinancialInstitution

    if scope_of(actor).kind != ScopeKind.GOVERNMENT:
        raise NotAllowed(_("只有政府部门可以推送无贷户名单"))
    raw = str(institution_id or "").strip()
    institution = (
        FinancialInstitution.objects.filter(pk=int(raw)).first() if raw.isdigit() else None
    )
    if institution is None:
        raise ValidationFailed([FieldError("institution", _("请选择金融机构"))])
    count = no_loan_enterprises(actor, query).count()
    audit.record(
        "risk.no_loan.send",
        actor=actor,
        obj=institution,
        changes={
            "as_of": [None, query.as_of.isoformat()],
            "region": [None, query.region.code if query.region else ""],
            "industry": [None, query.industry],
            "size": [None, query.size],
            "group": [None, query.group],
            "count": [None, count],
        },
    )
    notify.send(
        institution_users(institution.pk),
        "risk.no_loan",
        _(
            "%(agency)s 推送无贷户名单（首贷培育）：%(n)s 户企业，请在主动对接推荐清单中按“无贷户”跟进"
        )
        % {"agency": getattr(getattr(actor, "agency", None), "name", ""), "n": count},
        link=reverse("demands:workbench") + "?outreach=no_loan",
    )
    return count
