"""What every demo builder shares: the context and the code generators.

Determinism: each builder draws from its own random stream, seeded from the
demo seed and the builder's name (`ctx.rng("enterprises")`). Adding a new
builder, or drawing more numbers in one, never changes what another builder
makes, so a later issue that adds products does not reshuffle enterprises.
Nothing here iterates over a set or relies on database order without
ORDER BY, and no value depends on the clock: every date is placed relative
to `ctx.today`, the build day (`chanrong demo --today`, by default today in
Asia/Shanghai), so a demo built on any day reads as current on that day,
and the same seed, scale and build day give the same world.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django.db import connection

from chanrong.core.codes import USCC_ALPHABET, make_uscc
from chanrong.core.workdays import is_workday

T = TypeVar("T")

# GB 11714-1997 (组织机构代码): weights of the first 8 characters.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
TZ = ZoneInfo("Asia/Shanghai")


def default_today() -> dt.date:
    """The build day when none is given: today on the platform's clock (Asia/Shanghai)."""
    return dt.datetime.now(TZ).date()


@dataclass
class DemoContext:
    """Passed to every builder in turn.

    `refs` holds what later builders need from earlier ones (the demo bank,
    the demo enterprises …); `counts` collects row counts for the summary.
    """

    seed: int
    scale: float
    password_hash: str
    # The build day: every date in the demo is placed relative to it.
    today: dt.date = field(default_factory=default_today)
    progress: Callable[[str], None] = lambda message: None
    refs: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    used_usccs: set[str] = field(default_factory=set)
    batch_size: int = 2000

    @property
    def history_end(self) -> dt.datetime:
        """The start of the build day: the demo's history happens before it,
        so nothing in it is later than the moment it is built, whatever the hour."""
        return dt.datetime.combine(self.today, dt.time.min, tzinfo=TZ)

    def rng(self, stream: str) -> random.Random:
        # A str seed is hashed with SHA-512 by random.seed (version 2): stable
        # across processes and Python versions, unlike hash().
        return random.Random(f"chanrong-demo:{self.seed}:{stream}")

    def new_uscc(self, rng: random.Random, region_code: str) -> str:
        """A valid, not yet used USCC registered in `region_code` (企业, 91)."""
        for _attempt in range(1000):
            code = make_uscc("91" + region_code + org_code(rng))
            if code not in self.used_usccs:
                self.used_usccs.add(code)
                return code
        raise RuntimeError(f"no free USCC left in region {region_code}")  # pragma: no cover


def workdays_before(day: dt.date, days: int) -> dt.date:
    """The working day `days` working days before `day` (the inverse of
    core.workdays.add_workdays for a working day): add_workdays(result, days)
    is `day` when `day` is a working day."""
    current = day
    remaining = days
    while remaining:
        current -= dt.timedelta(days=1)
        if is_workday(current):
            remaining -= 1
    return current


def next_workday(day: dt.date) -> dt.date:
    """`day` itself if it is a working day, else the next one (events are held on one)."""
    while not is_workday(day):
        day += dt.timedelta(days=1)
    return day


def add_months(day: dt.date, months: int) -> dt.date:
    """The first of the month `months` months after `day`'s month (negative: before)."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def org_code(rng: random.Random) -> str:
    """A 9-character 组织机构代码 with its GB 11714 check character.

    Two shapes, as on real licences: the "MA" codes issued since the 2015
    reform (e.g. MA2B…), and the older all-digit codes.
    """
    if rng.random() < 0.7:
        body = "MA" + "".join(rng.choice(USCC_ALPHABET) for _ in range(6))
    else:
        body = str(rng.choice("567")) + "".join(rng.choice("0123456789") for _ in range(7))
    total = sum(_char_value(ch) * w for ch, w in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return body + ("X" if check == 10 else "0" if check == 11 else str(check))


def _char_value(ch: str) -> int:
    return int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10


def weighted_choice(rng: random.Random, items: Sequence[T], cum_weights: Sequence[float]) -> T:
    return rng.choices(items, cum_weights=cum_weights, k=1)[0]


def cumulative(weights: Sequence[float]) -> list[float]:
    total = 0.0
    out = []
    for w in weights:
        total += w
        out.append(total)
    return out


def bulk_set(model, rows: Sequence, fields: Sequence[str], batch_size: int = 1000) -> None:
    """Write `fields` of the already-saved `rows`: what
    `model.objects.bulk_update(rows, fields)` writes, faster.

    Django's bulk_update sends one CASE WHEN per field with a branch per
    row: compiling it in Python and matching it in the database both grow
    with the batch, and in a profile of the scale-1 build
    it was 52 s of a profiled 161 s). On PostgreSQL this joins the table to a
    VALUES list instead, one statement per `batch_size` rows; each value is
    prepared by its field's get_db_prep_save, as bulk_update prepares it
    (so encrypted fields are encrypted, JSON is JSON; no pre_save, so
    auto_now fields move only if listed, as with bulk_update). Other
    databases (SQLite, for tests and small demos) keep bulk_update.
    tests/demo/test_bulk_set.py checks both write the same rows."""
    rows = list(rows)
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_update(rows, list(fields), batch_size=batch_size)
        return
    meta = model._meta
    pk = meta.pk
    columns = [pk, *(meta.get_field(name) for name in fields)]
    if not all(obj._is_pk_set() for obj in rows):
        raise ValueError("bulk_set() objects must have a primary key set.")
    for obj in rows:
        # A foreign key assigned while its target was unsaved gets its id now.
        obj._prepare_related_fields_for_save(operation_name="bulk_update", fields=columns[1:])
    # bulk_update's CASE takes a row's first object; so does this.
    rows = list({obj.pk: obj for obj in reversed(rows)}.values())[::-1]
    qn = connection.ops.quote_name
    row_sql = "(" + ", ".join(f"%s::{f.cast_db_type(connection)}" for f in columns) + ")"
    names = ", ".join(qn(f.column) for f in columns)
    assignments = ", ".join(f"{qn(f.column)} = v.{qn(f.column)}" for f in columns[1:])
    head = f"UPDATE {qn(meta.db_table)} AS t SET {assignments} FROM (VALUES "  # noqa: S608 (quoted names from _meta; values are parameters)
    tail = f") AS v({names}) WHERE t.{qn(pk.column)} = v.{qn(pk.column)}"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            chunk = rows[start : start + batch_size]
            params = [
                f.get_db_prep_save(getattr(obj, f.attname), connection)
                for obj in chunk
                for f in columns
            ]
            cursor.execute(head + ", ".join([row_sql] * len(chunk)) + tail, params)


def refresh_statistics() -> None:
    """ANALYZE (PostgreSQL) before a step that reads what earlier steps bulk
    wrote in the build's one transaction. Autovacuum cannot see those rows
    before the commit, so without this the planner takes the tables for
    nearly empty: the loan-book pass behind computed indicators got a
    nested-loop plan that ran one statement for over 14 minutes at scale 100
    (the `indicators` step), where scale 10 hid it in seconds. ANALYZE in the
    transaction samples its own uncommitted rows. SQLite: nothing to do."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def bulk_insert(ctx: DemoContext, model, rows: list, label: str) -> None:
    """bulk_create in batches; no per-row audit (the build records one entry)."""
    model.objects.bulk_create(rows, batch_size=ctx.batch_size)
    ctx.counts[label] = ctx.counts.get(label, 0) + len(rows)
