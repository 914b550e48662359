"""The scorecard's rows from the database: one per enterprise as of a day.

Everything in a row was known before that day — registry facts (size, age),
the 纳税信用等级 published for earlier years, qualifications and list
memberships in force, operating figures of periods already ended, and the
loan book's events before the day — and the label looks only after it: a
loan 90+ days overdue, classified 损失 or written off within the next 12
months. Training stacks such snapshots at quarter ends, each observed a full
year before the training day, so the time-ordered split in the trainer is
honest: the test rows are later snapshots whose outcomes the training rows
could not have seen.

This is the only module of the scorecard that touches the ORM; the trainer
gets plain pandas frames.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import numpy as np
import pandas as pd
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from chanrong.registry.models import (
    Enterprise,
    ListEntry,
    OperatingRecord,
    Qualification,
    TaxCreditGrade,
)

from .models import CLASS_RANK, Classification, LoanAccount, LoanEvent, LoanEventKind
from .scorecard.trainer import Feature

HORIZON_DAYS = 365
BAD_DAYS_OVERDUE = 90
#: Snapshots for training: quarter-ends, going back this many quarters from
#: a year before the training day.
TRAINING_QUARTERS = 8

GRADE_RANK = {"A": 0, "B": 1, "M": 2, "C": 3, "D": 4}
GRADE_NAMES = {str(rank): grade for grade, rank in GRADE_RANK.items()}
SIZE_RANK = {"micro": 0, "small": 1, "medium": 2, "large": 3}
POSITIVE_LISTS = frozenset(
    {"key_enterprises", "financing_key", "red", "green", "listing_reserve", "chain_sme"}
)


def _features() -> list[Feature]:
    return [
        Feature(
            "size_rank",
            str(_("企业规模")),
            trend="descending",
            values={
                "0": str(_("微型")),
                "1": str(_("小型")),
                "2": str(_("中型")),
                "3": str(_("大型")),
            },
        ),
        Feature("age_years", str(_("成立年限")), trend="descending", fmt="{:.1f} 年"),
        Feature("tax_grade", str(_("纳税信用等级")), trend="ascending", values=GRADE_NAMES),
        Feature(
            "tax_grade_worst_3y",
            str(_("近三年最差纳税信用等级")),
            trend="ascending",
            values=GRADE_NAMES,
        ),
        Feature("qualifications", str(_("有效资质数")), trend="descending", fmt="{:.0f} 项"),
        Feature(
            "black_list",
            str(_("失信黑名单状态")),
            trend="ascending",
            values={"0": str(_("未列入")), "1": str(_("已列入"))},
        ),
        Feature(
            "positive_lists", str(_("所在白名单/红名单数")), trend="descending", fmt="{:.0f} 个"
        ),
        Feature("revenue_growth", str(_("营业收入同比增长")), trend="descending", fmt="{:.0%}"),
        Feature("profit_margin", str(_("利润率")), trend="descending", fmt="{:.1%}"),
        Feature("electricity_growth", str(_("用电量同比增长")), trend="descending", fmt="{:.0%}"),
        Feature(
            "max_days_overdue_12m",
            str(_("近 12 个月最长逾期天数")),
            trend="ascending",
            fmt="{:.0f} 天",
        ),
        Feature(
            "downgrades_12m",
            str(_("近 12 个月五级分类下调次数")),
            trend="ascending",
            fmt="{:.0f} 次",
        ),
        Feature("renewals_24m", str(_("近 24 个月无还本续贷次数")), fmt="{:.0f} 次"),
        Feature("leverage", str(_("贷款余额与年营业收入之比")), trend="ascending", fmt="{:.0%}"),
    ]


def features() -> list[Feature]:
    """The platform scorecard's inputs, labelled in the active language."""
    return _features()


FEATURE_NAMES = [f.name for f in _features()]


def _months_before(day: date, months: int) -> date:
    month = day.month - 1 - months
    year = day.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(day.day, 28))


# --- one snapshot ------------------------------------------------------------------------------


def snapshot(as_of: date, enterprise_ids: Iterable[int]) -> pd.DataFrame:
    """Feature rows of `enterprise_ids` as of `as_of` (index: enterprise id).
    Missing facts stay NaN: the scorecard gives them their own points."""
    ids = sorted(set(enterprise_ids))
    frame = pd.DataFrame(
        index=pd.Index(ids, name="enterprise_id"), columns=FEATURE_NAMES, dtype=float
    )
    if not ids:
        return frame
    _registry(frame, as_of, ids)
    _tax(frame, as_of, ids)
    _qualifications_and_lists(frame, as_of, ids)
    revenue_12m = _operating(frame, as_of, ids)
    _loan_book(frame, as_of, ids, revenue_12m)
    return frame


def _registry(frame: pd.DataFrame, as_of: date, ids: list[int]) -> None:
    rows = Enterprise.objects.filter(pk__in=ids).values_list("pk", "size", "founded_on")
    size, age = {}, {}
    for pk, code, founded in rows:
        size[pk] = SIZE_RANK.get(code, np.nan)
        if founded is not None and founded <= as_of:
            age[pk] = (as_of - founded).days / 365.25
    _put(frame, "size_rank", size)
    _put(frame, "age_years", age)


def _put(frame: pd.DataFrame, column: str, values: dict, default: float = np.nan) -> None:
    """One column at once (setting cells one by one was most of a batch's time)."""
    frame[column] = pd.Series(values, dtype=float).reindex(frame.index).fillna(default)


def _tax(frame: pd.DataFrame, as_of: date, ids: list[int]) -> None:
    """Grades of years before as_of's year (a year's grade is published the
    next spring); without any history, the registry's current grade counts
    only if its year is an earlier one."""
    latest: dict[int, tuple[int, int]] = {}
    worst: dict[int, int] = {}
    grades = TaxCreditGrade.objects.filter(enterprise_id__in=ids, year__lt=as_of.year)
    for pk, year, grade in grades.values_list("enterprise_id", "year", "grade"):
        rank = GRADE_RANK.get(grade)
        if rank is None:
            continue
        if pk not in latest or year > latest[pk][0]:
            latest[pk] = (year, rank)
        if year >= as_of.year - 3:
            worst[pk] = max(worst.get(pk, 0), rank)
    current = Enterprise.objects.filter(
        pk__in=ids, tax_grade_year__lt=as_of.year, tax_grade__in=list(GRADE_RANK)
    ).values_list("pk", "tax_grade")
    for pk, grade in current:
        if pk not in latest:
            latest[pk] = (0, GRADE_RANK[grade])
            worst.setdefault(pk, GRADE_RANK[grade])
    _put(frame, "tax_grade", {pk: rank for pk, (_year, rank) in latest.items()})
    _put(frame, "tax_grade_worst_3y", worst)


def _qualifications_and_lists(frame: pd.DataFrame, as_of: date, ids: list[int]) -> None:
    held = (
        Qualification.objects.active_on(as_of)
        .counting()
        .filter(enterprise_id__in=ids)
        .values("enterprise_id")
        .annotate(n=Count("pk"))
    )
    _put(frame, "qualifications", {row["enterprise_id"]: row["n"] for row in held}, 0.0)
    entries = ListEntry.objects.in_force(as_of).filter(enterprise_id__in=ids, project__isnull=True)
    black: dict[int, float] = {}
    positive: dict[int, float] = {}
    for pk, list_type in entries.values_list(
        "enterprise_id", "version__list__list_type"
    ).distinct():
        if list_type == "black":
            black[pk] = 1.0
        elif list_type in POSITIVE_LISTS:
            positive[pk] = positive.get(pk, 0.0) + 1.0
    _put(frame, "black_list", black, 0.0)
    _put(frame, "positive_lists", positive, 0.0)


def _operating(frame: pd.DataFrame, as_of: date, ids: list[int]) -> pd.Series:
    """Revenue and electricity of the last 12 months of ended periods against
    the 12 before; profit margin of the last 12. Returns last-12-month revenue."""
    since = _months_before(as_of, 27)
    rows = list(
        OperatingRecord.objects.filter(
            enterprise_id__in=ids, period_start__gte=since, period_start__lt=as_of
        ).values_list(
            "enterprise_id", "period_type", "period_start", "revenue", "profit", "electricity_kwh"
        )
    )
    if not rows:
        return pd.Series(dtype=float)
    ops = pd.DataFrame(rows, columns=["pk", "period", "start", "revenue", "profit", "kwh"])
    for column in ("revenue", "profit", "kwh"):
        ops[column] = pd.to_numeric(ops[column], errors="coerce").astype(float)
    start = pd.to_datetime(ops["start"])
    months = np.where(ops["period"] == "quarter", 3, 1)
    end = start + pd.to_timedelta(months * 30.44, unit="D")
    ops = ops[end <= pd.Timestamp(as_of)]
    end = end[end <= pd.Timestamp(as_of)]
    age_days = (pd.Timestamp(as_of) - end).dt.days
    recent = ops[age_days < 365]
    prior = ops[(age_days >= 365) & (age_days < 730)]
    r = recent.groupby("pk")[["revenue", "profit", "kwh"]].sum(min_count=1)
    p = prior.groupby("pk")[["revenue", "kwh"]].sum(min_count=1)
    joined = r.join(p.add_suffix("_prior"), how="left")
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = joined["revenue"] / joined["revenue_prior"] - 1
        kwh_growth = joined["kwh"] / joined["kwh_prior"] - 1
        margin = joined["profit"] / joined["revenue"]
    clean = lambda s: s.replace([np.inf, -np.inf], np.nan)  # noqa: E731
    frame.loc[joined.index, "revenue_growth"] = clean(growth).to_numpy()
    frame.loc[joined.index, "electricity_growth"] = clean(kwh_growth).to_numpy()
    frame.loc[joined.index, "profit_margin"] = clean(margin).to_numpy()
    return joined["revenue"]


def _loan_book(frame: pd.DataFrame, as_of: date, ids: list[int], revenue_12m: pd.Series) -> None:
    """Behaviour on the loan book before as_of: the worst days overdue and
    the downgrades of the last year, renewals of the last two, and the
    outstanding balance against a year's revenue."""
    events = list(
        LoanEvent.objects.filter(
            loan__enterprise_id__in=ids,
            on__lt=as_of,
            on__gte=as_of - timedelta(days=2 * 365),
        ).values_list(
            "loan__enterprise_id",
            "kind",
            "on",
            "classification",
            "previous_classification",
            "days_overdue",
        )
    )
    year_ago = as_of - timedelta(days=365)
    renewals: dict[int, float] = {}
    worst_days: dict[int, float] = {}
    downgrades: dict[int, float] = {}
    for pk, kind, on, cls, previous, days in events:
        if kind == LoanEventKind.RENEWED:
            renewals[pk] = renewals.get(pk, 0.0) + 1
        if on < year_ago:
            continue
        worst_days[pk] = max(worst_days.get(pk, 0.0), float(days))
        if previous and CLASS_RANK.get(cls, 0) > CLASS_RANK.get(previous, 0):
            downgrades[pk] = downgrades.get(pk, 0.0) + 1
    _put(frame, "renewals_24m", renewals, 0.0)
    _put(frame, "max_days_overdue_12m", worst_days, 0.0)
    _put(frame, "downgrades_12m", downgrades, 0.0)
    outstanding = _outstanding(as_of, ids)
    if len(revenue_12m):
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = outstanding.reindex(revenue_12m.index).fillna(0.0) / revenue_12m
        ratio = ratio.replace([np.inf, -np.inf], np.nan)
        frame.loc[ratio.index, "leverage"] = ratio.to_numpy()


def _open_on(as_of: date) -> Q:
    return Q(disbursed_on__lte=as_of) & (Q(closed_on__isnull=True) | Q(closed_on__gt=as_of))


def _outstanding(as_of: date, ids: list[int]) -> pd.Series:
    """Balance per enterprise on as_of: each open loan's last reported
    outstanding before that day (its principal if nothing was reported)."""
    loans = dict(
        LoanAccount.objects.filter(_open_on(as_of), enterprise_id__in=ids).values_list(
            "pk", "principal"
        )
    )
    owner = dict(LoanAccount.objects.filter(pk__in=list(loans)).values_list("pk", "enterprise_id"))
    balance = {pk: float(principal) for pk, principal in loans.items()}
    latest = LoanEvent.objects.filter(loan_id__in=list(loans), on__lte=as_of).order_by(
        "loan_id", "on", "pk"
    )
    for loan_id, value in latest.values_list("loan_id", "outstanding"):
        balance[loan_id] = float(value)  # ordered: the last one wins
    totals: dict[int, float] = {}
    for loan_id, value in balance.items():
        totals[owner[loan_id]] = totals.get(owner[loan_id], 0.0) + value
    return pd.Series(totals, dtype=float)


# --- labels and the training table -------------------------------------------------------------


def _bad_events() -> Q:
    return (
        Q(days_overdue__gte=BAD_DAYS_OVERDUE)
        | Q(classification=Classification.LOSS)
        | Q(kind=LoanEventKind.WRITTEN_OFF)
    )


def population(as_of: date) -> list[int]:
    """Enterprises with a loan open on as_of that were not already bad
    (90+ days overdue, 损失 or written off) before it: the ones the label
    can speak about."""
    borrowers = set(
        LoanAccount.objects.filter(_open_on(as_of)).values_list("enterprise_id", flat=True)
    )
    already = set(
        LoanEvent.objects.filter(_bad_events(), on__lte=as_of).values_list(
            "loan__enterprise_id", flat=True
        )
    )
    return sorted(borrowers - already)


def labels(as_of: date, ids: Iterable[int]) -> pd.Series:
    """1 where the enterprise had a bad event in (as_of, as_of + 12 months]."""
    ids = sorted(set(ids))
    bad = set(
        LoanEvent.objects.filter(
            _bad_events(),
            loan__enterprise_id__in=ids,
            on__gt=as_of,
            on__lte=as_of + timedelta(days=HORIZON_DAYS),
        ).values_list("loan__enterprise_id", flat=True)
    )
    return pd.Series([1 if pk in bad else 0 for pk in ids], index=ids, dtype=int)


def observation_days(as_of: date, quarters: int = TRAINING_QUARTERS) -> list[date]:
    """Quarter ends whose 12-month outcome window closed by as_of, oldest first."""
    last = as_of - timedelta(days=HORIZON_DAYS)
    ends = [
        date(year, month, day)
        for year in range(last.year - quarters // 4 - 1, last.year + 1)
        for month, day in ((3, 31), (6, 30), (9, 30), (12, 31))
    ]
    return [d for d in ends if d <= last][-quarters:]


def training_frame(as_of: date, quarters: int = TRAINING_QUARTERS) -> pd.DataFrame:
    """Stacked snapshots with their labels: columns `observed_on` (the
    split's time column), `enterprise_id`, the features and `bad`."""
    parts = []
    for day in observation_days(as_of, quarters):
        ids = population(day)
        if not ids:
            continue
        part = snapshot(day, ids)
        part["bad"] = labels(day, ids).reindex(part.index).to_numpy()
        part.insert(0, "observed_on", pd.Timestamp(day))
        parts.append(part.reset_index())
    if not parts:
        return pd.DataFrame(columns=["observed_on", "enterprise_id", *FEATURE_NAMES, "bad"])
    return pd.concat(parts, ignore_index=True)
