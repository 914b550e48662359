"""One pass over the loan book for every balance the indicators read
(制造业 / 制造业中长期 / 普惠型 / 绿色信贷余额 and 不良贷款率), at every date a
table asks, instead of one grouped statement per source and date.

One statement fetches each loan under the region prefix once, with what the
rules of risk/sources.py need to know about it at each date d — whether it is
on the book (`on_book`), the principal it had repaid (repayments grouped
once for every date), whether its class is 次级/可疑/损失 (its events once, each
with the day of the next one), whether its borrower is on a 绿色库 in force —
and the fixed facts (borrower region, 制造业, 中长期, 小微). The figures are then
sums over arrays (NumPy, integer 分 so that nothing is rounded before the
end): the five sources cost one scan of the book rather than five, and the
dates of a plan one statement rather than one each. Amounts come back in 元
as Decimal with two places, as the grouped statements gave them.

Each rule is written once here (the statement's columns and the masks below);
tests/insights/test_by_region_sources.py checks every figure against the rule
written as ORM filters (risk.sources `_balances`, `_inclusive`,
`_non_performing_at`, `_green`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import numpy as np
from django.db import connection
from django.db.models import Case, F, IntegerField, Q, Value, When

from chanrong.core.codes import EnterpriseSize
from chanrong.registry.models import EntryChange, ListEntry, ListType, VersionStatus

from .models import NON_PERFORMING, LoanAccount, LoanEvent, LoanStatus, Repayment

INCLUSIVE_LIMIT_FEN = 10_000_000 * 100  # 单户授信总额 1000 万元（含）, in 分
EXITS = (LoanStatus.RENEWED, LoanStatus.WRITTEN_OFF)
SMALL = (EnterpriseSize.SMALL, EnterpriseSize.MICRO)

MANUFACTURING = "manufacturing"
LONG_TERM = "long_term"
INCLUSIVE = "inclusive"
GREEN = "green"
NPL = "npl"
FIGURES = (MANUFACTURING, LONG_TERM, INCLUSIVE, GREEN, NPL)

# Original term over one year: maturity after the first anniversary of the
# disbursement, compared as (year, month, day) so leap years do not matter.
LONG_TERM_Q = (
    Q(maturity_on__year__gt=F("disbursed_on__year") + 1)
    | Q(
        maturity_on__year=F("disbursed_on__year") + 1,
        maturity_on__month__gt=F("disbursed_on__month"),
    )
    | Q(
        maturity_on__year=F("disbursed_on__year") + 1,
        maturity_on__month=F("disbursed_on__month"),
        maturity_on__day__gt=F("disbursed_on__day"),
    )
)
MANUFACTURING_Q = Q(enterprise__industry__code__startswith="C")


def on_book_q(on: date) -> Q:
    """`sources.on_book`'s test: disbursed on or before `on`, not renewed or
    written off on or before it."""
    return Q(disbursed_on__lte=on) & (
        Q(closed_on__isnull=True) | Q(closed_on__gt=on) | ~Q(status__in=EXITS)
    )


def _flag(q: Q) -> Case:
    return Case(When(q, then=Value(1)), default=Value(0), output_field=IntegerField())


@dataclass
class Figures:
    """Per date (in the order asked): {region: Decimal 元} for each balance
    asked, and {region: (non-performing balance, balance)} for 不良贷款率. A
    region appears for a date only when it has a loan counted then."""

    dates: list[date]
    balances: dict[str, list[dict[str, Decimal]]] = field(default_factory=dict)
    npl: list[dict[str, tuple[Decimal, Decimal]]] = field(default_factory=list)


def _q(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _repaid(dates: list[date]) -> tuple[str, list]:
    cols = ", ".join(
        f"SUM(CASE WHEN r.paid_on <= %s THEN r.principal ELSE 0 END) AS r{i}"
        for i in range(len(dates))
    )
    sql = (
        f"SELECT r.loan_id, {cols} FROM {_q(Repayment)} r "  # noqa: S608 (names only)
        "WHERE r.paid_on <= %s GROUP BY r.loan_id"
    )
    return sql, [*dates, max(dates)]


def _classes(dates: list[date]) -> tuple[str, list]:
    """Per loan with a non-performing event, whether its class at each date
    is non-performing (b0, b1 …): the class at d is that of the latest event
    on or before d (ties: the later row), i.e. of the event with on <= d <
    the next event's day (LEAD over the loan's events)."""
    day = connection.ops.quote_name(LoanEvent._meta.get_field("on").column)
    bad = sorted(NON_PERFORMING)
    cols = ", ".join(
        f"MAX(CASE WHEN v.day <= %s AND (v.next_day IS NULL OR v.next_day > %s) "
        f"THEN 1 ELSE 0 END) AS b{i}"
        for i in range(len(dates))
    )
    sql = (
        f"SELECT v.loan_id, {cols} FROM ("  # noqa: S608 (names only)
        f"SELECT loan_id, {day} AS day, classification, LEAD({day}) OVER "
        f"(PARTITION BY loan_id ORDER BY {day}, id) AS next_day "
        f"FROM {_q(LoanEvent)} WHERE {day} <= %s"
        f") v WHERE v.classification IN ({', '.join(['%s'] * len(bad))}) GROUP BY v.loan_id"
    )
    return sql, [*[p for d in dates for p in (d, d)], max(dates), *bad]


def _green_members(dates: list[date]) -> tuple[str, list]:
    """Per enterprise on a published 绿色库 version, whether it is a member
    (not removed) of one in force at each date (g0, g1 …)."""
    entries, params = (
        ListEntry.objects.filter(
            version__list__list_type=ListType.GREEN, version__status=VersionStatus.PUBLISHED
        )
        .exclude(change=EntryChange.REMOVED)
        .order_by()
        .values(
            member=F("enterprise_id"),
            member_from=F("version__effective_from"),
            member_until=F("version__effective_until"),
        )
        .query.sql_with_params()
    )
    cols = ", ".join(
        f"MAX(CASE WHEN m.member_from <= %s AND (m.member_until IS NULL OR m.member_until >= %s) "
        f"THEN 1 ELSE 0 END) AS g{i}"
        for i in range(len(dates))
    )
    sql = f"SELECT m.member AS enterprise_id, {cols} FROM ({entries}) m GROUP BY m.member"  # noqa: S608
    return sql, [*[p for d in dates for p in (d, d)], *params]


def _fetch(prefix: str, dates: list[date], wanted: set[str]) -> list[tuple]:
    """The loans, a row of integers each: borrower region (the 6-digit code
    as a number), borrower and lender ids, the flags (小微 / 制造业 / 中长期,
    and per date on the book / non-performing / green) as bits, principal in
    分, and per date the principal repaid by then in 分."""
    qs = LoanAccount.objects.filter(disbursed_on__lte=max(dates))
    if prefix:
        qs = qs.filter(enterprise__region__code__startswith=prefix)
    # only the loans some asked figure can count
    if NPL not in wanted:
        narrow = Q(pk__in=[])
        if wanted & {MANUFACTURING, LONG_TERM}:
            narrow |= MANUFACTURING_Q
        if INCLUSIVE in wanted:
            narrow |= Q(enterprise__size__in=SMALL)
        if GREEN in wanted:
            narrow = Q()  # membership is joined below
        qs = qs.filter(narrow) if narrow else qs
    annotations = {
        "book_small": _flag(Q(enterprise__size__in=SMALL)),
        "book_manufacturing": _flag(MANUFACTURING_Q),
        "book_long": _flag(LONG_TERM_Q),
        **{f"book_on{i}": _flag(on_book_q(d)) for i, d in enumerate(dates)},
    }
    inner, params = (
        qs.order_by()
        .annotate(**annotations)
        .values(
            "book_small",
            "book_manufacturing",
            "book_long",
            *[f"book_on{i}" for i in range(len(dates))],
            book_id=F("pk"),
            book_region=F("enterprise__region_id"),
            book_enterprise=F("enterprise_id"),
            book_institution=F("institution_id"),
            book_principal=F("principal"),
        )
        .query.sql_with_params()
    )
    n = len(dates)
    fen = "CAST(ROUND({} * 100) AS BIGINT)"
    # The flags of a loan as the bits of one integer (fewer columns to send):
    # 小微, 制造业, 中长期, then per date on the book, non-performing, green.
    bits = ["t.book_small", "2 * t.book_manufacturing", "4 * t.book_long"]
    for i in range(n):
        bits.append(f"{1 << (3 + 3 * i)} * t.book_on{i}")
        if NPL in wanted:
            bits.append(f"{1 << (4 + 3 * i)} * COALESCE(b.b{i}, 0)")
        if GREEN in wanted:
            bits.append(f"{1 << (5 + 3 * i)} * COALESCE(g.g{i}, 0)")
    columns = [
        "CAST(t.book_region AS BIGINT)",
        "t.book_enterprise",
        "t.book_institution",
        " + ".join(bits),
        fen.format("t.book_principal"),
        *[fen.format(f"COALESCE(p.r{i}, 0)") for i in range(n)],
    ]
    repaid, repaid_params = _repaid(dates)
    sql = (
        f"SELECT {', '.join(columns)} FROM ({inner}) t "  # noqa: S608 (names only)
        f"LEFT JOIN ({repaid}) p ON p.loan_id = t.book_id "
    )
    all_params = [*params, *repaid_params]
    if NPL in wanted:
        classes, class_params = _classes(dates)
        sql += f"LEFT JOIN ({classes}) b ON b.loan_id = t.book_id "
        all_params += class_params
    if GREEN in wanted:
        members, member_params = _green_members(dates)
        join = "LEFT JOIN" if wanted - {GREEN} else "JOIN"
        sql += f"{join} ({members}) g ON g.enterprise_id = t.book_enterprise "
        all_params += member_params
    with connection.cursor() as cursor:
        cursor.execute(sql, all_params)
        rows = cursor.fetchall()
    return rows


def _yuan(fen: int) -> Decimal:
    return (Decimal(int(fen)) / 100).quantize(Decimal("0.01"))


def _sum_by(region: np.ndarray, values: np.ndarray, mask: np.ndarray, size: int):
    """(Σ values, count) per region index over the rows in `mask`. bincount
    adds in float64, exact here: every partial sum is a whole number of 分
    far below 2**53 (90 万亿元)."""
    total = np.bincount(region[mask], weights=values[mask], minlength=size)
    count = np.bincount(region[mask], minlength=size)
    return np.rint(total).astype(np.int64), count


def book_figures(prefix: str, dates: list[date], wanted: set[str] | None = None) -> Figures:
    """The figures `wanted` (default: all) for every loan under `prefix`, at
    each of `dates`, from one statement."""
    dates = list(dates)
    wanted = set(FIGURES if wanted is None else wanted)
    out = Figures(dates=dates)
    for name in wanted - {NPL}:
        out.balances[name] = [{} for _d in dates]
    if NPL in wanted:
        out.npl = [{} for _d in dates]
    rows = _fetch(prefix, dates, wanted) if wanted and dates else []
    if not rows:
        return out
    data = np.array(rows, dtype=np.int64)
    codes, region = np.unique(data[:, 0], return_inverse=True)
    codes = [f"{code:06d}" for code in codes.tolist()]
    n, size = len(dates), len(codes)
    flags, principal = data[:, 3], data[:, 4]
    small, manufacturing, long_term = (flags & 1) > 0, (flags & 2) > 0, (flags & 4) > 0
    if INCLUSIVE in wanted:
        # a (borrower, lender) pair as one integer key; lender ids stay far below 2**24
        _pairs, pair = np.unique(data[:, 1] * (1 << 24) + data[:, 2], return_inverse=True)
    for i in range(n):
        on = (flags & (1 << (3 + 3 * i))) > 0
        balance = principal - data[:, 5 + i]
        bad = (flags & (1 << (4 + 3 * i))) > 0
        green = (flags & (1 << (5 + 3 * i))) > 0
        masks = {
            MANUFACTURING: on & manufacturing,
            LONG_TERM: on & manufacturing & long_term,
            GREEN: on & green,
        }
        if INCLUSIVE in wanted:
            counted = on & small
            credit = np.bincount(pair[counted], weights=principal[counted], minlength=len(_pairs))
            masks[INCLUSIVE] = counted & (credit[pair] <= INCLUSIVE_LIMIT_FEN)
        for name in wanted - {NPL}:
            total, count = _sum_by(region, balance, masks[name], size)
            out.balances[name][i] = {codes[k]: _yuan(total[k]) for k in np.nonzero(count)[0]}
        if NPL in wanted:
            total, count = _sum_by(region, balance, on, size)
            bad_total, _c = _sum_by(region, balance, on & bad, size)
            out.npl[i] = {
                codes[k]: (_yuan(bad_total[k]), _yuan(total[k])) for k in np.nonzero(count)[0]
            }
    return out
