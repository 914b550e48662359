#!/usr/bin/env python
"""Matching engine: full batch, online ranking, and a naive per-pair loop.

Generates D demands (with their enterprises' facts) and P products
synthetically from a seed, then times:

  batch    engine.batch_top_k: top 10 products for every demand (wall and CPU
           time, peak memory)
  online   engine.rank_block for one demand against all P products, over 200
           demands (p50 / p95)
  naive    chanrong.finance.eligibility.evaluate in a Python loop over a sample
           of pairs, extrapolated to D x P (eligibility only, no scoring)
  sql      the same eligibility as one SQL join in PostgreSQL: the same
           synthetic products and a sample of demands COPY-loaded into temp
           tables (database BENCH_PG_URL, default
           postgres://postgres@127.0.0.1:5432/bench_matching, created if
           missing), extrapolated to D demands

Issue targets (2-core machine): batch 200,000 x 20,000 <= 30 s and <= 2 GiB
peak; online p95 <= 20 ms. Prints figures; asserts nothing about time.
Memory is the peak proportional set size of the process and its forked
workers (pages they share are counted once); CPU time is of all of them.

    .venv/bin/python bench/matching.py --demands 200000 --products 20000
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chanrong.settings")

TODAY = date(2026, 6, 1)
SECTIONS = ["A", "C", "F", "G", "I", "K", "M"]
KINDS = ["credit", "mortgage", "pledge", "guaranteed", "tax", "tech", "green", "leasing", "equity"]
DEMAND_KINDS = ["debt"] * 8 + ["equity", "leasing"]
SIZES = ["medium", "small", "small", "micro", "micro", "large"]
GRADES = ["A", "A", "B", "B", "M", "C"]
QUALS = ["high_tech", "tech_sme", "specialised_sme", "little_giant", "green_factory"]
LISTS = ["white_list", "manufacturing_white_list", "key_enterprise"]
COLLATERAL = ["real_estate", "equipment", "receivables", "ip"]


def regions(rng: random.Random) -> list[str]:
    """About 3,100 county codes under 31 provinces, 10 prefectures each."""
    provinces = [11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41]
    provinces += [42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65]
    out = []
    for p in provinces:
        for c in range(1, 11):
            for k in range(1, rng.randint(6, 14)):
                out.append(f"{p:02d}{c:02d}{k:02d}")
    return out


def build(n_demands: int, n_products: int, seed: int):
    from chanrong.finance.eligibility import (
        Area,
        DemandFacts,
        EnterpriseFacts,
        IndustryRef,
        ProductConditions,
    )

    rng = random.Random(seed)
    counties = regions(rng)
    industries = [f"{s}{d:02d}" for s in SECTIONS for d in range(10, 40)]

    def maybe(value, p_known=0.85):
        return value if rng.random() < p_known else None

    products = []
    branches = []
    for _ in range(n_products):
        county = rng.choice(counties)
        scope = rng.random()
        if scope < 0.2:
            area = ()
        elif scope < 0.6:
            area = (county[:2],)
        elif scope < 0.95:
            area = (county[:4],)
        else:
            area = (county,)
        lo = rng.choice([0, 10, 50, 100]) * 10000
        hi = rng.choice([300, 500, 1000, 3000, 10000]) * 10000
        products.append(
            ProductConditions(
                product_kind=rng.choice(KINDS),
                amount_min=Decimal(lo) if lo else None,
                amount_max=Decimal(hi),
                term_min=rng.choice([None, 1, 6]),
                term_max=rng.choice([12, 24, 36, 60]),
                rate_min=Decimal(rng.randint(300, 600)) / 100,
                collateral_required=rng.random() < 0.3,
                collateral_options=tuple(rng.sample(COLLATERAL, rng.randint(0, 2))),
                regions=tuple(Area(p, p, p) for p in area),
                industries_in=tuple(
                    IndustryRef(s, s)
                    for s in (rng.sample(SECTIONS, 2) if rng.random() < 0.2 else [])
                ),
                industries_out=tuple(
                    IndustryRef(s, s)
                    for s in ([rng.choice(industries)] if rng.random() < 0.1 else [])
                ),
                sizes=tuple(rng.sample(["small", "micro", "medium"], 2))
                if rng.random() < 0.4
                else (),
                required_qualifications=(rng.choice(QUALS),) if rng.random() < 0.15 else (),
                required_lists=(rng.choice(LISTS),) if rng.random() < 0.1 else (),
                min_tax_grade=rng.choice([None, None, "A", "B"]),
                min_years=rng.choice([0, 0, 1, 2, 3]),
                min_revenue=Decimal(rng.choice([0, 0, 100, 500])) * 10000,
                exclude_blacklisted=rng.random() < 0.7,
            )
        )
        branches.append((area[0][:4] if area and len(area[0]) >= 4 else county[:4],))
    facts = []
    for _ in range(n_demands):
        county = rng.choice(counties)
        enterprise = EnterpriseFacts(
            region_code=county,
            industry_code=maybe(rng.choice(industries)),
            size=maybe(rng.choice(SIZES)),
            revenue=maybe(Decimal(int(rng.lognormvariate(16, 1.5)))),
            founded_on=maybe(TODAY - timedelta(days=rng.randint(100, 9000))),
            tax_grade=maybe(rng.choice(GRADES)),
            qualifications=maybe(frozenset(rng.sample(QUALS, rng.choice([0, 0, 1, 2])))),
            lists=maybe(frozenset(rng.sample(LISTS, rng.choice([0, 0, 1])))),
            blacklisted=maybe(rng.random() < 0.02),
        )
        demand = DemandFacts(
            kind=rng.choice(DEMAND_KINDS),
            amount=Decimal(rng.choice([50, 100, 200, 300, 500, 800, 1000, 2000])) * 10000,
            term_months=rng.choice([6, 12, 24, 36]),
            rate_max=maybe(Decimal(rng.randint(350, 800)) / 100),
            collateral_offered=maybe(tuple(rng.sample(COLLATERAL, rng.randint(0, 2)))),
        )
        facts.append((enterprise, demand))
    return products, branches, facts


def rss_mib() -> float:
    with open("/proc/self/status", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


# --- the SQL-join baseline ---------------------------------------------------------------

PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/bench_matching")

PRODUCT_COLUMNS = (
    "id bigint, kind_answers int, amount_min bigint, amount_max bigint, term_min bigint,"
    " term_max bigint, rate_min bigint, coll_req bool, coll_opt int, sizes int, quals int,"
    " lists int, min_tax int, min_years bigint, min_revenue bigint, excl_black bool"
)
DEMAND_COLUMNS = (
    "id bigint, region text, industry text, size int, quals int, quals_known bool, lists int,"
    " lists_known bool, tax int, age bigint, age_known bool, revenue bigint, rev_known bool,"
    " black int, kind int, amount bigint, has_amount bool, term bigint, has_term bool,"
    " rate bigint, has_rate bool, coll int, coll_known bool, coll_nonempty bool, has_demand bool"
)
#: The engine's rules (engine.eligibility: no condition known to fail), as one join.
JOIN_SQL = """
SELECT count(*) FROM bench_d d JOIN bench_p p ON
  (NOT EXISTS (SELECT 1 FROM bench_p_region r WHERE r.product_id = p.id)
   OR EXISTS (SELECT 1 FROM bench_p_region r
              WHERE r.product_id = p.id AND left(d.region, length(r.prefix)) = r.prefix))
  AND (d.industry = ''
       OR ((NOT EXISTS (SELECT 1 FROM bench_p_ind_in i WHERE i.product_id = p.id)
            OR EXISTS (SELECT 1 FROM bench_p_ind_in i
                       WHERE i.product_id = p.id AND left(d.industry, length(i.prefix)) = i.prefix))
           AND NOT EXISTS (SELECT 1 FROM bench_p_ind_out o
                           WHERE o.product_id = p.id AND left(d.industry, length(o.prefix)) = o.prefix)))
  AND (d.size = 0 OR p.sizes = 0 OR (p.sizes & d.size) <> 0)
  AND (d.tax < 0 OR p.min_tax < 0 OR d.tax <= p.min_tax)
  AND (NOT d.age_known OR p.min_years = 0 OR d.age >= p.min_years)
  AND (p.min_revenue = 0 OR NOT d.rev_known OR d.revenue >= p.min_revenue)
  AND NOT (p.excl_black AND d.black > 0)
  AND (NOT d.quals_known OR (p.quals & ~d.quals) = 0)
  AND (NOT d.lists_known OR (p.lists & ~d.lists) = 0)
  AND (d.kind = 0 OR (p.kind_answers & d.kind) <> 0)
  AND (NOT d.has_amount OR (d.amount <= p.amount_max AND d.amount >= p.amount_min))
  AND (NOT d.has_term OR (d.term <= p.term_max AND d.term >= p.term_min))
  AND (NOT d.has_rate OR d.rate >= p.rate_min)
  AND (NOT d.has_demand OR NOT d.coll_known OR NOT p.coll_req
       OR (d.coll_nonempty AND (p.coll_opt = 0 OR (p.coll_opt & d.coll) <> 0)))
"""


def sql_join(products, facts, sample_rows):
    """Seconds for the eligibility of `sample_rows` x all products as one
    PostgreSQL join over temp tables (COPY-loaded), and the pair count."""
    import psycopg

    base, _, name = PG_URL.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
    P, D = products, facts
    with psycopg.connect(PG_URL) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE TEMP TABLE bench_p ({PRODUCT_COLUMNS})")
        cur.execute(f"CREATE TEMP TABLE bench_d ({DEMAND_COLUMNS})")
        for table in ("bench_p_region", "bench_p_ind_in", "bench_p_ind_out"):
            cur.execute(f"CREATE TEMP TABLE {table} (product_id bigint, prefix text)")
        with cur.copy("COPY bench_p FROM STDIN") as copy:
            for j in range(len(P)):
                copy.write_row((
                    int(P.ids[j]), int(P.kind_answers[j]), int(P.amount_min[j]),
                    int(P.amount_max[j]), int(P.term_min[j]), int(P.term_max[j]),
                    int(P.rate_min[j]), bool(P.collateral_required[j]),
                    int(P.collateral_options[j]), int(P.sizes[j]), int(P.qualifications[j]),
                    int(P.lists[j]), int(P.min_tax_rank[j]), int(P.min_years[j]),
                    int(P.min_revenue[j]), bool(P.exclude_blacklisted[j]),
                ))  # fmt: skip
        for table, lists in (
            ("bench_p_region", P.regions),
            ("bench_p_ind_in", P.industries_in),
            ("bench_p_ind_out", P.industries_out),
        ):
            with cur.copy(f"COPY {table} FROM STDIN") as copy:
                for j, prefixes in enumerate(lists):
                    for prefix in prefixes:
                        copy.write_row((int(P.ids[j]), prefix))
        with cur.copy("COPY bench_d FROM STDIN") as copy:
            for i in sample_rows:
                copy.write_row((
                    int(D.ids[i]), D.region[i], D.industry[i], int(D.size[i]), int(D.quals[i]),
                    bool(D.quals_known[i]), int(D.lists[i]), bool(D.lists_known[i]),
                    int(D.tax_rank[i]), int(D.age_years[i]), bool(D.age_known[i]),
                    int(D.revenue[i]), bool(D.revenue_known[i]), int(D.blacklisted[i]),
                    int(D.kind[i]), int(D.amount[i]), bool(D.has_amount[i]), int(D.term[i]),
                    bool(D.has_term[i]), int(D.rate_max[i]), bool(D.has_rate[i]),
                    int(D.collateral[i]), bool(D.collateral_known[i]),
                    bool(D.collateral_nonempty[i]), bool(D.has_demand[i]),
                ))  # fmt: skip
        for table in ("bench_p_region", "bench_p_ind_in", "bench_p_ind_out"):
            cur.execute(f"CREATE INDEX ON {table} (product_id)")
        cur.execute("ANALYZE bench_p; ANALYZE bench_d; ANALYZE bench_p_region")
        start = time.perf_counter()
        (count,) = cur.execute(JOIN_SQL).fetchone()
        seconds = time.perf_counter() - start
    return seconds, int(count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--demands", type=int, default=200_000)
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--online", type=int, default=200, help="demands ranked one by one")
    parser.add_argument("--naive-pairs", type=int, default=40_000)
    parser.add_argument("--block-rows", type=int, default=256, help="demands per block")
    parser.add_argument("--workers", type=int, default=2, help="processes for the batch")
    parser.add_argument("--sql-demands", type=int, default=100, help="demands in the SQL sample")
    args = parser.parse_args()

    import django

    django.setup()
    import numpy as np

    from bench._machine import machine_info
    from chanrong.finance.eligibility import evaluate
    from chanrong.matching import batch, engine
    from chanrong.matching.features import FactTable, ProductTable

    for line in machine_info():
        print(line)
    print("note: 2 shared cores with other work running; figures are noisy")
    t0 = time.perf_counter()
    conds, branches, rows = build(args.demands, args.products, args.seed)
    t1 = time.perf_counter()
    products = ProductTable.from_conditions(
        range(1, len(conds) + 1),
        conds,
        branch_regions=branches,
        approval_rate=np.random.default_rng(args.seed).random((len(conds), 5)),
        deadline_rate=np.random.default_rng(args.seed + 1).random(len(conds)),
    )
    facts = FactTable.from_facts(range(1, len(rows) + 1), rows, today=TODAY)
    t2 = time.perf_counter()
    D, P = len(facts), len(products)
    print(f"data: {D:,} demands x {P:,} products = {D * P:,} pairs (seed {args.seed})")
    print(f"  generate {t1 - t0:.1f} s, to arrays {t2 - t1:.1f} s, RSS {rss_mib():.0f} MiB")

    # Online first (small), then naive, then the batch with a fresh peak.
    rng = np.random.default_rng(args.seed)
    sample = rng.choice(D, size=min(args.online, D), replace=False)
    all_cols = np.arange(P)
    times = []
    for row in sample:
        s = time.perf_counter()
        engine.rank_block(products, facts, np.array([row]), all_cols, 10)
        times.append((time.perf_counter() - s) * 1000)
    times.sort()
    p50 = statistics.median(times)
    p95 = times[max(0, int(len(times) * 0.95) - 1)]
    print(
        f"online: one demand vs {P:,} products, {len(times)} demands: p50 {p50:.1f} ms, p95 {p95:.1f} ms"
    )

    # Naive: the pure function pair by pair.
    n_rows = max(1, min(D, args.naive_pairs // min(P, 2000)))
    n_cols = min(P, 2000)
    nrows = rng.choice(D, size=n_rows, replace=False)
    ncols = np.sort(rng.choice(P, size=n_cols, replace=False))
    s = time.perf_counter()
    naive_ok = np.zeros((n_rows, n_cols), dtype=bool)
    for a, i in enumerate(nrows):
        enterprise, demand = rows[i]
        for b, j in enumerate(ncols):
            naive_ok[a, b] = not evaluate(
                conds[j], enterprise, demand, today=TODAY, explain=False
            ).failed
    naive_s = time.perf_counter() - s
    per_pair = naive_s / (n_rows * n_cols)
    failed, _ = engine.eligibility(products, facts, nrows, ncols)
    agree = bool(np.array_equal(naive_ok, failed == 0))
    print(
        f"naive: {n_rows * n_cols:,} pairs in {naive_s:.2f} s = {per_pair * 1e6:.1f} us/pair;"
        f" engine agrees on the sample: {agree}"
    )
    naive_online_ms = per_pair * P * 1000
    naive_batch_s = per_pair * D * P

    # SQL join: the same eligibility in PostgreSQL, on a sample of demands.
    sql_rows = np.sort(rng.choice(D, size=min(args.sql_demands, D), replace=False))
    try:
        sql_s, sql_pairs = sql_join(products, facts, sql_rows)
    except Exception as error:  # no PostgreSQL here: say so, run the rest
        sql_s = None
        print(f"sql: not run ({type(error).__name__}: {error})")
    else:
        failed, _ = engine.eligibility(products, facts, sql_rows)
        engine_pairs = int((failed == 0).sum())
        print(
            f"sql: one join, {len(sql_rows):,} demands x {P:,} products in {sql_s:.2f} s"
            f" ({sql_s / len(sql_rows) * 1000:.0f} ms per demand); {sql_pairs:,} eligible pairs,"
            f" engine {engine_pairs:,}: agree {sql_pairs == engine_pairs}"
        )
    sampler = MemorySampler()
    sampler.start()
    cpu0 = cpu_seconds()
    s = time.perf_counter()
    ranking = batch.batch_top_k(
        products, facts, k=10, block_rows=args.block_rows, workers=args.workers
    )
    batch_s = time.perf_counter() - s
    cpu = cpu_seconds() - cpu0
    sampler.stop()
    matched = int((ranking.product_index[:, 0] >= 0).sum())
    print(
        f"batch: top 10 for {D:,} demands x {P:,} products in {batch_s:.1f} s wall,"
        f" {cpu:.1f} s CPU (all processes; {args.workers} worker(s));"
        f" demands with >=1 match: {matched:,}"
    )
    print(
        f"  memory: peak {sampler.peak_mib:.0f} MiB ({sampler.peak_mib / 1024:.2f} GiB)"
        f" proportional set size of the process and its workers (shared pages counted once),"
        f" {sampler.base_mib:.0f} MiB before the batch"
    )
    print("ratios (baseline / engine):")
    print(
        f"  batch  naive per-pair eligibility only {naive_batch_s:,.0f} s (extrapolated)"
        f" / {batch_s:.1f} s = {naive_batch_s / batch_s:,.0f}x (the engine also scores and ranks)"
    )
    if sql_s is not None:
        sql_batch = sql_s / len(sql_rows) * D
        print(
            f"  batch  SQL join eligibility only {sql_batch:,.0f} s (extrapolated from"
            f" {len(sql_rows)} demands) / {batch_s:.1f} s = {sql_batch / batch_s:,.1f}x"
        )
        sql_online = sql_s / len(sql_rows) * 1000
        print(
            f"  online SQL join {sql_online:.0f} ms / p50 {p50:.1f} ms = {sql_online / p50:,.1f}x"
        )
    print(
        f"  online naive {naive_online_ms:.0f} ms / p50 {p50:.1f} ms = {naive_online_ms / p50:,.0f}x"
    )
    print("targets: batch 200,000 x 20,000 <= 30 s and <= 2 GiB; online p95 <= 20 ms")


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="utf-8") as handle:
                out += [int(x) for x in handle.read().split()]
    except OSError:
        pass
    return out


class MemorySampler:
    """Peak of (this process + its children) PSS, sampled every 50 ms."""

    def __init__(self):
        import threading

        self.pid = os.getpid()
        self.peak_mib = self.base_mib = _pss_kib(self.pid) / 1024
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join()

    def _run(self):
        while not self._stop.wait(0.05):
            total = _pss_kib(self.pid) + sum(_pss_kib(c) for c in _children(self.pid))
            self.peak_mib = max(self.peak_mib, total / 1024)


if __name__ == "__main__":
    main()
