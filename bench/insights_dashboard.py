#!/usr/bin/env python
"""Dashboard over many financing records: rollup reads vs the raw GROUP BY.

Generates N FinancingRecord rows on PostgreSQL with generate_series (1M rows
per statement), builds FinancingRollup in one pass, then times the dashboard's
financing queries (cumulative totals, by month, by child region, by industry
section, by institution) read from the rollup, beside the same aggregates
computed with GROUP BY over the base table, at four region levels (country,
province, prefecture, county). It also times incremental writes through
insights.services.record_financing (fact row + 16 rollup upserts + audit entry
in one transaction) and checks the rollup still equals the base table.

Prints figures; asserts nothing about time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chanrong_bench_insights \\
        .venv/bin/python bench/insights_dashboard.py --rows 1000000

The database is created if missing and migrated; existing benchmark rows are
reused when their count already equals --rows (use --regenerate to start over).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/chanrong_bench_insights"
CHUNK = 1_000_000
START, END = date(2021, 1, 1), date(2025, 12, 31)
SCOPES = [("全国", ""), ("浙江省", "33"), ("嘉兴市", "3304"), ("嘉善县", "330421")]
PROVINCES = ("33", "32", "31", "34", "35", "44", "37", "51")  # 长三角 + a few more


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rows", type=int, default=10_000_000, help="financing records (default 10M)")
    p.add_argument("--institutions", type=int, default=40)
    p.add_argument("--repeat", type=int, default=200, help="rollup dashboard samples")
    p.add_argument("--raw-repeat", type=int, default=5, help="raw GROUP BY samples per scope")
    p.add_argument("--writes", type=int, default=200, help="incremental record_financing calls")
    p.add_argument("--regenerate", action="store_true")
    p.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_URL)
    return p.parse_args()


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def setup(url: str) -> None:
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("insights_dashboard: needs PostgreSQL (set DATABASE_URL or --database-url)")
    ensure_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chanrong.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from chanrong.core import refdata

    if not refdata.is_loaded():
        refdata.load_all()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:9.2f}"


def institutions(n: int) -> list[int]:
    from chanrong.finance.models import FinancialInstitution, InstitutionKind

    have = list(
        FinancialInstitution.objects.filter(name__startswith="基准测试银行")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if len(have) < n:
        FinancialInstitution.objects.bulk_create(
            FinancialInstitution(
                name=f"基准测试银行{i:03d}",
                short_name=f"测试{i:03d}",
                kind=InstitutionKind.BANK,
                region_id="330421",
            )
            for i in range(len(have), n)
        )
        have = list(
            FinancialInstitution.objects.filter(name__startswith="基准测试银行")
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    return have[:n]


def generate(rows: int, inst_ids: list[int], regenerate: bool) -> None:
    from django.db import connection

    from chanrong.core.models import Industry, Region
    from chanrong.insights.models import FinancingRecord, FinancingRollup
    from chanrong.insights.services import rebuild_rollups

    existing = FinancingRecord.objects.count()
    if existing == rows and not regenerate and FinancingRollup.objects.exists():
        print(f"reusing {existing:,} financing records and their rollup")
        return
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE insights_financingrollup, insights_financingrecord")
    counties = list(
        Region.objects.filter(level="county")
        .filter(code__regex=r"^(" + "|".join(PROVINCES) + ")")
        .order_by("code")
        .values_list("code", flat=True)
    )
    # 嘉善 first: the skew (random()^2) makes the first regions the busiest.
    counties.remove("330421")
    counties.insert(0, "330421")
    divisions = list(
        Industry.objects.filter(level="division").order_by("code").values_list("code", flat=True)
    )
    days = (END - START).days + 1
    print(
        f"generating {rows:,} records over {len(counties)} counties, {len(divisions)} divisions, "
        f"{len(inst_ids)} institutions, {START}…{END}"
    )
    sql = """
        INSERT INTO insights_financingrecord
            (region_id, industry_id, section, institution_id, enterprise_id, date, amount,
             source_ref, created_at)
        SELECT region, division, left(division, 1), institution, NULL, day, amount, NULL, now()
        FROM (
            SELECT %(regions)s::text[] AS r, %(divisions)s::text[] AS d,
                   %(insts)s::bigint[] AS i
        ) p,
        LATERAL (
            SELECT p.r[1 + floor(power(random(), 2) * cardinality(p.r))::int] AS region,
                   p.d[1 + floor(random() * cardinality(p.d))::int] AS division,
                   p.i[1 + floor(power(random(), 1.5) * cardinality(p.i))::int] AS institution,
                   %(start)s::date + floor(random() * %(days)s)::int AS day,
                   round(exp(ln(6000000) + 0.9 * sqrt(-2 * ln(1 - random()))
                             * cos(2 * pi() * random()))::numeric, 2) AS amount
            FROM generate_series(1, %(n)s) g
        ) s
    """
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        # Bulk-load the usual way: plain (non-constraint) indexes are dropped and
        # rebuilt afterwards, and FK triggers are skipped (the arrays above only
        # hold existing keys). Needs a superuser, as the bench database's owner is.
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i "
            "WHERE i.tablename = 'insights_financingrecord' AND NOT EXISTS ("
            "  SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET session_replication_role = replica")
        done = 0
        while done < rows:
            n = min(CHUNK, rows - done)
            cursor.execute(
                sql,
                {
                    "regions": counties,
                    "divisions": divisions,
                    "insts": inst_ids,
                    "start": START,
                    "days": days,
                    "n": n,
                },
            )
            done += n
            print(f"  {done:,} rows  {time.perf_counter() - started:7.1f} s", flush=True)
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for _name, definition in indexes:
            cursor.execute(definition)
        print(f"  indexes rebuilt  {time.perf_counter() - started:7.1f} s", flush=True)
        cursor.execute("SET work_mem = '512MB'")
    started = time.perf_counter()
    count = rebuild_rollups()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE insights_financingrecord")
        cursor.execute("ANALYZE insights_financingrollup")
    print(f"rollup: {count:,} rows built in {time.perf_counter() - started:.1f} s")


# --------------------------------------------------------------------------
# the dashboard's financing queries, two ways


def rollup_dashboard(prefix: str) -> None:
    from chanrong.insights import services

    services.financing_totals(prefix)
    services.financing_by_month(prefix)
    services.financing_by_child_region(prefix)
    services.financing_by_section(prefix)
    services.financing_by_institution(prefix)


def raw_queries(prefix: str) -> list[tuple[str, str, list]]:
    where = "WHERE f.region_id LIKE %s" if prefix else ""
    params = [prefix + "%"] if prefix else []
    child = {0: 2, 2: 4, 4: 6}.get(len(prefix), 6)
    t = "insights_financingrecord f"
    return [
        ("totals", f"SELECT count(*), sum(f.amount) FROM {t} {where}", params),
        (
            "by month",
            f"SELECT date_trunc('month', f.date), count(*), sum(f.amount) FROM {t} {where} "
            "GROUP BY 1 ORDER BY 1",
            params,
        ),
        (
            "by child region",
            f"SELECT left(f.region_id, {child}), count(*), sum(f.amount) FROM {t} {where} "
            "GROUP BY 1 ORDER BY 3 DESC",
            params,
        ),
        (
            "by section",
            f"SELECT f.section, count(*), sum(f.amount) FROM {t} {where} GROUP BY 1 ORDER BY 3 DESC",
            params,
        ),
        (
            "by institution",
            f"SELECT f.institution_id, count(*), sum(f.amount) FROM {t} {where} "
            "GROUP BY 1 ORDER BY 3 DESC",
            params,
        ),
    ]


def raw_dashboard(prefix: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for _name, sql, params in raw_queries(prefix):
            cursor.execute(sql, params)
            cursor.fetchall()


def timed(fn, *args) -> float:
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started


def measure(args) -> None:
    import random

    from django.db import connection

    from chanrong.core.models import Region
    from chanrong.insights import services
    from chanrong.insights.models import FinancingRecord, FinancingRollup

    records = FinancingRecord.objects.count()
    rollup_rows = FinancingRollup.objects.count()
    print()
    print(f"financing records: {records:,}   rollup rows: {rollup_rows:,}")
    try:
        from bench._machine import machine_info

        for line in machine_info(connection):
            print(line)
    except ImportError:
        print(f"PostgreSQL: {connection.pg_version}; load average {os.getloadavg()}")
    print()
    print(
        "dashboard financing queries (5 per page: totals, month, child region, section, institution)"
    )
    print(f"{'scope':10} {'source':8} {'n':>5} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9}")
    rng = random.Random(7)
    for label, prefix in SCOPES:
        for _ in range(3):  # warm the cache
            rollup_dashboard(prefix)
        samples = [timed(rollup_dashboard, prefix) for _ in range(args.repeat)]
        print(
            f"{label:10} {'rollup':8} {len(samples):5} {ms(statistics.median(samples))} "
            f"{ms(percentile(samples, 95))} {ms(max(samples))}",
            flush=True,
        )
        raw_dashboard(prefix)  # warm
        raw = [timed(raw_dashboard, prefix) for _ in range(args.raw_repeat)]
        print(
            f"{label:10} {'raw SQL':8} {len(raw):5} {ms(statistics.median(raw))} "
            f"{ms(percentile(raw, 95))} {ms(max(raw))}",
            flush=True,
        )
    # mixed workload: random scope and drill-down, as users click around
    scopes = [p for _l, p in SCOPES]
    mixed = []
    for _ in range(args.repeat):
        prefix = rng.choice(scopes)
        section = rng.choice(["", "", "C", "F", "I"])
        started = time.perf_counter()
        services.financing_totals(prefix)
        services.financing_by_month(prefix, section=section)
        services.financing_by_child_region(prefix, section=section)
        services.financing_by_section(prefix)
        services.financing_by_institution(prefix, section=section)
        mixed.append(time.perf_counter() - started)
    print(
        f"{'mixed':10} {'rollup':8} {len(mixed):5} {ms(statistics.median(mixed))} "
        f"{ms(percentile(mixed, 95))} {ms(max(mixed))}"
    )

    print()
    print("raw GROUP BY, per query (national scope, one run each)")
    with connection.cursor() as cursor:
        for name, sql, params in raw_queries(""):
            started = time.perf_counter()
            cursor.execute(sql, params)
            cursor.fetchall()
            print(f"  {name:16} {ms(time.perf_counter() - started)} ms")

    # incremental writes: the rollup is kept current in the write's transaction
    jiashan = Region.objects.get(code="330421")
    from chanrong.core.models import Industry
    from chanrong.finance.models import FinancialInstitution

    industry = Industry.objects.get(code="C34")
    bank = (
        FinancialInstitution.objects.filter(name__startswith="基准测试银行").order_by("pk").first()
    )
    writes = []
    for i in range(args.writes):
        started = time.perf_counter()
        services.record_financing(
            region=jiashan,
            institution=bank,
            industry=industry,
            amount="1000000",
            on=date(2025, 6, 1 + i % 28),
        )
        writes.append(time.perf_counter() - started)
    print()
    print(
        f"incremental record_financing (fact + 16 rollup upserts + audit, one transaction): "
        f"n={len(writes)} p50 {ms(statistics.median(writes)).strip()} ms, "
        f"p95 {ms(percentile(writes, 95)).strip()} ms"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), sum(amount) FROM insights_financingrecord")
        raw_count, raw_amount = cursor.fetchone()
    roll_count, roll_amount = services.financing_totals("")
    same = raw_count == roll_count and raw_amount == roll_amount
    print(
        f"rollup == base table after the writes: {same} "
        f"({roll_count:,} records, {roll_amount / 100_000_000:,.2f} 亿元)"
    )


def main() -> None:
    args = parse_args()
    setup(args.database_url)
    inst_ids = institutions(args.institutions)
    generate(args.rows, inst_ids, args.regenerate)
    measure(args)


if __name__ == "__main__":
    main()
