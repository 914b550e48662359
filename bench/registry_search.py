#!/usr/bin/env python
"""Chinese name-substring search over many enterprises on PostgreSQL.

Loads N enterprises (default 1,000,000) with plausible Chinese names built
in SQL from syllable tables (generate_series, one statement), builds the
search indexes, then times 2-, 3- and 4-character name fragments taken from
the stored names (so every query finds something), each as:

  filterset      the query the web list actually issues: EnterpriseFilterForm
                 (name__icontains OR uscc__icontains), a page of 20 + the count,
                 with only the indexes the migrations create;
  trigram ILIKE  name ILIKE '%…%' served by the pg_trgm GIN index of registry
                 migration 0002 (20 rows + count);
  unindexed      the same ILIKE on a copy of the table without any index (seq scan);
  upper-trgm     the filterset query again after adding GIN trigram indexes on
                 UPPER(name) and UPPER(uscc), which is what Django's icontains
                 (UPPER(col) LIKE UPPER(%s)) can use;
  bigram         for 2-character fragments (trigrams need 3): a GIN index over an
                 array of the name's character bigrams, then a LIKE recheck.

Prints p50 / p95 per method and fragment length and whether the plan used
an index; asserts nothing (target: p95 <= 100 ms at 1,000,000 enterprises).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chanrong_bench_search \\
        .venv/bin/python bench/registry_search.py --rows 1000000

Rows are reused when the table already holds exactly --rows (--regenerate to reload).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/chanrong_bench_search"
COPY = "bench_enterprise_noindex"
EXTRA_INDEXES = {
    "bench_enterprise_name_upper_trgm": "gin (upper(name::text) gin_trgm_ops)",
    "bench_enterprise_uscc_upper_trgm": "gin (upper(uscc::text) gin_trgm_ops)",
}
BIGRAM_FUNCTION = """
CREATE OR REPLACE FUNCTION chanrong_bigrams(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(DISTINCT substr(t, i, 2)), '{}')
  FROM generate_series(1, greatest(length(t) - 1, 0)) AS i
$$"""
BIGRAM_INDEX = "bench_enterprise_name_bigrams"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rows", type=int, default=1_000_000, help="enterprises (default 1,000,000)")
    p.add_argument("--queries", type=int, default=60, help="timed queries per fragment length")
    p.add_argument("--baseline-queries", type=int, default=15, help="per length, unindexed")
    p.add_argument("--regenerate", action="store_true")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_URL)
    return p.parse_args()


def setup(url: str) -> None:
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("registry_search: needs PostgreSQL (set DATABASE_URL or --database-url)")
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chanrong.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from chanrong.core import refdata

    if not refdata.is_loaded():
        refdata.load_all()


def sql_array(items) -> str:
    return "ARRAY[" + ",".join("'" + str(i).replace("'", "''") + "'" for i in items) + "]"


def load(rows: int, seed: int) -> float:
    from django.db import connection

    from bench._names import BUSINESS, PLACES, SUFFIX, TRADE
    from chanrong.core.models import Region
    from chanrong.registry.models import Enterprise

    counties = sorted(Region.objects.filter(level="county").values_list("code", flat=True))
    divisions = ["C13", "C17", "C26", "C33", "C34", "C35", "C36", "C38", "C39", "F51", "I65", "M73"]
    provided = {
        "uscc",
        "name",
        "region_id",
        "industry_id",
        "employees",
        "size",
        "created_at",
        "updated_at",
    }
    blanks = []
    for field in Enterprise._meta.concrete_fields:
        if field.attname in provided or field.null or field.primary_key:
            continue
        blanks.append(
            (field.column, "''" if field.get_internal_type() == "CharField" else "DEFAULT")
        )
    columns = ", ".join(
        [
            "uscc",
            "name",
            "region_id",
            "industry_id",
            "employees",
            "size",
            "created_at",
            "updated_at",
            *[c for c, _v in blanks],
        ]
    )
    pick = lambda array, n: f"({array})[1 + floor(random() * {n})::int]"  # noqa: E731
    trade_char = f"substr('{TRADE}', 1 + floor(random() * {len(TRADE)})::int, 1)"
    name = " || ".join(
        [
            pick(sql_array(PLACES), len(PLACES)),
            trade_char,
            trade_char,
            pick(sql_array(BUSINESS), len(BUSINESS)),
            pick(sql_array(SUFFIX), len(SUFFIX)),
        ]
    )
    values = ", ".join(
        [
            "'91330421' || lpad(g::text, 9, '0') || '0'",
            name,
            pick(sql_array(counties), len(counties)),
            pick(sql_array(divisions), len(divisions)),
            "(3 + floor(random() * 2000))::int",
            pick(sql_array(["large", "medium", "small", "micro", ""]), 5),
            "now()",
            "now()",
            *[v for _c, v in blanks],
        ]
    )
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE registry_enterprise CASCADE")
        cursor.execute("DROP INDEX IF EXISTS registry_enterprise_name_trgm")
        for index in (*EXTRA_INDEXES, BIGRAM_INDEX):
            cursor.execute(f"DROP INDEX IF EXISTS {index}")
        cursor.execute("SELECT setseed(%s)", [((seed % 1000) / 1000)])
        cursor.execute(
            f"INSERT INTO registry_enterprise ({columns}) SELECT {values} FROM generate_series(1, %s) AS g",
            [rows],
        )
    return time.perf_counter() - start


def build_indexes() -> dict[str, float]:
    from django.db import connection

    timings = {}
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        steps = [
            (
                "trigram GIN on name (migration 0002)",
                "CREATE INDEX IF NOT EXISTS registry_enterprise_name_trgm ON registry_enterprise USING gin (name gin_trgm_ops)",
            ),
            *[
                (
                    f"{name} (proposed)",
                    f"CREATE INDEX IF NOT EXISTS {name} ON registry_enterprise USING {spec}",
                )
                for name, spec in EXTRA_INDEXES.items()
            ],
            ("bigram function", BIGRAM_FUNCTION),
            (
                "bigram GIN (proposed)",
                f"CREATE INDEX IF NOT EXISTS {BIGRAM_INDEX} ON registry_enterprise USING gin (chanrong_bigrams(name::text))",
            ),
            (
                "unindexed copy table",
                f"DROP TABLE IF EXISTS {COPY}; CREATE TABLE {COPY} AS SELECT * FROM registry_enterprise",
            ),
            ("ANALYZE", f"ANALYZE registry_enterprise; ANALYZE {COPY}"),
        ]
        for label, sql in steps:
            start = time.perf_counter()
            cursor.execute(sql)
            timings[label] = time.perf_counter() - start
    return timings


def fragments(count: int, length: int, rng: random.Random) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM registry_enterprise TABLESAMPLE SYSTEM (1) LIMIT %s", [count * 4]
        )
        names = [row[0] for row in cursor.fetchall()]
    out = []
    while len(out) < count and names:
        name = rng.choice(names)
        # Trade-name and business parts, not the ubiquitous 有限公司 suffix.
        body = (
            name.replace("股份有限公司", "")
            .replace("有限责任公司", "")
            .replace("集团有限公司", "")
            .replace("有限公司", "")
        )
        if len(body) < length:
            continue
        start = rng.randrange(0, len(body) - length + 1)
        out.append(body[start : start + length])
    return out


def timed(fn, queries: list[str]) -> list[float]:
    for q in queries[:3]:  # warm the cache a little
        fn(q)
    samples = []
    for q in queries:
        start = time.perf_counter()
        fn(q)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def explain_uses_index(sql: str, params) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    for marker in ("Bitmap Index Scan on ", "Index Scan using ", "Index Only Scan using "):
        if marker in plan:
            return plan.split(marker, 1)[1].split()[0]
    return "seq scan" if "Seq Scan" in plan else "?"


def main() -> None:
    args = parse_args()
    setup(args.database_url)
    from django.db import connection

    from bench._machine import machine_info
    from chanrong.accounts.models import Role, User
    from chanrong.registry.filtersets import EnterpriseFilterForm
    from chanrong.registry.models import Enterprise

    print("registry_search: Chinese name-substring search (PostgreSQL, pg_trgm)")
    for line in machine_info(connection):
        print("  " + line)
    with connection.cursor() as cursor:
        cursor.execute("SHOW lc_ctype")
        print(
            f"  database lc_ctype: {cursor.fetchone()[0]} (pg_trgm needs a UTF-8 ctype that counts CJK as letters)"
        )
    existing = Enterprise.objects.count()
    if args.regenerate or existing != args.rows:
        seconds = load(args.rows, args.seed)
        print(
            f"  loaded {args.rows:,} enterprises in {seconds:.1f} s (one INSERT … SELECT generate_series)"
        )
    else:
        print(f"  reusing {existing:,} enterprises")
    for label, seconds in build_indexes().items():
        print(f"  {label}: {seconds:.1f} s")
    admin, _created = User.objects.get_or_create(
        username="bench_admin", defaults={"role": Role.PLATFORM_ADMIN, "is_staff": True}
    )
    rng = random.Random(args.seed)
    by_length = {n: fragments(args.queries, n, rng) for n in (2, 3, 4)}
    print(f"  sample fragments: {', '.join(q for n in (2, 3, 4) for q in by_length[n][:3])}")

    def filterset_page(q: str) -> None:
        form = EnterpriseFilterForm({"q": q}, user=admin)
        queryset = form.filter(Enterprise.objects.visible_to(admin)).order_by("name", "pk")
        queryset.count()
        list(queryset.values_list("pk", "name")[:20])

    def raw_page(table: str, where: str):
        def run(q: str) -> None:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT count(*) FROM {table} WHERE {where}", [f"%{q}%"])
                cursor.fetchone()
                cursor.execute(
                    f"SELECT id, name FROM {table} WHERE {where} ORDER BY name, id LIMIT 20",
                    [f"%{q}%"],
                )
                cursor.fetchall()

        return run

    def bigram_page(q: str) -> None:
        with connection.cursor() as cursor:
            where = "chanrong_bigrams(name::text) @> %s AND name LIKE %s"
            params = [[q[i : i + 2] for i in range(len(q) - 1)], f"%{q}%"]
            cursor.execute(f"SELECT count(*) FROM registry_enterprise WHERE {where}", params)
            cursor.fetchone()
            cursor.execute(
                f"SELECT id, name FROM registry_enterprise WHERE {where} ORDER BY name, id LIMIT 20",
                params,
            )
            cursor.fetchall()

    def bigram_capped(q: str) -> None:
        """The first page, and the count only up to 1,000 ("1,000+" beyond)."""
        with connection.cursor() as cursor:
            where = "chanrong_bigrams(name::text) @> %s AND name LIKE %s"
            params = [[q[i : i + 2] for i in range(len(q) - 1)], f"%{q}%"]
            cursor.execute(
                f"SELECT count(*) FROM (SELECT 1 FROM registry_enterprise WHERE {where} LIMIT 1001) AS s",
                params,
            )
            cursor.fetchone()
            cursor.execute(
                f"SELECT id, name FROM registry_enterprise WHERE {where} ORDER BY name, id LIMIT 20",
                params,
            )
            cursor.fetchall()

    def set_indexes(enabled: bool) -> None:
        with connection.cursor() as cursor:
            for name in (*EXTRA_INDEXES, BIGRAM_INDEX):
                # Hide the proposed indexes from the planner while timing the
                # as-is query (indisvalid is what the planner looks at).
                cursor.execute(
                    "UPDATE pg_index SET indisvalid = %s WHERE indexrelid = %s::regclass",
                    [enabled, name],
                )

    def filterset_sql(q: str):
        form = EnterpriseFilterForm({"q": q}, user=admin)
        queryset = form.filter(Enterprise.objects.visible_to(admin))
        return queryset.values("pk").query.sql_with_params()

    results = []
    set_indexes(False)
    try:
        for n in (2, 3, 4):
            sql, params = filterset_sql(by_length[n][0])
            plan = explain_uses_index(sql, params)
            results.append(("filterset (as is)", n, timed(filterset_page, by_length[n]), plan))
        for n in (2, 3, 4):
            q = by_length[n][0]
            plan = explain_uses_index(
                "SELECT id FROM registry_enterprise WHERE name ILIKE %s", [f"%{q}%"]
            )
            results.append(
                (
                    "trigram ILIKE",
                    n,
                    timed(raw_page("registry_enterprise", "name ILIKE %s"), by_length[n]),
                    plan,
                )
            )
        for n in (2, 3, 4):
            queries = by_length[n][: args.baseline_queries]
            results.append(
                (
                    "unindexed ILIKE (seq scan)",
                    n,
                    timed(raw_page(COPY, "name ILIKE %s"), queries),
                    "seq scan",
                )
            )
    finally:
        set_indexes(True)
    for n in (2, 3, 4):
        sql, params = filterset_sql(by_length[n][0])
        plan = explain_uses_index(sql, params)
        results.append(("filterset + upper() trgm", n, timed(filterset_page, by_length[n]), plan))
    q2 = by_length[2][0]
    plan = explain_uses_index(
        "SELECT id FROM registry_enterprise WHERE chanrong_bigrams(name::text) @> %s AND name LIKE %s",
        [[q2], f"%{q2}%"],
    )
    results.append(("bigram GIN + LIKE", 2, timed(bigram_page, by_length[2]), plan))
    results.append(("bigram, count capped at 1000", 2, timed(bigram_capped, by_length[2]), plan))

    print()
    print(f"  {'method':<28} {'chars':>5} {'n':>4} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9}  plan")
    for label, n, samples, plan in results:
        print(
            f"  {label:<28} {n:>5} {len(samples):>4} {statistics.median(samples):>9.1f} "
            f"{percentile(samples, 95):>9.1f} {max(samples):>9.1f}  {plan}"
        )
    matches = {}
    with connection.cursor() as cursor:
        for n in (2, 3, 4):
            counts = []
            for q in by_length[n][:10]:
                cursor.execute(
                    "SELECT count(*) FROM registry_enterprise WHERE name LIKE %s", [f"%{q}%"]
                )
                counts.append(cursor.fetchone()[0])
            matches[n] = statistics.median(counts)
    print()
    print(
        "  median matches per query: "
        + ", ".join(f"{n} chars {m:,.0f}" for n, m in matches.items())
    )
    print("  each timing = COUNT(*) + first page of 20 ordered by name (what the list page runs)")
    print("  (the unindexed copy has every column of the table, but no index at all)")
    print("  target: p95 <= 100 ms at 1,000,000 enterprises")


if __name__ == "__main__":
    main()
