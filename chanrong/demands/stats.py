"""Financing statistics: the one service behind the supervision board, the
/stats/summary API and, later, the indicator system.

Everything is computed over the demands the actor can see
(`Demand.objects.visible_to`) that were published in [start, end] (local
dates, inclusive), and over their dispatches the actor can see. Counts and
sums are GROUP BY statements; a median is taken in Python over the middle one
or two durations of its group, read in order from the database (`_middles`),
so the numbers are exact and the same on SQLite and PostgreSQL.

Definitions (per group and in total):

- demands / demand_amount: demands published, and the amounts asked (元);
- dispatches, claims: dispatches of those demands, and those claimed;
- financings / financing_amount: demands disbursed (已放款), amounts lent;
- claim_rate (接单率) = claims / dispatches;
- success_rate (获得率) = financings / demands;
- median_claim_hours: dispatch → claim, over claimed dispatches;
- median_disburse_days: publication → disbursement date, over financings;
- compliance (按期接单率) = dispatches claimed by their claim deadline / dispatches.

Grouped by institution, a demand counts for every institution it was
dispatched to, and a financing for the institution that lent.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connections
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Substr, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chanrong.core.errors import ValidationFailed
from chanrong.core.scope import Scope, scope_of

from .models import Demand, DemandKind, DemandState, Dispatch

GROUPS = {
    "region": gettext_lazy("地区"),
    "industry": gettext_lazy("行业"),
    "size": gettext_lazy("企业规模"),
    "institution": gettext_lazy("金融机构"),
    "kind": gettext_lazy("融资类型"),
}
MAX_SPAN_DAYS = 3660


@dataclass
class StatRow:
    key: str
    label: str
    demands: int = 0
    demand_amount: Decimal = Decimal(0)
    dispatches: int = 0
    claims: int = 0
    claimed_in_time: int = 0
    financings: int = 0
    financing_amount: Decimal = Decimal(0)
    # The values the medians are taken over: every claim's hours and every
    # financing's days, or (demand_stats) only the middle one or two of them
    # in ascending order, which have the same median.
    claim_hours: list[float] = field(default_factory=list, repr=False)
    disburse_days: list[int] = field(default_factory=list, repr=False)

    @property
    def claim_rate(self) -> float | None:
        return _ratio(self.claims, self.dispatches)

    @property
    def success_rate(self) -> float | None:
        return _ratio(self.financings, self.demands)

    @property
    def compliance(self) -> float | None:
        return _ratio(self.claimed_in_time, self.dispatches)

    @property
    def median_claim_hours(self) -> float | None:
        return round(statistics.median(self.claim_hours), 2) if self.claim_hours else None

    @property
    def median_disburse_days(self) -> float | None:
        return statistics.median(self.disburse_days) if self.disburse_days else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "demands": self.demands,
            "demand_amount": self.demand_amount,
            "dispatches": self.dispatches,
            "claims": self.claims,
            "claimed_in_time": self.claimed_in_time,
            "financings": self.financings,
            "financing_amount": self.financing_amount,
            "claim_rate": self.claim_rate,
            "success_rate": self.success_rate,
            "compliance": self.compliance,
            "median_claim_hours": self.median_claim_hours,
            "median_disburse_days": self.median_disburse_days,
        }


@dataclass
class DemandStats:
    start: dt.date
    end: dt.date
    group_by: str
    total: StatRow
    rows: list[StatRow]

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "group_by": self.group_by,
            "total": self.total.as_dict(),
            "rows": [row.as_dict() for row in self.rows],
        }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def clean_period(start: Any, end: Any, group_by: Any = "region") -> tuple[dt.date, dt.date, str]:
    """Parse the query's period and grouping; a bad one is a 422, never a 500."""
    errors: dict[str, str] = {}
    today = timezone.localdate()

    def day(value: Any, name: str, default: dt.date) -> dt.date | None:
        if value in (None, ""):
            return default
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value).strip())
        except ValueError:
            errors[name] = _("应为日期，如 2026-01-31")
            return None

    end_day = day(end, "end", today)
    start_day = day(start, "start", (end_day or today).replace(month=1, day=1))
    group = str(group_by or "region")
    if group not in GROUPS:
        errors["group_by"] = _("应为 region、industry、size、institution 或 kind")
    if start_day and end_day:
        if start_day > end_day:
            errors["start"] = _("开始日期不能晚于结束日期")
        elif (end_day - start_day).days > MAX_SPAN_DAYS:
            errors["start"] = _("统计区间最长 10 年")
    if errors:
        raise ValidationFailed(errors)
    return start_day, end_day, group


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    low = timezone.make_aware(dt.datetime.combine(start, dt.time.min), tz)
    high = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min), tz)
    return low, high


def _labels(group_by: str, keys: Iterable[str]) -> dict[str, str]:
    keys = [k for k in keys if k]
    if group_by == "region":
        from chanrong.core.models import Region

        return dict(Region.objects.filter(code__in=keys).values_list("code", "name"))
    if group_by == "industry":
        from chanrong.core.models import Industry

        return dict(Industry.objects.filter(code__in=keys).values_list("code", "name"))
    if group_by == "institution":
        from chanrong.finance.models import FinancialInstitution

        found = FinancialInstitution.objects.filter(pk__in=[int(k) for k in keys])
        return {str(pk): name for pk, name in found.values_list("pk", "name")}
    # Choice labels are lazy: str() them, the rows go to the API schema and the chart's JSON.
    if group_by == "size":
        from chanrong.registry.models import EnterpriseSize

        return {value: str(label) for value, label in EnterpriseSize.choices}
    return {value: str(label) for value, label in DemandKind.choices}


def demand_stats(actor, *, start: dt.date, end: dt.date, group_by: str = "region") -> DemandStats:
    return demand_stats_by(actor, start=start, end=end, group_bys=(group_by,))[0]


def demand_stats_by(
    actor, *, start: dt.date, end: dt.date, group_bys: tuple[str, ...]
) -> list[DemandStats]:
    """`demand_stats` for each of `group_bys`. The counts and sums are
    GROUP BY statements; of the durations behind the medians only the middle
    one or two per group are read (`_middles`): the 督办看板 of a county at
    demo scale 10 covers ~60,000 dispatches, and grouping them in Python,
    once per split, was most of the page's time. The totals are the same for
    every split and are computed once."""
    return scope_stats(scope_of(actor), start=start, end=end, group_bys=group_bys)


def scope_stats(
    scope: Scope, *, start: dt.date, end: dt.date, group_bys: tuple[str, ...]
) -> list[DemandStats]:
    """`demand_stats_by` for anyone with `scope` (`visible_to`'s rule,
    `for_scope`)."""
    checked = [clean_period(start, end, group_by) for group_by in group_bys]
    start, end = checked[0][0], checked[0][1]
    total, by_split = scope_groups(scope, start=start, end=end, group_bys=group_bys)
    return [
        labelled(start, end, group_by, total, by_split[group_by]) for _s, _e, group_by in checked
    ]


def scope_groups(
    scope: Scope, *, start: dt.date, end: dt.date, group_bys: tuple[str, ...]
) -> tuple[StatRow, dict[str, dict[str, StatRow]]]:
    """The total and, per grouping in `group_bys` (checked by the caller),
    the groups by key, unlabelled: what `scope_stats` shows and what
    demands.stats_kept keeps per government scope."""
    low, high = _bounds(start, end)
    demands = (
        Demand.objects.for_scope(scope)
        .exclude(state=DemandState.DRAFT)
        .filter(published_at__gte=low, published_at__lt=high)
        .order_by()
    )
    # The visible dispatches of those demands. A visible dispatch's demand is
    # visible (Dispatch.objects.visible_to), so the period and state are
    # tested on the joined demand instead of a second semi-join on `demands`
    # (which costs another scan of the region's enterprises and demands).
    dispatches = (
        Dispatch.objects.for_scope(scope)
        .exclude(demand__state=DemandState.DRAFT)
        .filter(demand__published_at__gte=low, demand__published_at__lt=high)
        .order_by()
    )
    total = StatRow("", "")
    wanted = list(dict.fromkeys(group_bys))
    if connections[demands.db].vendor == "postgresql":
        by_split = _grouping_sets(wanted, demands, dispatches, total)
    else:
        by_split = _window_splits(wanted, demands, dispatches, total)
    return total, by_split


def labelled(
    start: dt.date, end: dt.date, group_by: str, total: StatRow, groups: dict[str, StatRow]
) -> DemandStats:
    """The groups of one grouping labelled in the active language and in
    the order shown (most demands first)."""
    total.label = _("合计")
    labels = _labels(group_by, groups)
    for key, row in groups.items():
        row.label = labels.get(key) or key or _("未填写")
    rows = sorted(groups.values(), key=lambda r: (-r.demands, -r.dispatches, r.key))
    return DemandStats(start=start, end=end, group_by=group_by, total=total, rows=rows)


def _window_splits(wanted: list[str], demands, dispatches, total: StatRow) -> dict[str, dict]:
    """Any database (SQLite): GROUP BY statements per split, the medians' middles
    by window functions (`_middles`)."""
    done: set[str] = set()
    by_split = {group_by: _split(group_by, demands, dispatches, total, done) for group_by in wanted}
    if "demands" not in done:
        # The institution split's groups overlap (a demand counts for every
        # institution it went to): the demand totals need their own sums.
        found = demands.aggregate(
            demands=Count("pk"),
            demand_amount=Sum("amount"),
            financings=Count("pk", filter=_DISBURSED),
            financing_amount=Sum("disbursed_amount", filter=_DISBURSED),
        )
        total.demands, total.financings = found["demands"], found["financings"]
        total.demand_amount = found["demand_amount"] or Decimal(0)
        total.financing_amount = found["financing_amount"] or Decimal(0)
    return by_split


def _grouping_sets(wanted: list[str], demands, dispatches, total: StatRow) -> dict[str, dict]:
    """PostgreSQL: every split and the total in two statements, one over the
    dispatches and one over the demands, each grouped by GROUPING SETS (one
    set per split and () for the total). A median's middles come from one
    sort per group: percentile_disc (`_MIDDLES`) picks the values themselves,
    whose mean is statistics.median's."""
    by_split: dict[str, dict[str, StatRow]] = {group_by: {} for group_by in wanted}

    def group(group_by: str, key) -> StatRow:
        groups, key = by_split[group_by], str(key)
        if key not in groups:
            groups[key] = StatRow(key, "")
        return groups[key]

    keys = [f"k{n}" for n in range(len(wanted))]
    dispatch_keys = {
        key: F("institution_id") if group_by == "institution" else _demand_key(group_by, "demand__")
        for key, group_by in zip(keys, wanted, strict=True)
    }
    inner = dispatches.annotate(
        **dispatch_keys,
        duration=_claim_duration(),
        in_time=ExpressionWrapper(Q(claimed_at__lte=F("claim_due_at")), BooleanField()),
        demand_amount=F("demand__amount"),
    ).values_list(*keys, "duration", "in_time", "demand_amount")
    found = _grouped_sets(
        inner,
        keys,
        "COUNT(*), COUNT(m.duration), COUNT(*) FILTER (WHERE m.in_time), SUM(m.demand_amount),"
        f" percentile_disc({_MIDDLES}) WITHIN GROUP (ORDER BY m.duration)",
    )
    for group_by, key, (dispatched, claims, in_time, amount, middles) in found:
        row = total if group_by is None else group(wanted[group_by], key)
        row.dispatches, row.claims, row.claimed_in_time = dispatched, claims, in_time
        if group_by is not None and wanted[group_by] == "institution":
            # One dispatch per (demand, institution): its demands are its dispatches.
            row.demands, row.demand_amount = dispatched, amount
        if middles is not None:
            row.claim_hours = [middle.total_seconds() / 3600 for middle in middles]
    demand_keys = {
        key: F("outcome_institution_id") if group_by == "institution" else _demand_key(group_by)
        for key, group_by in zip(keys, wanted, strict=True)
    }
    inner = demands.annotate(
        **demand_keys,
        financing=ExpressionWrapper(_DISBURSED, BooleanField()),
        days=Case(
            When(_DISBURSED & Q(disbursed_on__isnull=False), then=_disburse_duration()),
            output_field=DurationField(),
        ),
    ).values_list(*keys, "amount", "financing", "disbursed_amount", "days")
    found = _grouped_sets(
        inner,
        keys,
        "COUNT(*), SUM(m.amount), COUNT(*) FILTER (WHERE m.financing),"
        " SUM(m.disbursed_amount) FILTER (WHERE m.financing),"
        f" percentile_disc({_MIDDLES}) WITHIN GROUP (ORDER BY m.days)",
    )
    for group_by, key, (count, amount, financings, lent, middles) in found:
        if group_by is None:
            row = total
        elif wanted[group_by] == "institution":
            # A financing counts for the institution that lent, if any.
            if key is None or not financings:
                continue
            row = group("institution", key)
        else:
            row = group(wanted[group_by], key)
            row.demands, row.demand_amount = count, amount
        if group_by is None:
            row.demands, row.demand_amount = count, amount or Decimal(0)
        row.financings, row.financing_amount = financings, lent or Decimal(0)
        if middles is not None:
            row.disburse_days = [middle.days for middle in middles]
    return by_split


#: percentile_disc(f) is the value at position ceil(f * n) (1-based) of the
#: n sorted values: f = 0.5 gives the lower middle (the middle when n is odd),
#: f = 0.5 + 1e-9 the upper middle (n/2 + 1 when n is even, the middle again
#: when n is odd). Exact while 1e-9 * n < 0.5, i.e. for groups of fewer than
#: 500 million values.
_MIDDLES = "ARRAY[0.5, 0.500000001]::float8[]"


def _grouped_sets(inner, keys: list[str], aggregates: str) -> list[tuple[int | None, Any, tuple]]:
    """Run `aggregates` over `inner` (a values_list queryset whose first
    columns are `keys`) grouped by each key alone and by nothing: rows of
    (index of the key or None for the total, key value, aggregates)."""
    sql, params = inner.query.sql_with_params()
    flags = ", ".join(f"GROUPING(m.{key})" for key in keys)
    columns = ", ".join(f"m.{key}" for key in keys)
    sets = ", ".join([f"(m.{key})" for key in keys] + ["()"])
    statement = (
        f"SELECT {flags}, {columns}, {aggregates} FROM ({sql}) m"  # noqa: S608 (names only)
        f" GROUP BY GROUPING SETS ({sets})"
    )
    rows = []
    with connections[inner.db].cursor() as cursor:
        cursor.execute(statement, params)
        for found in cursor.fetchall():
            flags_of, values, rest = (
                found[: len(keys)],
                found[len(keys) : 2 * len(keys)],
                found[2 * len(keys) :],
            )
            index = next((n for n, flag in enumerate(flags_of) if flag == 0), None)
            rows.append((index, values[index] if index is not None else None, tuple(rest)))
    return rows


#: A demand that counts as a financing (放款): disbursed, with its amount.
_DISBURSED = Q(state=DemandState.DISBURSED, disbursed_amount__isnull=False)


def _demand_key(group_by: str, prefix: str = ""):
    """The group of a demand (`prefix`: the path from the queried model to it)."""
    if group_by == "region":
        return Coalesce(F(f"{prefix}enterprise__region_id"), Value(""))
    if group_by == "industry":
        return Coalesce(Substr(F(f"{prefix}enterprise__industry_id"), 1, 1), Value(""))
    if group_by == "size":
        return Coalesce(F(f"{prefix}enterprise__size"), Value(""))
    return F(f"{prefix}kind")


def _claim_duration() -> ExpressionWrapper:
    return ExpressionWrapper(F("claimed_at") - F("dispatched_at"), output_field=DurationField())


def _disburse_duration() -> ExpressionWrapper:
    # The local date of publication, as timezone.localtime(published_at).date().
    return ExpressionWrapper(
        F("disbursed_on") - TruncDate("published_at"), output_field=DurationField()
    )


def _split(
    group_by: str, demands, dispatches, total: StatRow, done: set[str]
) -> dict[str, StatRow]:
    """One split's groups. The first split also fills `total`'s dispatch
    counts and medians (the same in every split), the first split other than
    by institution its demand counts; `done` records what the total has."""
    groups: dict[str, StatRow] = {}
    demand_totals_done = "demands" in done
    dispatch_totals_done = "dispatches" in done

    def group(key) -> StatRow:
        key = str(key)
        if key not in groups:
            groups[key] = StatRow(key, "")
        return groups[key]

    by_institution = group_by == "institution"
    if by_institution:
        # One dispatch per (demand, institution): an institution's demands are its dispatches.
        dispatch_key = F("institution_id")
        lender_key = F("outcome_institution_id")
        counted = dispatches.annotate(key=dispatch_key).values("key")
        for found in counted.annotate(
            demand_amount=Sum("demand__amount"), **_dispatch_counts()
        ).order_by():
            row = group(found["key"])
            row.demands = found["dispatches"]
            row.demand_amount = found["demand_amount"]
            _add_dispatch_counts(row, found)
        for found in (
            demands.filter(_DISBURSED, outcome_institution_id__isnull=False)
            .annotate(key=lender_key)
            .values("key")
            .annotate(financings=Count("pk"), financing_amount=Sum("disbursed_amount"))
            .order_by()
        ):
            row = group(found["key"])
            row.financings, row.financing_amount = found["financings"], found["financing_amount"]
    else:
        dispatch_key = _demand_key(group_by, "demand__")
        lender_key = _demand_key(group_by)
        for found in (
            demands.annotate(key=_demand_key(group_by))
            .values("key")
            .annotate(
                demands=Count("pk"),
                demand_amount=Sum("amount"),
                financings=Count("pk", filter=_DISBURSED),
                financing_amount=Sum("disbursed_amount", filter=_DISBURSED),
            )
            .order_by()
        ):
            row = group(found["key"])
            row.demands, row.demand_amount = found["demands"], found["demand_amount"]
            row.financings = found["financings"]
            row.financing_amount = found["financing_amount"] or Decimal(0)
        if not demand_totals_done:
            # Each demand has one key in these splits: the totals are the groups' sums.
            for row in groups.values():
                total.demands += row.demands
                total.demand_amount += row.demand_amount
                total.financings += row.financings
                total.financing_amount += row.financing_amount
        for found in (
            dispatches.annotate(key=dispatch_key).values("key").annotate(**_dispatch_counts())
        ).order_by():
            _add_dispatch_counts(group(found["key"]), found)
    # Every dispatch has one key in every split: the totals are the groups' sums.
    if not dispatch_totals_done:
        for row in groups.values():
            total.dispatches += row.dispatches
            total.claims += row.claims
            total.claimed_in_time += row.claimed_in_time
    with_total = not dispatch_totals_done
    done.add("dispatches")
    middles = _middles(
        dispatches.filter(claimed_at__isnull=False), dispatch_key, _claim_duration(), with_total
    )
    for key, durations in middles.items():
        hours = [d.total_seconds() / 3600 for d in durations]
        (total if key is _TOTAL else group(key)).claim_hours = hours
    # Over every financing with a date: the total counts those lent by no
    # institution too (key NULL, no group of their own).
    middles = _middles(
        demands.filter(_DISBURSED, disbursed_on__isnull=False),
        lender_key,
        _disburse_duration(),
        with_total,
    )
    if not by_institution:
        done.add("demands")
    for key, durations in middles.items():
        if key is _TOTAL:
            total.disburse_days = [d.days for d in durations]
        elif key is not None:
            group(key).disburse_days = [d.days for d in durations]
    return groups


def _dispatch_counts() -> dict[str, Any]:
    return {
        "dispatches": Count("pk"),
        "claims": Count("pk", filter=Q(claimed_at__isnull=False)),
        "claimed_in_time": Count("pk", filter=Q(claimed_at__lte=F("claim_due_at"))),
    }


def _add_dispatch_counts(row: StatRow, found: dict) -> None:
    row.dispatches = found["dispatches"]
    row.claims = found["claims"]
    row.claimed_in_time = found["claimed_in_time"]


#: `_middles`' key of the total's middles.
_TOTAL = object()


def _middles(queryset, key, duration, with_total: bool) -> dict[Any, list[dt.timedelta]]:
    """The middle one (odd count) or two (even count) of each group's
    durations in ascending order, and with `with_total` of all of them under
    the key _TOTAL: what statistics.median needs, read in one statement instead
    of every duration. The median of the middles is the median of the whole
    list, so the figures are exactly those of the old rule (every value
    fetched and sorted in Python). The durations are the database's exact
    differences (PostgreSQL intervals; on SQLite Django's
    django_timestamp_diff, in microseconds), so the order is exact too."""
    inner = queryset.annotate(key=key, duration=duration).values_list("key", "duration")
    sql, params = inner.query.sql_with_params()
    total_columns = (
        ", ROW_NUMBER() OVER (ORDER BY m.duration) AS t_rank, COUNT(*) OVER () AS t_count"
        if with_total
        else ", 0 AS t_rank, 0 AS t_count"
    )
    # The inner statement is Django's, its values passed as parameters.
    wrapped = (
        "SELECT w.key, w.duration, w.k_rank, w.k_count, w.t_rank, w.t_count FROM ("  # noqa: S608
        "SELECT m.key, m.duration,"
        " ROW_NUMBER() OVER (PARTITION BY m.key ORDER BY m.duration) AS k_rank,"
        f" COUNT(*) OVER (PARTITION BY m.key) AS k_count{total_columns}"
        f" FROM ({sql}) m) w"
        " WHERE 2 * w.k_rank BETWEEN w.k_count AND w.k_count + 2"
        " OR 2 * w.t_rank BETWEEN w.t_count AND w.t_count + 2"
    )
    found: dict[Any, list[tuple[int, dt.timedelta]]] = {}
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(wrapped, params)
        for key_value, value, k_rank, k_count, t_rank, t_count in cursor.fetchall():
            if not isinstance(value, dt.timedelta):  # SQLite: microseconds
                value = dt.timedelta(microseconds=value)
            if 0 < k_count <= 2 * k_rank <= k_count + 2:
                found.setdefault(key_value, []).append((k_rank, value))
            if 0 < t_count <= 2 * t_rank <= t_count + 2:
                found.setdefault(_TOTAL, []).append((t_rank, value))
    return {key: [value for _rank, value in sorted(pairs)] for key, pairs in found.items()}


def chart_option(result: DemandStats, limit: int = 15) -> dict[str, Any]:
    """An ECharts option: demands, claims and financings per group (bars) and
    the amounts lent in 万元 (line, right axis)."""
    rows = result.rows[:limit]
    wan = Decimal(10000)
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {},
        "grid": {"left": 48, "right": 64, "bottom": 72, "containLabel": True},
        "xAxis": {
            "type": "category",
            "data": [row.label for row in rows],
            "axisLabel": {"interval": 0, "rotate": 30},
        },
        "yAxis": [
            {"type": "value", "name": _("笔数")},
            {"type": "value", "name": _("万元")},
        ],
        "series": [
            {"name": _("需求"), "type": "bar", "data": [row.demands for row in rows]},
            {"name": _("接单"), "type": "bar", "data": [row.claims for row in rows]},
            {"name": _("放款"), "type": "bar", "data": [row.financings for row in rows]},
            {
                "name": _("放款金额（万元）"),
                "type": "line",
                "yAxisIndex": 1,
                "data": [float(round(row.financing_amount / wan, 2)) for row in rows],
            },
        ],
    }
