"""The financing fact table (FinancingRecord) and its monthly rollup
by region node × industry section × institution. `record_financing` writes
a fact and its rollup cells in one transaction (the demands app announces a
disbursed loan through its `financing_disbursed` signal, received by
`on_financing_disbursed`); `rebuild_rollups` recomputes the rollup in bulk;
the platform's financing indicators read the rollup as sources.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.errors import ValidationFailed
from chanrong.core.grouping import count_and_total_by
from chanrong.core.models import Region

from ..models import FinancingRecord, FinancingRollup
from .values import parse_number


def ancestor_prefixes(region: Region) -> list[str]:
    """Every node above and including `region`, as rollup keys ("" = country)."""
    out = [""]
    node: Region | None = region
    chain = []
    while node is not None:
        chain.append(node.prefix)
        node = node.parent
    for p in reversed(chain):
        if p not in out:
            out.append(p)
    return out


def rollup_keys(
    prefixes: list[str], section: str, institution_id: int
) -> list[tuple[str, str, int]]:
    """The cube cells one record adds to: per region node, every combination of
    (section or all) × (institution or all)."""
    keys = []
    for p in prefixes:
        for s in {section, ""}:
            for i in {institution_id, 0}:
                keys.append((p, s, i))
    return keys


def _rollup_table() -> str:
    return connection.ops.quote_name(FinancingRollup._meta.db_table)


def _apply_rollup(cells: list[tuple[str, str, int, date, int, Decimal]]) -> None:
    """Add (count, amount) to each cell, creating it if missing. One upsert
    statement per cell, valid on SQLite ≥ 3.24 and PostgreSQL alike."""
    table = _rollup_table()
    sql = (
        f"INSERT INTO {table} (region, section, institution_id, month, count, amount) "  # noqa: S608
        "VALUES (%s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (region, section, institution_id, month) DO UPDATE SET "
        f"count = {table}.count + excluded.count, amount = {table}.amount + excluded.amount"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(r, s, i, m, c, str(a)) for r, s, i, m, c, a in cells])


def on_financing_disbursed(sender, signal=None, demand=None, **facts) -> FinancingRecord:
    """Receiver of `chanrong.demands.signals.financing_disbursed` (the demand
    itself is for other receivers: the fact here is the figures)."""
    return record_financing(**facts)


def record_financing(
    *,
    region: Region,
    institution,
    amount: Any,
    on: date,
    industry=None,
    enterprise=None,
    source_ref: str | None = None,
    actor=None,
) -> FinancingRecord:
    """Record one financing outcome and add it to the rollup in the same
    transaction, so dashboards never lag or drift from the facts. Idempotent
    on `source_ref`: recording the same outcome twice returns the first."""
    amount = parse_number(amount, "amount")
    if amount is None or amount <= 0:
        raise ValidationFailed({"amount": _("金额应大于 0")})
    if not isinstance(on, date):
        raise ValidationFailed({"on": _("日期无效")})
    section = ""
    if industry is not None:
        section = industry.code[0]
    with transaction.atomic():
        if source_ref:
            existing = FinancingRecord.objects.filter(source_ref=source_ref).first()
            if existing is not None:
                return existing
        record = FinancingRecord.objects.create(
            region=region,
            industry=industry,
            section=section,
            institution=institution,
            enterprise=enterprise,
            date=on,
            amount=amount,
            source_ref=source_ref or None,
        )
        month = on.replace(day=1)
        _apply_rollup(
            [
                (p, s, i, month, 1, amount)
                for p, s, i in rollup_keys(ancestor_prefixes(region), section, institution.pk)
            ]
        )
        audit.record(
            "insights.financing.record",
            actor=actor,
            obj=record,
            object_repr=f"{region.name} {amount}",
            changes={
                "region": region.code,
                "institution": institution.pk,
                "amount": str(amount),
                "date": on.isoformat(),
                "source_ref": source_ref,
            },
        )
    return record


def rebuild_rollups() -> int:
    """Recompute FinancingRollup from FinancingRecord: a repair tool and the
    path for bulk loads (normal writes are incremental). The records are first
    grouped once by (region, section, institution, month) into a temporary
    table; every region level and cube face is then rolled up from that much
    smaller table. Returns the number of rollup rows."""
    table = _rollup_table()
    records = connection.ops.quote_name(FinancingRecord._meta.db_table)
    regions = connection.ops.quote_name(Region._meta.db_table)
    postgres = connection.vendor == "postgresql"
    month_expr = (
        "CAST(date_trunc('month', date) AS date)" if postgres else "date(date, 'start of month')"
    )
    r0 = f"JOIN {regions} r0 ON r0.code = b.region_id"
    r1 = f"{r0} JOIN {regions} r1 ON r1.code = r0.parent_id"
    r2 = f"{r1} JOIN {regions} r2 ON r2.code = r1.parent_id"
    # A record sits at a county (usually), so its nodes are r0, r1, r2 and the
    # country; a record at a prefecture simply has no r2 row.
    levels = [("r0.prefix", r0), ("r1.prefix", r1), ("r2.prefix", r2), ("''", "")]
    upsert = (
        "ON CONFLICT (region, section, institution_id, month) DO UPDATE SET "
        f"count = {table}.count + excluded.count, amount = {table}.amount + excluded.amount"
    )
    columns = f"INSERT INTO {table} (region, section, institution_id, month, count, amount) "
    with transaction.atomic(), connection.cursor() as cursor:
        # TRUNCATE locks the rollup until commit: dashboards wait for a rebuild
        # rather than read a half-built table.
        cursor.execute(
            f"TRUNCATE {table}" if postgres else f"DELETE FROM {table}"  # noqa: S608
        )
        cursor.execute("DROP TABLE IF EXISTS chanrong_rollup_base")
        cursor.execute(
            "CREATE TEMPORARY TABLE chanrong_rollup_base AS "  # noqa: S608
            f"SELECT region_id, section, institution_id, {month_expr} AS month, "
            f"COUNT(*) AS c, SUM(amount) AS a FROM {records} GROUP BY 1, 2, 3, 4"
        )
        if postgres:
            # One statement: per region level a CUBE over (section, institution)
            # gives the four faces; the outer GROUP BY merges what coincides (a
            # real blank section with "all sections", a node reached from two
            # levels), so a plain INSERT suffices — no per-row upsert.
            parts = [
                f"SELECT {node} AS node, "  # noqa: S608
                "CASE WHEN GROUPING(b.section) = 1 THEN '' ELSE b.section END AS sec, "
                "CASE WHEN GROUPING(b.institution_id) = 1 THEN 0 ELSE b.institution_id END "
                "AS inst, b.month, SUM(b.c) AS c, SUM(b.a) AS a "
                f"FROM chanrong_rollup_base b {joins} "
                "GROUP BY 1, b.month, CUBE(b.section, b.institution_id)"
                for node, joins in levels
            ]
            union = " UNION ALL ".join(parts)
            sql = f"{columns} SELECT node, sec, inst, month, SUM(c), SUM(a) FROM ({union}) x "  # noqa: S608
            # Bulk-load manners: secondary indexes are rebuilt after the load and
            # rows arrive in key order, which keeps the unique index's inserts cheap.
            cursor.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i "
                "WHERE i.tablename = %s AND NOT EXISTS ("
                "SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
                [FinancingRollup._meta.db_table],
            )
            secondary = cursor.fetchall()
            for name, _definition in secondary:
                cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
            cursor.execute(sql + "GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4")
            for _name, definition in secondary:
                cursor.execute(definition)
        else:
            for node, joins in levels:
                for section_expr, inst_expr in (
                    ("b.section", "b.institution_id"),
                    ("b.section", "0"),
                    ("''", "b.institution_id"),
                    ("''", "0"),
                ):
                    # "WHERE true" lets SQLite parse ON CONFLICT after a SELECT.
                    cursor.execute(
                        columns
                        + f"SELECT {node}, {section_expr}, {inst_expr}, b.month, SUM(b.c), SUM(b.a) "  # noqa: S608
                        f"FROM chanrong_rollup_base b {joins} WHERE true GROUP BY 1, 2, 3, 4 {upsert}"
                    )
        cursor.execute("DROP TABLE chanrong_rollup_base")
        cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608
        return cursor.fetchone()[0]


def financing_totals(prefix: str, start: date | None = None, end: date | None = None):
    """(count, amount in 元) of financing in a subtree, read from the rollup."""
    qs = FinancingRollup.objects.filter(region=prefix, section="", institution_id=0)
    if start is not None:
        qs = qs.filter(month__gte=start.replace(day=1))
    if end is not None:
        qs = qs.filter(month__lte=end)
    row = qs.aggregate(n=Sum("count"), a=Sum("amount"))
    return int(row["n"] or 0), Decimal(row["a"] or 0)


def _financing_amount_source(prefix: str, start: date | None, end: date) -> Decimal:
    # The rollup is monthly: spans are whole months (indicator periods always are).
    return financing_totals(prefix, start, end)[1]


def _financing_count_source(prefix: str, start: date | None, end: date) -> Decimal:
    return Decimal(financing_totals(prefix, start, end)[0])


def _financing_by_region(
    prefix: str, start: date | None, end: date
) -> dict[str, tuple[int, Decimal]]:
    """financing_totals of every county under `prefix` (its rollup row is
    keyed by the county's code), in one GROUP BY."""
    counties = list(
        Region.objects.filter(code__startswith=prefix, level="county").values_list(
            "code", flat=True
        )
    )
    qs = FinancingRollup.objects.filter(region__in=counties, section="", institution_id=0)
    if start is not None:
        qs = qs.filter(month__gte=start.replace(day=1))
    if end is not None:
        qs = qs.filter(month__lte=end)
    totals = count_and_total_by(qs, "region", "amount", count=Sum("count"))
    return {code: (n, Decimal(a or 0)) for code, (n, a) in totals.items()}


def _financing_amount_by_region(prefix: str, start: date | None, end: date):
    return {c: a for c, (_n, a) in _financing_by_region(prefix, start, end).items()}


def _financing_count_by_region(prefix: str, start: date | None, end: date):
    return {c: Decimal(n) for c, (n, _a) in _financing_by_region(prefix, start, end).items()}


def register_default_sources() -> None:
    """Platform financing from insights' own FinancingRecord table. The demands
    app may register its own under the same keys with replace=True — or,
    better, write each outcome through record_financing so that dashboards and
    indicators read one set of facts."""
    from ..catalogue import SOURCE_PLATFORM_AMOUNT, SOURCE_PLATFORM_COUNT
    from ..sources import register_source

    register_source(
        SOURCE_PLATFORM_AMOUNT,
        _financing_amount_source,
        label="平台融资记录（insights.FinancingRecord）",
        money=True,
        by_region=_financing_amount_by_region,
    )
    register_source(
        SOURCE_PLATFORM_COUNT,
        _financing_count_source,
        label="平台融资记录笔数（insights.FinancingRecord）",
        by_region=_financing_count_by_region,
    )
