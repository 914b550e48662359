#!/usr/bin/env python
"""Matching engine: full batch, online ranking, and a naive per-pair loop.

Generates D demands (with their enterprises' facts) and P products
synthetically from a seed, then times:

  batch    engine.batch_top_k: top 10 products for every demand (wall time and
           peak RSS of the process during the batch)
  online   engine.rank_block for one demand against all P products, over 200
           demands (p50 / p95)
  naive    chanrong.finance.eligibility.evaluate in a Python loop over a sample
           of pairs, extrapolated to D x P (eligibility only, no scoring)

Issue targets (2-core machine): batch 200,000 x 20,000 <= 30 s and <= 2 GiB
peak; online p95 <= 20 ms. Prints figures; asserts nothing about time. The
SQL-join baseline in PostgreSQL is not run yet (needs the product tables).

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


def peak_mib() -> float:
    with open("/proc/self/status", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="utf-8") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--demands", type=int, default=200_000)
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--online", type=int, default=200, help="demands ranked one by one")
    parser.add_argument("--naive-pairs", type=int, default=40_000)
    parser.add_argument("--max-pairs", type=int, default=1_000_000, help="pairs per block")
    parser.add_argument("--workers", type=int, default=2, help="processes for the batch")
    args = parser.parse_args()

    import django

    django.setup()
    import numpy as np

    from bench._machine import machine_info
    from chanrong.finance.eligibility import evaluate
    from chanrong.matching import engine
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

    cleared = reset_peak()
    base = rss_mib()
    s = time.perf_counter()
    ranking = engine.batch_top_k(
        products, facts, k=10, max_pairs=args.max_pairs, workers=args.workers
    )
    batch_s = time.perf_counter() - s
    peak = peak_mib()
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    matched = int((ranking.product_index[:, 0] >= 0).sum())
    print(
        f"batch: top 10 for {D:,} demands in {batch_s:.1f} s;"
        f" RSS before {base:.0f} MiB, peak {'during batch' if cleared else 'of process'} {peak:.0f} MiB"
        f" ({peak / 1024:.2f} GiB); demands with >=1 match: {matched:,}"
    )
    if args.workers > 1:
        print(
            f"  worker processes: peak RSS {child:.0f} MiB each at most (forked: pages shared"
            f" with the parent count in each); sum bound {peak + args.workers * child:.0f} MiB"
        )
    print("ratios (naive / engine):")
    print(
        f"  batch  eligibility-only naive {naive_batch_s:,.0f} s (extrapolated) / {batch_s:.1f} s"
        f" = {naive_batch_s / batch_s:,.0f}x (engine also scores and ranks)"
    )
    print(
        f"  online naive {naive_online_ms:.0f} ms / p50 {p50:.1f} ms = {naive_online_ms / p50:,.0f}x"
    )
    print("targets: batch 200,000 x 20,000 <= 30 s and <= 2 GiB; online p95 <= 20 ms")
    print("not run: the same eligibility as one SQL join in PostgreSQL (needs the product tables)")


if __name__ == "__main__":
    main()
