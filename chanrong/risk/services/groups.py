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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber
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


def first_loan_q() -> Q:
    """首贷: the loan is its enterprise's first loan on record — no loan of
    the enterprise was disbursed earlier, nor on the same day with a lower
    id: the first of its loans in (disbursed_on, id) order. A condition on a
    LoanAccount row; the first loans are numbered once (a window over the
    loans, hashed by the database) rather than each loan looking for an
    earlier one."""
    ranked = (
        LoanAccount.objects.order_by()
        .annotate(
            first_rank=Window(
                RowNumber(),
                partition_by=[F("enterprise_id")],
                order_by=[F("disbursed_on").asc(), F("pk").asc()],
            )
        )
        .filter(first_rank=1)
        .values("pk")
    )
    return Q(pk__in=ranked)


def credit_q() -> Q:
    return Q(collateral=Collateral.CREDIT)


def secured_q() -> Q:
    return Q(collateral__in=SECURED)


def first_loans(loans: QuerySet) -> QuerySet:
    """首贷: loans that are their enterprise's first loan on record."""
    return loans.filter(first_loan_q())


def credit_loans(loans: QuerySet) -> QuerySet:
    return loans.filter(credit_q())


def secured_loans(loans: QuerySet) -> QuerySet:
    return loans.filter(secured_q())


LOAN_GROUPS = {
    "first_loan": (
        gettext_lazy("首贷"),
        gettext_lazy(
            "企业在平台贷款台账中的第一笔贷款（任何机构、任何状态的贷款中放款最早的一笔）"
        ),
        first_loan_q,
    ),
    "credit": (gettext_lazy("信用贷款"), gettext_lazy("担保方式为信用的贷款"), credit_q),
    "secured": (
        gettext_lazy("担保类贷款"),
        gettext_lazy("担保方式为保证、抵押或质押的贷款（未报送担保方式的不计入）"),
        secured_q,
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
    *,
    group: Any = "",
    region: Any = "",
    start: Any = None,
    end: Any = None,
    as_of: Any = None,
    default_day: dt.date | None = None,
) -> Query:
    """The query's fields, checked; errors by field (`from`, `to`, `as_of`,
    `group`, `region`), never a 500. Defaults: to = today (or
    `default_day`: the kept sums' date), from = 1 January of that year,
    as_of = to."""
    errors: list[FieldError] = []
    today = timezone.localdate()
    end_day = _day(end, "to", errors)
    start_day = _day(start, "from", errors)
    as_of_day = _day(as_of, "as_of", errors)
    key = clean_group(group, errors)
    place = clean_region(region, errors)
    end_day = end_day or default_day or today
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
#
# The figures are sums, so the database adds them: each loan (and each demand)
# is tagged with the groups it counts for, as the bits of one integer, and the
# rows are summed per distinct tag (a few hundred combinations at most,
# whatever the size of the book). A group's figure is the sum over the tags
# that carry its bit. Two statements in all (loans with their repayments,
# demands with their dispatches), whose text does not depend on the book;
# each group's membership is compiled once and hashed by the database; money
# is summed in 分 as integers, so nothing is rounded on either database.


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


def _demands(actor, query: Query) -> QuerySet:
    return _demands_in(Demand.objects.visible_to(actor), query)


def _demands_in(demands: QuerySet, query: Query) -> QuerySet:
    """Those of `demands` published (past the draft) in the period, in the region."""
    tz = timezone.get_current_timezone()
    low = timezone.make_aware(dt.datetime.combine(query.start, dt.time.min), tz)
    high = timezone.make_aware(dt.datetime.combine(query.end + dt.timedelta(1), dt.time.min), tz)
    return _in_region(
        demands.exclude(state=DemandState.DRAFT).filter(
            published_at__gte=low, published_at__lt=high
        ),
        query.region,
    )


def _flag(condition: Q) -> Case:
    return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())


_MEMBERS_SQL: dict[tuple, tuple[str, tuple] | None] = {}


def _compiled_members(key: str, day: dt.date) -> tuple[str, tuple] | None:
    """A group's members on `day` as SQL, compiled once per process (and
    group definition, day and database): building the querysets of a dozen
    groups took as long as the statements that use them."""
    group = policy_groups.group(key)
    cache_key = (
        key,
        id(group),
        id(group.members) if group else 0,
        day,
        connection.vendor,
        timezone.get_current_timezone_name(),  # a date of a timestamp is the zone's
    )
    if cache_key not in _MEMBERS_SQL:
        if len(_MEMBERS_SQL) > 256:
            _MEMBERS_SQL.clear()
        _MEMBERS_SQL[cache_key] = _sql(policy_groups.members(key, day).order_by().values("pk"))
    return _MEMBERS_SQL[cache_key]


def _members_sql(keys: list[str], day: dt.date, column: str, first_bit: int) -> tuple[str, list]:
    """SQL adding, for each enterprise group of `keys`, its bit when
    `column` (an enterprise id) is a member on `day` — the registry's one
    definition (insights.groups) compiled once and sent as a semi-join that
    the database hashes ("0" without groups)."""
    parts, params = ["0"], []
    for offset, key in enumerate(keys):
        compiled = _compiled_members(key, day)
        if compiled is None:  # a group that can have no member
            continue
        sql, member_params = compiled
        parts.append(f"CASE WHEN {column} IN ({sql}) THEN {1 << (first_bit + offset)} ELSE 0 END")
        params += member_params
    return " + ".join(parts), params


def _sql(queryset: QuerySet) -> tuple[str, tuple] | None:
    try:
        return queryset.query.sql_with_params()
    except EmptyResultSet:
        return None


FEN = "CAST(ROUND({} * 100) AS BIGINT)"


@contextmanager
def _without_jit() -> Iterator[None]:
    """PostgreSQL plans the three statements without JIT compilation. Each
    tags every row with a dozen membership tests, so the planner's cost
    passes jit_above_cost even for a county's book, and compiling the
    expressions (~300 functions) took 0.4-0.5 s, longer than running them
    (~0.15 s), at every view. SET LOCAL lasts to the end of the transaction
    opened here; inside a caller's transaction it is set back after use."""
    if connection.vendor != "postgresql":
        yield
        return
    nested = connection.in_atomic_block
    with transaction.atomic(savepoint=False):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
        yield
        if nested:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit TO DEFAULT")


@dataclass
class _Sums:
    """Integers (money in 分) added over tags; `weighted` is Σ principal ×
    rate in units of 10⁻⁸ (分 × rate in millionths of a percent)."""

    loans: int = 0
    amount: int = 0
    weighted: int = 0
    rated: int = 0
    balance: int = 0
    balance_loans: int = 0
    demands: int = 0
    demand_amount: int = 0
    financings: int = 0
    financing_amount: int = 0
    dispatches: int = 0
    claims: int = 0

    def add(self, other: _Sums) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _yuan(fen: int, counted: bool) -> Decimal:
    """分 back to 元 with two places, as a sum of the rows' Decimals reads
    (Decimal(0) when nothing was added, as the sum started there)."""
    if not counted:
        return Decimal(0)
    return (Decimal(int(fen)) / 100).quantize(Decimal("0.01"))


def _loan_sums(
    loans_qs: QuerySet,
    loan_keys: list[str],
    enterprise_keys: list[str],
    query: Query,
    by: tuple[str, ...] = (),
) -> dict[tuple, _Sums]:
    """Per tag (the loan groups' bits first, then the enterprise groups'):
    loans disbursed in the period, their principal, the rated part of it
    and Σ principal × rate, and the balance on `as_of` (principal less
    principal repaid on or before it, for a loan disbursed by then and not
    closed by then) with the count of loans that have one. Keyed by
    (tag,), or by (*the loan's `by` fields, tag) for the kept sums."""
    flags = {f"g_loan{i}": _flag(LOAN_GROUPS[key][2]()) for i, key in enumerate(loan_keys)}
    extra = {f"g_by{i}": F(name) for i, name in enumerate(by)}
    compiled = _sql(
        loans_qs.order_by()
        .annotate(**flags)
        .values(
            *flags,
            **extra,
            g_id=F("pk"),
            g_enterprise=F("enterprise_id"),
            g_principal=F("principal"),
            g_rate=F("rate"),
            g_disbursed=F("disbursed_on"),
            g_closed=F("closed_on"),
        )
    )
    if compiled is None:
        return {}
    inner, params = compiled
    members, member_params = _members_sql(
        enterprise_keys, query.as_of, "t.g_enterprise", len(loan_keys)
    )
    tag = " + ".join([*(f"{1 << i} * t.g_loan{i}" for i in range(len(loan_keys))), members])
    principal = FEN.format("t.g_principal")
    repaid = FEN.format("COALESCE(p.repaid, 0)")
    rate = "CAST(ROUND(t.g_rate * 1000000) AS BIGINT)"
    if connection.vendor == "postgresql":
        # numeric: Σ over a county's loans of 分 × millionths can pass 2⁶³
        principal_x_rate = f"CAST({principal} AS NUMERIC) * {rate}"
    else:
        principal_x_rate = f"{principal} * {rate}"
    period = "t.g_disbursed >= %s AND t.g_disbursed <= %s"
    rated = f"{period} AND t.g_rate IS NOT NULL"
    live = (
        f"t.g_disbursed <= %s AND (t.g_closed IS NULL OR t.g_closed > %s) "
        f"AND {principal} > {repaid}"
    )
    repayment = connection.ops.quote_name(Repayment._meta.db_table)
    keys = "".join(f"t.{name}, " for name in extra)
    group_by = ", ".join(str(n) for n in range(1, len(extra) + 2))
    sql = (
        f"SELECT {keys}{tag}, "  # noqa: S608 (names only)
        f"SUM(CASE WHEN {period} THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {period} THEN {principal} ELSE 0 END), "
        f"SUM(CASE WHEN {rated} THEN {principal_x_rate} ELSE 0 END), "
        f"SUM(CASE WHEN {rated} THEN {principal} ELSE 0 END), "
        f"SUM(CASE WHEN {live} THEN {principal} - {repaid} ELSE 0 END), "
        f"SUM(CASE WHEN {live} THEN 1 ELSE 0 END) "
        f"FROM ({inner}) t LEFT JOIN ("
        f"SELECT r.loan_id, SUM(r.principal) AS repaid FROM {repayment} r "
        f"WHERE r.paid_on <= %s GROUP BY r.loan_id"
        f") p ON p.loan_id = t.g_id GROUP BY {group_by}"
    )
    span = [query.start, query.end]
    day = [query.as_of, query.as_of]
    all_params = [*member_params, *span, *span, *span, *span, *day, *day, *params, query.as_of]
    with connection.cursor() as cursor:
        cursor.execute(sql, all_params)
        rows = cursor.fetchall()
    width = len(extra)
    return {
        (*row[:width], int(row[width])): _Sums(
            loans=int(n or 0),
            amount=int(amount or 0),
            weighted=int(weighted or 0),
            rated=int(rated_sum or 0),
            balance=int(balance or 0),
            balance_loans=int(with_balance or 0),
        )
        for row in rows
        for n, amount, weighted, rated_sum, balance, with_balance in [row[width + 1 :]]
    }


def _demand_sums(
    dispatches: QuerySet,
    demands: QuerySet,
    enterprise_keys: list[str],
    day: dt.date,
    by: tuple[str, ...] = (),
    per_institution: bool = False,
) -> dict[tuple, _Sums]:
    """Per tag (of the demand's enterprise): demands.stats' counts — demands
    and their amount, those disbursed with their amount, and the dispatches
    of those demands among `dispatches` (those the viewer may see), claimed
    or not. Dispatches are counted per demand first, so the tags are worked
    out once per demand (a county's ~12 dispatches per demand would each be
    tagged otherwise). Keyed by (tag,), or for the kept sums by (*the
    demand's `by` fields, tag), with `per_institution` by (institution id,
    *…, tag): each demand counted once for each institution it was
    dispatched to, with that institution's dispatches (None: the demands
    dispatched to none)."""
    extra = {f"g_by{i}": F(name) for i, name in enumerate(by)}
    compiled = _sql(
        demands.order_by().values(
            g_id=F("pk"),
            g_enterprise=F("enterprise_id"),
            g_amount=F("amount"),
            g_state=F("state"),
            g_disbursed=F("disbursed_amount"),
            **extra,
        )
    )
    if compiled is None:
        return {}
    inner, params = compiled
    per = ("demand_id", "institution_id") if per_institution else ("demand_id",)
    counted = _sql(
        dispatches.filter(demand__in=demands)
        .order_by()
        .values(*per)
        .annotate(g_n=Count("pk"), g_claimed=Count("claimed_at"))
    )
    tag, member_params = _members_sql(enterprise_keys, day, "t.g_enterprise", 0)
    keys = ["d.institution_id"] if per_institution else []
    keys += [f"t.{name}" for name in extra]
    tag = "".join(f"{key}, " for key in keys) + tag
    group_by = ", ".join(str(n) for n in range(1, len(keys) + 2))
    financed = "t.g_state = %s AND t.g_disbursed IS NOT NULL"
    columns = (
        f"{tag}, COUNT(*), "
        f"SUM({FEN.format('t.g_amount')}), "
        f"SUM(CASE WHEN {financed} THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {financed} THEN {FEN.format('t.g_disbursed')} ELSE 0 END)"
    )
    disbursed = str(DemandState.DISBURSED.value)
    all_params = [*member_params, disbursed, disbursed, *params]
    if counted is None:
        if per_institution:  # no dispatch the viewer may see: no demand either
            return {}
        sql = f"SELECT {columns}, 0, 0 FROM ({inner}) t GROUP BY {group_by}"  # noqa: S608
    else:
        dispatch_sql, dispatch_params = counted
        sql = (
            f"SELECT {columns}, SUM(COALESCE(d.g_n, 0)), SUM(COALESCE(d.g_claimed, 0)) "  # noqa: S608
            f"FROM ({inner}) t LEFT JOIN ({dispatch_sql}) d ON d.demand_id = t.g_id "
            f"GROUP BY {group_by}"
        )
        all_params += dispatch_params
    with connection.cursor() as cursor:
        cursor.execute(sql, all_params)
        rows = cursor.fetchall()
    width = len(keys)
    return {
        (*row[:width], int(row[width])): _Sums(
            demands=int(n or 0),
            demand_amount=int(amount or 0),
            financings=int(financed_n or 0),
            financing_amount=int(financed_amount or 0),
            dispatches=int(dispatched or 0),
            claims=int(claimed or 0),
        )
        for row in rows
        for n, amount, financed_n, financed_amount, dispatched, claimed in [row[width + 1 :]]
    }


def _fill(row: GroupRow, sums: _Sums, with_demand: bool) -> None:
    row.loans = sums.loans
    row.amount = _yuan(sums.amount, sums.loans > 0)
    row.balance = _yuan(sums.balance, sums.balance_loans > 0)
    row.balance_loans = sums.balance_loans
    row._rated = _yuan(sums.rated, sums.rated > 0)
    row._weighted = Decimal(int(sums.weighted)).scaleb(-8)
    if with_demand:
        stat = StatRow(row.key, "")
        stat.demands = sums.demands
        stat.demand_amount = _yuan(sums.demand_amount, sums.demands > 0)
        stat.financings = sums.financings
        stat.financing_amount = _yuan(sums.financing_amount, sums.financings > 0)
        stat.dispatches = sums.dispatches
        stat.claims = sums.claims
        row.demand = stat


def split(actor, query: Query) -> Split:
    """The figures of every group (or of `query.group`) and in total."""
    loans_qs = _in_region(
        LoanAccount.objects.visible_to(actor).filter(disbursed_on__lte=max(query.end, query.as_of)),
        query.region,
    )
    chosen = [
        (key, label, definition)
        for key, label, definition in group_choices()
        if not query.group or key == query.group
    ]
    # A loan carries a bit per chosen group, loan groups first; a demand
    # one per chosen enterprise group (shifted past the loan groups' bits
    # when the two are added up, so that bit i is chosen[i] for both).
    loan_keys = [key for key, _l, _d in chosen if key in LOAN_GROUPS]
    enterprise_keys = [key for key, _l, _d in chosen if key not in LOAN_GROUPS]
    demands = _demands(actor, query)
    with _without_jit():
        by_tag = _loan_sums(loans_qs, loan_keys, enterprise_keys, query)
        demand_tags = _demand_sums(
            Dispatch.objects.visible_to(actor), demands, enterprise_keys, query.as_of
        )
    tags: dict[int, _Sums] = {}
    for (tag,), sums in by_tag.items():
        tags.setdefault(tag, _Sums()).add(sums)
    for (tag,), sums in demand_tags.items():
        tags.setdefault(tag << len(loan_keys), _Sums()).add(sums)
    return assemble(query, chosen, tags)


def assemble(query: Query, chosen: list[tuple[str, str, str]], tags: dict[int, _Sums]) -> Split:
    """The split from the sums per tag, bit i of a tag standing for the
    group chosen[i] (loan groups first): the total adds every tag, a
    group's row the tags with its bit."""
    total_sums = _Sums()
    for sums in tags.values():
        total_sums.add(sums)
    total = GroupRow("", _("合计"))
    _fill(total, total_sums, with_demand=True)

    rows: list[GroupRow] = []
    for bit, (key, label, definition) in enumerate(chosen):
        sums = _Sums()
        for tag, tagged in tags.items():
            if tag >> bit & 1:
                sums.add(tagged)
        row = GroupRow(key, label, definition)
        _fill(row, sums, with_demand=key not in LOAN_GROUPS)
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
