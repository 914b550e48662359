"""风险监测: the loan book summed for whoever looks at it.

Every figure starts from `LoanAccount.objects.visible_to(user)`, so a county
agency sums its county, a bank its own book, the platform everything. The
definitions follow the regulator's:

- 贷款余额 (balance): the outstanding principal of loans still on the books
  (存续 or 提前收回 but not yet recovered); settled, renewed (the balance moved
  to the new loan) and written-off loans are not exposure.
- 不良贷款 (non-performing): balance classified 次级, 可疑 or 损失;
  不良率 = 不良余额 / 贷款余额, a ratio of balances, not of counts.
- 逾期金额: the overdue amount the banks last reported.
- 集中度: the share of the balance held by the ten largest borrowers.
- 预警趋势: warnings opened (by `opened_on`), acknowledged and disposed (by
  when that happened) per month; a month's three counts are events of that
  month, not the same alerts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, DecimalField, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.registry.models import Enterprise

from ..models import NON_PERFORMING, Alert, AlertState, Consultation, LoanAccount, LoanStatus

ON_BOOK = (LoanStatus.ACTIVE, LoanStatus.RECALLED)
ZERO = Value(Decimal(0), output_field=DecimalField(max_digits=20, decimal_places=2))


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    loans: int
    balance: Decimal
    non_performing: Decimal
    overdue: Decimal

    @property
    def npl_ratio(self) -> Decimal | None:
        """不良率 in percent, two decimals, half-up; None without a balance."""
        if not self.balance:
            return None
        return (self.non_performing * 100 / self.balance).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )


def on_book(queryset: QuerySet[LoanAccount]) -> QuerySet[LoanAccount]:
    return queryset.filter(status__in=ON_BOOK, outstanding__gt=0)


def _sums():
    return {
        "loans": Count("pk"),
        "balance": Coalesce(Sum("outstanding"), ZERO),
        "non_performing": Coalesce(
            Sum("outstanding", filter=Q(classification__in=NON_PERFORMING)), ZERO
        ),
        "overdue": Coalesce(Sum("overdue_amount"), ZERO),
    }


def summary(queryset: QuerySet[LoanAccount]) -> Row:
    figures = on_book(queryset).aggregate(**_sums())
    return Row("", "", **figures)


def breakdown(queryset: QuerySet[LoanAccount], by: str, *, limit: int = 20) -> list[Row]:
    """Rows by `by` ("region", "industry" or "institution"), largest balance
    first, at most `limit`."""
    key, label = BREAKDOWNS[by]
    rows = (
        on_book(queryset).values(key, label).annotate(**_sums()).order_by("-balance", key)[:limit]
    )
    return [
        Row(
            str(r[key] or ""),
            r[label] or "—",
            r["loans"],
            r["balance"],
            r["non_performing"],
            r["overdue"],
        )
        for r in rows
    ]


BREAKDOWNS = {
    "region": ("enterprise__region_id", "enterprise__region__name"),
    "industry": ("enterprise__industry_id", "enterprise__industry__name"),
    "institution": ("institution_id", "institution__name"),
}


@dataclass(frozen=True)
class Concentration:
    top: list[Row]
    share: Decimal | None  # percent of the balance held by `top`


@dataclass(frozen=True)
class BookFigures:
    summary: Row
    by_region: list[Row]
    by_industry: list[Row]
    by_institution: list[Row]
    #: The `borrowers` largest borrowers (`concentration`), when asked for.
    concentration: Concentration | None = None


def _share(top: list[Row], total: Decimal) -> Decimal | None:
    held = sum((row.balance for row in top), Decimal(0))
    return (held * 100 / total).quantize(Decimal("0.01"), ROUND_HALF_UP) if total else None


def book_figures(
    queryset: QuerySet[LoanAccount],
    *,
    limits: tuple[int, int, int] = (20, 12, 12),
    borrowers: int = 0,
) -> BookFigures:
    """`summary` and the three `breakdown`s (by region, industry and
    institution, at most `limits` rows each) of the same book, and with
    `borrowers` > 0 its `concentration` over that many borrowers. On
    PostgreSQL one statement computes them all (GROUPING SETS: one scan of
    the on-book loans joined to their enterprises instead of five; a window
    keeps the `borrowers` largest of the per-borrower set, so the answer stays
    a few hundred rows), and one more names those borrowers; elsewhere the
    statements of `summary`, `breakdown` and `concentration`. Same figures,
    same order."""
    if connection.vendor != "postgresql":
        total = summary(queryset)
        return BookFigures(
            total,
            *(breakdown(queryset, by, limit=n) for by, n in zip(BREAKDOWNS, limits, strict=True)),
            concentration(queryset, borrowers, total=total.balance) if borrowers else None,
        )
    columns = {}
    for i, (key, label) in enumerate(BREAKDOWNS.values()):
        columns[f"g_key{i}"] = F(key)
        columns[f"g_label{i}"] = F(label)
    columns["g_key3"] = F("enterprise_id")
    try:
        inner, params = (
            on_book(queryset)
            .order_by()
            .values(
                **columns,
                g_outstanding=F("outstanding"),
                g_class=F("classification"),
                g_overdue=F("overdue_amount"),
            )
            .query.sql_with_params()
        )
    except EmptyResultSet:
        empty = Row("", "", 0, Decimal(0), Decimal(0), Decimal(0))
        return BookFigures(empty, [], [], [], Concentration([], None) if borrowers else None)
    bad = sorted(NON_PERFORMING)
    sets = ", ".join(f"(t.g_key{i}, t.g_label{i})" for i in range(3))
    # A bit per key left out of the row's set, g_key0's highest: 0b1111 the
    # total, 0b0111 by region, 0b1011 by industry, 0b1101 by institution and
    # 0b1110 by borrower (GROUPING takes only grouped columns: without the
    # borrowers, the three keys' bits shifted, the borrower's bit set).
    if borrowers:
        sets += ", (t.g_key3)"
        grouping = "GROUPING(t.g_key0, t.g_key1, t.g_key2, t.g_key3)"
        rank = (
            f"ROW_NUMBER() OVER (PARTITION BY {grouping} "
            "ORDER BY SUM(t.g_outstanding) DESC, t.g_key3)"
        )
    else:
        grouping = "(GROUPING(t.g_key0, t.g_key1, t.g_key2) * 2 + 1)"
        rank = "0"
    sql = (
        "SELECT * FROM ("  # noqa: S608 (names only)
        f"SELECT {grouping} AS g, "
        "t.g_key0, t.g_label0, t.g_key1, t.g_label1, t.g_key2, t.g_label2, "
        f"{'t.g_key3' if borrowers else 'NULL'}, COUNT(*), SUM(t.g_outstanding), "
        f"SUM(CASE WHEN t.g_class IN ({', '.join(['%s'] * len(bad))}) "
        f"THEN t.g_outstanding END), SUM(t.g_overdue), {rank} AS rank "
        f"FROM ({inner}) t GROUP BY GROUPING SETS ((), {sets})"
        ") s WHERE s.g <> 14 OR s.rank <= %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*bad, *params, borrowers])
        rows = cursor.fetchall()
    total = Row("", "", 0, Decimal(0), Decimal(0), Decimal(0))
    split: list[list[tuple]] = [[], [], [], []]
    which = {0b0111: 0, 0b1011: 1, 0b1101: 2, 0b1110: 3}
    for grouping_bits, *keys, loans, balance, npl, overdue, _rank in rows:
        figures = (loans, *(Decimal(0) if x is None else x for x in (balance, npl, overdue)))
        if grouping_bits == 0b1111:
            total = Row("", "", *figures)
            continue
        i = which[grouping_bits]
        key = keys[2 * i] if i < 3 else keys[6]
        label = keys[2 * i + 1] if i < 3 else None
        split[i].append((key, label, *figures))
    out = []
    for i, limit in enumerate((*limits, borrowers)):
        # ORDER BY balance DESC, key ASC (NULLs last), as `breakdown` asks.
        ordered = sorted(
            split[i], key=lambda r: (-r[3], r[0] is None, r[0] if r[0] is not None else 0)
        )
        out.append(
            [
                Row(str(key or ""), label or "—", loans, balance, npl, overdue)
                for key, label, loans, balance, npl, overdue in ordered[:limit]
            ]
        )
    top = None
    if borrowers:
        names = dict(
            Enterprise.objects.filter(pk__in=[r[0] for r in split[3]]).values_list("pk", "name")
        )
        rows_top = [replace(row, label=names[int(row.key)]) for row in out[3]]
        top = Concentration(rows_top, _share(rows_top, total.balance))
    return BookFigures(total, *out[:3], top)


def concentration(
    queryset: QuerySet[LoanAccount], n: int = 10, *, total: Decimal | None = None
) -> Concentration:
    """The `n` largest borrowers and their share of the balance (`total`:
    the balance of `queryset` when the caller has summed it already).
    `book_figures(..., borrowers=n)` gives the same beside the book's other
    figures, in its one statement on PostgreSQL."""
    if total is None:
        total = summary(queryset).balance
    rows = (
        on_book(queryset)
        .values("enterprise_id", "enterprise__name")
        .annotate(**_sums())
        .order_by("-balance", "enterprise_id")[:n]
    )
    top = [
        Row(
            str(r["enterprise_id"]),
            r["enterprise__name"],
            r["loans"],
            r["balance"],
            r["non_performing"],
            r["overdue"],
        )
        for r in rows
    ]
    return Concentration(top, _share(top, total))


# --- warnings over time and consultations (the government dashboard) ---------------------------


@dataclass(frozen=True)
class AlertMonth:
    month: date  # the first day of the month
    opened: int
    acknowledged: int
    disposed: int

    @property
    def label(self) -> str:
        return f"{self.month.year}-{self.month.month:02d}"


def _month_start(day: date, back: int) -> date:
    """The first day of the month `back` months before `day`'s month."""
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def _month_key(value) -> date | None:
    """The first day of the month a TruncMonth value names (a date, or a
    datetime in the current time zone); None stays None."""
    if value is None:
        return None
    day = value.date() if isinstance(value, datetime) else value
    return day.replace(day=1)


def alert_figures(
    alerts: QuerySet[Alert], today: date, months: int
) -> tuple[list[AlertMonth], int]:
    """`alert_months` and the live alerts' count, from one statement: every
    alert counted by its three months (opened, acknowledged, disposed;
    TruncMonth truncates the aware datetimes in the current time zone,
    Asia/Shanghai) and its state, a few hundred groups at most, each event
    then added to its own month here, months outside the window dropped."""
    keys = [_month_start(today, back) for back in range(months - 1, -1, -1)]
    counts = {key: [0, 0, 0] for key in keys}
    live = 0
    rows = (
        alerts.order_by()
        .values(
            "state",
            m_opened=TruncMonth("opened_on"),
            m_acknowledged=TruncMonth("acknowledged_at"),
            m_disposed=TruncMonth("disposed_at"),
        )
        .annotate(n=Count("pk"))
    )
    for row in rows:
        if row["state"] != AlertState.DISPOSED:
            live += row["n"]
        for i, name in enumerate(("m_opened", "m_acknowledged", "m_disposed")):
            month = _month_key(row[name])
            if month in counts:
                counts[month][i] += row["n"]
    return [AlertMonth(k, *counts[k]) for k in keys], live


def alert_months(alerts: QuerySet[Alert], today: date, months: int = 12) -> list[AlertMonth]:
    """Warnings opened, acknowledged and disposed in each of the last
    `months` months (this one included), oldest first: whether the agencies
    and banks keep up with what the rules raise. One grouped statement."""
    return alert_figures(alerts, today, months)[0]


def alert_chart(rows: list[AlertMonth]) -> dict[str, Any] | None:
    """The months as grouped bars (ECharts option; app.js draws it)."""
    if not any(r.opened or r.acknowledged or r.disposed for r in rows):
        return None
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 50, "right": 20, "top": 40, "bottom": 30},
        "xAxis": {"type": "category", "data": [r.label for r in rows]},
        "yAxis": {"type": "value", "name": _("条")},
        "series": [
            {"name": _("新增预警"), "type": "bar", "data": [r.opened for r in rows]},
            {"name": _("签收"), "type": "bar", "data": [r.acknowledged for r in rows]},
            {"name": _("处置"), "type": "bar", "data": [r.disposed for r in rows]},
        ],
    }


def warning_panel(user, today: date | None = None) -> dict[str, Any]:
    """What the dashboard shows beside the loan book: the warnings over the
    last 12 months (a table and a chart), live warnings and open
    consultations, all within what `user` may see."""
    day = today or timezone.localdate()
    rows, live = alert_figures(Alert.objects.visible_to(user), day, 12)
    return {
        "alert_months": rows,
        "alert_chart": alert_chart(rows),
        "live_alerts": live,
        "open_consultations": Consultation.objects.visible_to(user).open().count(),
    }
