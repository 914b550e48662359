#!/usr/bin/env python
"""Chinese name-substring search over many enterprises on PostgreSQL.

Loads N enterprises (default 1,000,000) with plausible Chinese names built
in SQL from syllable tables (generate_series, one statement), builds the
search indexes of registry migrations 0004 and 0005 (trigram GIN on
UPPER(name), the GIN on its one- and two-character pieces), then times 1- to 4-character name fragments taken from
the stored names (so every query finds something) and USCC prefixes, each as:

  web list       what the enterprise list page runs: EnterpriseFilterForm
                 (registry.search), the first 1,001 matches found
                 (search.first_found), CappedPaginator: their count, capped
                 at 1,000, and the first page of 20 of them by name;
  API            /api/v1/enterprises?q=: the same search, the exact count and
                 the first page of 50 of all matches by name
                 (search.order_by_name);
  unindexed      Django's plain icontains (UPPER(name) LIKE UPPER('%…%')) on a
                 copy of the table without any index: exact count + page of 20.

and, without text, the list page's region, industry and size filters
(counted to 10,000, first 20 by name).

Prints p50 / p95 / max per method and fragment length, the index the plan
used, and the median number of matches; asserts nothing (target: p95 <=
100 ms at 1,000,000 enterprises).

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
SEARCH_INDEXES = ("registry_enterprise_name_upper_trgm", "registry_enterprise_name_grams")
# Indexes earlier versions of this benchmark (and migration 0004) added.
OLD_INDEXES = (
    "bench_enterprise_name_upper_trgm",
    "bench_enterprise_uscc_upper_trgm",
    "bench_enterprise_name_bigrams",
    "registry_enterprise_name_bigrams",
)
MIGRATIONS = ("0004_search_indexes", "0005_name_grams")


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
        for index in (*SEARCH_INDEXES, *OLD_INDEXES):
            cursor.execute(f"DROP INDEX IF EXISTS {index}")
        cursor.execute("SELECT setseed(%s)", [((seed % 1000) / 1000)])
        cursor.execute(
            f"INSERT INTO registry_enterprise ({columns}) SELECT {values} FROM generate_series(1, %s) AS g",
            [rows],
        )
    return time.perf_counter() - start


def build_indexes() -> dict[str, float]:
    """The search indexes exactly as registry migrations 0004 and 0005 leave them."""
    import importlib

    from django.db import connection

    timings = {}
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for index in (*SEARCH_INDEXES, *OLD_INDEXES):  # rebuilt below, and timed
            cursor.execute(f"DROP INDEX IF EXISTS {index}")
        steps = [
            (" ".join(sql.split())[:72], sql)
            for name in MIGRATIONS
            for sql in importlib.import_module(f"chanrong.registry.migrations.{name}").FORWARD
            if "ANALYZE" not in sql and "bigrams" not in sql  # 0005 replaces 0004's bigrams
        ]
        steps += [
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
    from chanrong.core.paging import CappedPaginator
    from chanrong.registry.filtersets import EnterpriseFilterForm
    from chanrong.registry.models import Enterprise
    from chanrong.registry.search import first_found, order_by_name, search
    from chanrong.registry.views import LIST_COUNT_CAP, SEARCH_COUNT_CAP

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
    lengths = (1, 2, 3, 4)
    queries = {n: fragments(args.queries, n, rng) for n in lengths}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT uscc FROM registry_enterprise TABLESAMPLE SYSTEM (1) LIMIT %s", [args.queries]
        )
        queries["USCC prefix"] = [row[0][:12] for row in cursor.fetchall()]
    print("  sample queries: " + ", ".join(q for key in queries for q in queries[key][:2]))

    def web_list(q: str) -> None:
        form = EnterpriseFilterForm({"q": q}, user=admin)
        queryset = first_found(
            form.filter(Enterprise.objects.visible_to(admin)), SEARCH_COUNT_CAP + 1
        )
        page = CappedPaginator(
            queryset.values_list("pk", "name"), 20, cap=SEARCH_COUNT_CAP
        ).get_page(1)
        list(page.object_list)

    def api_page(q: str) -> None:
        queryset = order_by_name(search(Enterprise.objects.visible_to(admin), q), text_search=True)
        queryset.count()
        list(queryset.values_list("pk", "name")[:50])

    def unindexed(q: str) -> None:
        where = "UPPER(name::text) LIKE UPPER(%s)"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {COPY} WHERE {where}", [f"%{q}%"])
            cursor.fetchone()
            cursor.execute(
                f"SELECT id, name FROM {COPY} WHERE {where} ORDER BY name, id LIMIT 20", [f"%{q}%"]
            )
            cursor.fetchall()

    def plan_of(q: str) -> str:
        queryset = search(Enterprise.objects.visible_to(admin), q)
        sql, params = queryset.values("pk").query.sql_with_params()
        return explain_uses_index(sql, params)

    results = []
    for key, batch in queries.items():
        plan = plan_of(batch[0])
        results.append(("web list (count <= 1,000)", key, timed(web_list, batch), plan))
        results.append(("API (exact count)", key, timed(api_page, batch), plan))
        sample = batch[: args.baseline_queries]
        results.append(("unindexed icontains", key, timed(unindexed, sample), "seq scan"))

    print()
    print(
        f"  {'method':<28} {'query':>11} {'n':>4} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9}  plan"
    )
    for label, key, samples, plan in results:
        name = f"{key} chars" if isinstance(key, int) else key
        print(
            f"  {label:<28} {name:>11} {len(samples):>4} {statistics.median(samples):>9.1f} "
            f"{percentile(samples, 95):>9.1f} {max(samples):>9.1f}  {plan}"
        )
    matches = {}
    for key, batch in queries.items():
        counts = [search(Enterprise.objects.all(), q).count() for q in batch[:10]]
        matches[key] = statistics.median(counts)
    print()
    print(
        "  median matches per query: "
        + ", ".join(
            f"{f'{k} chars' if isinstance(k, int) else k} {m:,.0f}" for k, m in matches.items()
        )
    )
    print(
        "  unindexed baseline: exact count + first 20 by name; web list and API as described above"
    )
    print("  target: p95 <= 100 ms at 1,000,000 enterprises")

    # The list page's other filters, without text: counted to 10,000, first
    # 20 by name (search.order_by_name decides between sorting and walking).
    def filtered_list(params: dict) -> None:
        form = EnterpriseFilterForm(params, user=admin)
        queryset = order_by_name(form.filter(Enterprise.objects.visible_to(admin)))
        page = CappedPaginator(queryset.values_list("pk", "name"), 20, cap=LIST_COUNT_CAP)
        list(page.get_page(1).object_list)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT region_id, industry_id FROM registry_enterprise TABLESAMPLE SYSTEM (1) LIMIT %s",
            [args.queries],
        )
        sampled = cursor.fetchall()
    levels = {
        "county": [
            {"province": r[:2] + "0000", "city": r[:4] + "00", "county": r} for r, _i in sampled
        ],
        "city": [{"province": r[:2] + "0000", "city": r[:4] + "00"} for r, _i in sampled],
        "province": [{"province": r[:2] + "0000"} for r, _i in sampled],
        "industry": [{"industry": i} for _r, i in sampled],
        "size": [{"size": s} for s in ("large", "medium", "small", "micro")] * 3,
        "size+county": [
            {"province": r[:2] + "0000", "city": r[:4] + "00", "county": r, "size": "small"}
            for r, _i in sampled
        ],
    }
    print()
    print(
        f"  {'web list, filter (no text)':<28} {'filter':>11} {'n':>4} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9}"
    )
    for key, batch in levels.items():
        samples = timed(filtered_list, batch)
        print(
            f"  {'web list (count <= 10,000)':<28} {key:>11} {len(samples):>4} "
            f"{statistics.median(samples):>9.1f} {percentile(samples, 95):>9.1f} {max(samples):>9.1f}"
        )


if __name__ == "__main__":
    main()
