"""The loan prime rate (LPR) in force on a day, and its upkeep.

Interest subsidies (贴息) and LPR-priced products need the rate that was in
force when a loan was signed, not today's. That is the latest publication on
or before the day: LPR is published on the 20th of each month (the next
working day when the 20th is not one) and applies from that day until the
next publication.

Reading:
- `lpr_on(day, tenor)` → `LprQuote | None`, one query;
- `lpr_table(tenor)` once, then the pure `rate_in_force(table, day)` (a
  bisect) per loan, for callers computing thousands of loans.

A quote says how old it is (`stale_days`); `stale` is true when the latest
publication is more than `STALE_AFTER_DAYS` before the day asked, which
means a month is missing from the table (publications are at most ~33 days
apart), so callers can warn "最近一期 LPR 为 … 公布" instead of silently
using an old rate.

Writing: `save_lpr` (platform admins only, validated, audited) adds or
corrects one month of one tenor. `load_shipped` loads the history shipped in
`data/lpr.csv`; it runs in a data migration (every new database, every test
database) and from `chanrong refdata load`, and never overwrites a row an
admin has saved.
"""

from __future__ import annotations

import csv
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.errors import FieldError, NotAllowed, ValidationFailed
from chanrong.core.money import to_halfwidth
from chanrong.core.refdata import RefdataError
from chanrong.core.scope import ScopeKind, scope_of

from .models import LprRate, LprTenor

#: The first publication under the reformed LPR mechanism (央行公告〔2019〕第15号).
FIRST_PUBLICATION = date(2019, 8, 20)
#: A quote older than this (days) means at least one monthly publication is missing.
STALE_AFTER_DAYS = 40
DEFAULT_SOURCE = "全国银行间同业拆借中心公告"
SHIPPED_CSV = Path(__file__).parent / "data" / "lpr.csv"
CSV_COLUMNS = ("published_on", "tenor", "rate", "source")
RATE_PLACES = 4
SOURCE_MAX = 100
NOTE_MAX = 500

#: (published_on, rate) pairs of one tenor, oldest first: what `rate_in_force` bisects.
LprTable = list[tuple[date, Decimal]]


@dataclass(frozen=True)
class LprQuote:
    """The rate of one tenor in force on a day, and how old its publication is."""

    tenor: str
    published_on: date
    rate: Decimal
    source: str
    stale_days: int

    @property
    def stale(self) -> bool:
        return self.stale_days > STALE_AFTER_DAYS


# --- reading ---------------------------------------------------------------------


def _check_tenor(tenor: Any) -> str:
    if tenor not in LprTenor.values:
        raise ValidationFailed({"tenor": _("品种应为 1y（1 年期）或 5y（5 年期以上）")})
    return tenor


def _as_day(day: date) -> date:
    # A datetime is a date too, but comparing it with a date raises TypeError.
    if isinstance(day, datetime):
        return timezone.localtime(day).date() if timezone.is_aware(day) else day.date()
    return day


def lpr_on(day: date, tenor: str) -> LprQuote | None:
    """The LPR of `tenor` ("1y" / "5y") in force on `day`: the latest publication
    on or before it (a publication applies from its own day). None before
    2019-08-20 or when the table has nothing that early."""
    _check_tenor(tenor)
    day = _as_day(day)
    row = (
        LprRate.objects.filter(tenor=tenor, published_on__lte=day)
        .order_by("-published_on")
        .only("tenor", "published_on", "rate", "source")
        .first()
    )
    if row is None:
        return None
    return LprQuote(
        tenor=row.tenor,
        published_on=row.published_on,
        rate=row.rate,
        source=row.source,
        stale_days=(day - row.published_on).days,
    )


def lpr_table(tenor: str) -> LprTable:
    """Every publication of `tenor`, oldest first, in one query."""
    _check_tenor(tenor)
    return list(
        LprRate.objects.filter(tenor=tenor)
        .order_by("published_on")
        .values_list("published_on", "rate")
    )


def rate_in_force(table: Sequence[tuple[date, Decimal]], day: date) -> tuple[date, Decimal] | None:
    """The (published_on, rate) of `table` (from `lpr_table`, oldest first) in
    force on `day`, or None before its first publication. Pure: no query."""
    index = bisect_right(table, _as_day(day), key=itemgetter(0))
    return table[index - 1] if index else None


def latest_quotes(today: date | None = None) -> dict[str, LprQuote | None]:
    """Each tenor's rate in force today (Asia/Shanghai), for pages that warn
    when the table has fallen behind."""
    today = today or timezone.localdate()
    return {tenor: lpr_on(today, tenor) for tenor in LprTenor.values}


# --- who may maintain it ---------------------------------------------------------


def can_maintain_lpr(actor) -> bool:
    return scope_of(actor).kind == ScopeKind.PLATFORM


# --- validation ------------------------------------------------------------------


def _parse_date(value: Any, errors: list[FieldError]) -> date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        errors.append(FieldError("published_on", _("请填写公布日期")))
        return None
    if isinstance(value, date):
        return _as_day(value)
    try:
        return date.fromisoformat(to_halfwidth(str(value)).strip())
    except ValueError:
        errors.append(FieldError("published_on", _("日期格式应为 YYYY-MM-DD，如 2024-10-21")))
        return None


def _parse_rate(value: Any, errors: list[FieldError]) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        errors.append(FieldError("rate", _("请填写利率")))
        return None
    invalid = _("利率应为百分比数字，如 3.45（表示 3.45%）")
    if isinstance(value, bool):
        errors.append(FieldError("rate", invalid))
        return None
    try:
        if isinstance(value, float):
            rate = Decimal(str(value))
        elif isinstance(value, int | Decimal):
            rate = Decimal(value)
        else:
            rate = Decimal(to_halfwidth(str(value)).strip().removesuffix("%").strip())
    except (InvalidOperation, ValueError):
        errors.append(FieldError("rate", invalid))
        return None
    if not rate.is_finite():
        errors.append(FieldError("rate", invalid))
        return None
    if not Decimal(0) < rate < Decimal(100):
        errors.append(FieldError("rate", _("利率应大于 0 且小于 100（单位为 %）")))
        return None
    quantum = Decimal(1).scaleb(-RATE_PLACES)
    if rate != rate.quantize(quantum):
        errors.append(FieldError("rate", _("利率最多 %(places)d 位小数") % {"places": RATE_PLACES}))
        return None
    return rate.quantize(quantum)


def _text(value: Any, field: str, limit: int, errors: list[FieldError]) -> str:
    text = "" if value is None else str(value).strip()
    if "\x00" in text:
        errors.append(FieldError(field, _("不能包含 NUL 字符")))
    elif len(text) > limit:
        errors.append(FieldError(field, _("最多 %(limit)d 个字") % {"limit": limit}))
    return text


def clean_lpr(
    tenor: Any, published_on: Any, rate: Any, source: Any = "", note: Any = "", *, today=None
) -> dict[str, Any]:
    """The values of one publication, or ValidationFailed naming every bad field."""
    today = today or timezone.localdate()
    errors: list[FieldError] = []
    if tenor not in LprTenor.values:
        errors.append(FieldError("tenor", _("品种应为 1y（1 年期）或 5y（5 年期以上）")))
    day = _parse_date(published_on, errors)
    if day is not None and day < FIRST_PUBLICATION:
        errors.append(
            FieldError(
                "published_on",
                _("LPR 改革后首次报价为 %(first)s，公布日期不能早于该日")
                % {"first": FIRST_PUBLICATION.isoformat()},
            )
        )
    elif day is not None and day > today:
        errors.append(FieldError("published_on", _("公布日期不能晚于今天")))
    value = _parse_rate(rate, errors)
    source_text = _text(source, "source", SOURCE_MAX, errors) or DEFAULT_SOURCE
    note_text = _text(note, "note", NOTE_MAX, errors)
    if errors:
        raise ValidationFailed(errors)
    return {
        "tenor": str(tenor),
        "published_on": day,
        "rate": value,
        "source": source_text,
        "note": note_text,
    }


# --- writing ---------------------------------------------------------------------


def _snapshot(row: LprRate) -> dict[str, Any]:
    return {
        "tenor": row.tenor,
        "published_on": row.published_on.isoformat(),
        "rate": format(row.rate, "f"),
        "source": row.source,
        "note": row.note,
    }


def save_lpr(
    actor,
    tenor: str,
    published_on: date | str,
    rate: Decimal | str | int | float,
    source: str = "",
    note: str = "",
) -> tuple[LprRate, bool]:
    """Add or correct one month of one tenor; returns (row, created).

    LPR is published once a month, so a month that already has a row for
    this tenor is corrected in place (its date too), never duplicated.
    Platform admins only (NotAllowed otherwise); bad input is
    ValidationFailed with one error per field; every change is audited."""
    if not can_maintain_lpr(actor):
        raise NotAllowed(_("只有平台管理员可以维护 LPR 数据"))
    values = clean_lpr(tenor, published_on, rate, source, note)
    day = values["published_on"]
    try:
        with transaction.atomic():
            row = (
                LprRate.objects.select_for_update()
                .filter(tenor=tenor, published_on__year=day.year, published_on__month=day.month)
                .order_by("published_on", "pk")
                .first()
            )
            if row is None:
                row = LprRate(updated_by=actor, **values)
                row.save()
                audit.record(
                    "lpr.create", actor=actor, obj=row, changes=audit.diff({}, _snapshot(row))
                )
                return row, True
            before = _snapshot(row)
            for key, value in values.items():
                setattr(row, key, value)
            changes = audit.diff(before, _snapshot(row))
            if changes:
                row.updated_by = actor
                row.save()
                audit.record("lpr.update", actor=actor, obj=row, changes=changes)
            return row, False
    except IntegrityError:
        # Another admin saved the same publication a moment ago.
        raise ValidationFailed(
            {"published_on": _("该品种此公布日期已有记录，请刷新页面后再试")}
        ) from None


# --- the shipped history -----------------------------------------------------------


@dataclass(frozen=True)
class ShippedRow:
    published_on: date
    tenor: str
    rate: Decimal
    source: str


@dataclass
class LoadResult:
    created: int = 0
    updated: int = 0
    kept: int = 0

    def summary(self) -> str:
        return f"LPR：新增 {self.created} 行，更新 {self.updated} 行，保留 {self.kept} 行"


def read_shipped(path: Path = SHIPPED_CSV) -> list[ShippedRow]:
    """The rows of the shipped CSV (lines starting with # are comments), checked."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(line for line in handle if not line.startswith("#"))
        missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise RefdataError(f"{path} 缺少列：{', '.join(missing)}")
        rows = []
        for number, record in enumerate(reader, start=1):
            try:
                values = clean_lpr(
                    record["tenor"], record["published_on"], record["rate"], record["source"]
                )
            except ValidationFailed as exc:
                detail = "；".join(f"{e.field}: {e.message}" for e in exc.errors)
                raise RefdataError(f"{path} 第 {number} 条数据有误：{detail}") from None
            rows.append(
                ShippedRow(
                    values["published_on"], values["tenor"], values["rate"], values["source"]
                )
            )
    months = [(r.tenor, r.published_on.year, r.published_on.month) for r in rows]
    if len(set(months)) != len(months):
        raise RefdataError(f"{path}：同一品种同一月份出现了两次")
    return rows


def load_shipped(model=None, path: Path = SHIPPED_CSV) -> LoadResult:
    """Load the shipped history, idempotently, by (tenor, month): a month with
    no row gets the shipped one; a shipped row nobody has saved since
    (`updated_by` empty) takes the CSV's date, rate and source if a newer
    release corrected them; a row an admin saved is kept as it is.

    `model` is the historical model when a migration calls this."""
    model = model or LprRate
    rows = read_shipped(path)
    existing = {
        (r.tenor, r.published_on.year, r.published_on.month): r
        for r in model.objects.order_by("-published_on", "-pk")
    }
    result = LoadResult()
    to_create, to_update = [], []
    now = timezone.now()
    for row in rows:
        current = existing.get((row.tenor, row.published_on.year, row.published_on.month))
        if current is None:
            to_create.append(
                model(
                    tenor=row.tenor, published_on=row.published_on, rate=row.rate, source=row.source
                )
            )
        elif current.updated_by_id is None and (
            current.published_on,
            current.rate,
            current.source,
        ) != (row.published_on, row.rate, row.source):
            current.published_on, current.rate, current.source = (
                row.published_on,
                row.rate,
                row.source,
            )
            current.updated_at = now
            to_update.append(current)
        else:
            result.kept += 1
    with transaction.atomic():
        model.objects.bulk_create(to_create, batch_size=500)
        model.objects.bulk_update(
            to_update, ["published_on", "rate", "source", "updated_at"], batch_size=500
        )
    result.created, result.updated = len(to_create), len(to_update)
    return result


# --- for the page --------------------------------------------------------------------


@dataclass
class LprMonth:
    """One month of the table: both tenors' rows (None where missing) and the
    change from the month before, in basis points."""

    month: date
    one_year: LprRate | None
    five_year: LprRate | None
    one_year_change_bp: int | None = None
    five_year_change_bp: int | None = None

    @property
    def cells(self) -> list[tuple[LprRate | None, int | None]]:
        """(row, change in bp) of 1y then 5y: the table's two rate columns."""
        return [
            (self.one_year, self.one_year_change_bp),
            (self.five_year, self.five_year_change_bp),
        ]

    @property
    def dates_differ(self) -> bool:
        return bool(
            self.one_year
            and self.five_year
            and self.one_year.published_on != self.five_year.published_on
        )


def _bp(new: LprRate | None, old: LprRate | None) -> int | None:
    if new is None or old is None:
        return None
    return int((new.rate - old.rate) * 100)


def by_month() -> list[LprMonth]:
    """Every month with a publication, newest first."""
    months: dict[date, LprMonth] = {}
    for row in LprRate.objects.order_by("published_on", "tenor"):
        key = row.published_on.replace(day=1)
        entry = months.setdefault(key, LprMonth(key, None, None))
        if row.tenor == LprTenor.ONE_YEAR:
            entry.one_year = row
        else:
            entry.five_year = row
    ordered = [months[key] for key in sorted(months)]
    for previous, entry in zip(ordered, ordered[1:], strict=False):
        entry.one_year_change_bp = _bp(entry.one_year, previous.one_year)
        entry.five_year_change_bp = _bp(entry.five_year, previous.five_year)
    return ordered[::-1]


def chart_option(months: list[LprMonth]) -> dict[str, Any]:
    """An ECharts option: both tenors by month, as steps (a rate holds until the next)."""
    ordered = months[::-1]

    def series(name: str, attribute: str) -> dict[str, Any]:
        return {
            "name": name,
            "type": "line",
            "step": "end",
            "symbolSize": 4,
            "data": [
                None if getattr(m, attribute) is None else float(getattr(m, attribute).rate)
                for m in ordered
            ],
        }

    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 50, "right": 20, "top": 40, "bottom": 30},
        "xAxis": {"type": "category", "data": [m.month.strftime("%Y-%m") for m in ordered]},
        "yAxis": {"type": "value", "name": "%", "scale": True},
        "series": [
            series(str(_("1 年期")), "one_year"),
            series(str(_("5 年期以上")), "five_year"),
        ],
    }
