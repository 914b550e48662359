#!/usr/bin/env python
"""Province scale (issue 20 part 3): 浙江's 推荐清单 for 1.4 million enterprises.

Generates E enterprises as an enterprise without a demand has them (facts
only, drawn as arrays from a seed: 90 counties of 浙江 under 11 prefectures,
industry divisions, size, tax grade, age, revenue declared or verified,
qualifications, lists, 失信, holdings, chains, 碳效等级; some facts unknown)
and P live products of about 300 institutions, then times:

  province   matching.grouped: top 10 products for every enterprise (wall
             and CPU time, peak memory of the process)
  baseline   the current engine (batch.batch_top_k, two workers) on the
             first S enterprises, extrapolated linearly to E; the grouped
             result for those rows is compared with it (must be identical)
  outreach   the institution-side list (top 50 enterprises for one
             institution's products) for an institution with few products
             and one with many: the grouped path over all E enterprises
             (grouping built once, shared by all institutions, timed apart)
             beside engine.rank_demands on the sample, extrapolated

Issue targets (2-core machine): top 10 for 1,400,000 x 20,000 <= 120 s and
<= 4 GiB; outreach <= 10 s per institution. Prints figures; asserts nothing
about time. Memory is the peak proportional set size of the process and its
workers, sampled every 50 ms (bench/matching.py's MemorySampler).

    .venv/bin/python bench/province_ranking.py --enterprises 1400000 --products 20000
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chanrong.settings")

TODAY = date(2026, 6, 1)
KINDS = ["credit", "mortgage", "pledge", "guaranteed", "tax", "tech", "green", "leasing"]
QUALS = ["high_tech", "tech_sme", "specialised_sme", "little_giant", "green_factory"]
LISTS = ["white_list", "manufacturing_white_list", "key_enterprise"]
COLLATERAL = ["real_estate", "equipment", "receivables", "ip"]
#: 浙江's divisions: manufacturing first (C13 … C43), then trade, services …
DIVISIONS = [f"C{d}" for d in range(13, 44)] + ["F51", "F52", "I65", "L72", "M75", "E48", "A01"]


def counties() -> list[str]:
    """90 county codes under 11 prefectures (3301 … 3311)."""
    per = [13, 7, 12, 7, 5, 6, 9, 6, 4, 9, 12]
    return [f"33{p + 1:02d}{c + 1:02d}" for p, n in enumerate(per) for c in range(n)]


def zipf(rng, n_values: int, size: int, a: float = 1.0):
    import numpy as np

    w = 1 / np.arange(1, n_values + 1) ** a
    return rng.choice(n_values, size=size, p=w / w.sum())


def build_products(n_products: int, seed: int):
    """ProductConditions of ~300 institutions: institution 1 has many products
    (5 % of all), institution 2 has five."""
    from chanrong.finance.eligibility import Area, IndustryRef, ProductConditions

    rng = random.Random(seed)
    codes = counties()
    prefectures = sorted({c[:4] for c in codes})
    sections = ["C", "F", "I", "L", "M"]
    n_big = max(1, n_products // 20)
    institution = [1] * n_big + [2] * min(5, max(0, n_products - n_big))
    institution += [rng.randint(3, 300) for _ in range(n_products - len(institution))]
    home = {i: rng.choice(prefectures) for i in set(institution)}
    conds, branches = [], []
    for j in range(n_products):
        scope = rng.random()
        county = rng.choice(codes)
        if scope < 0.25:
            area = ()
        elif scope < 0.6:
            area = ("33",)
        elif scope < 0.9:
            area = (county[:4],)
        else:
            area = (county,)
        adjust = ()
        if rng.random() < 0.2:
            adjust = tuple(Decimal(x) for x in ("-0.30", "-0.15", "0", "0.10", "0.20"))
        conds.append(
            ProductConditions(
                product_kind=rng.choice(KINDS),
                amount_max=Decimal(rng.choice([300, 500, 1000, 3000]) * 10000),
                term_max=rng.choice([12, 24, 36]),
                rate_min=Decimal(rng.randint(300, 600)) / 100,
                collateral_required=rng.random() < 0.3,
                collateral_options=tuple(rng.sample(COLLATERAL, rng.randint(0, 2))),
                regions=tuple(Area(p, p, p) for p in area),
                industries_in=tuple(
                    IndustryRef(s, s)
                    for s in (rng.sample(sections, 2) if rng.random() < 0.2 else [])
                ),
                industries_out=tuple(
                    IndustryRef(s, s)
                    for s in ([rng.choice(DIVISIONS)] if rng.random() < 0.1 else [])
                ),
                sizes=tuple(rng.sample(["small", "micro", "medium"], 2))
                if rng.random() < 0.4
                else (),
                required_qualifications=(rng.choice(QUALS),) if rng.random() < 0.15 else (),
                required_lists=(rng.choice(LISTS),) if rng.random() < 0.1 else (),
                min_tax_grade=rng.choice([None, None, "A", "B"]),
                min_years=rng.choice([0, 0, 1, 2, 3, 5]),
                min_revenue=Decimal(rng.choice([0, 0, 100, 300, 500, 1000, 2000])) * 10000,
                exclude_blacklisted=rng.random() < 0.7,
                max_carbon_grade=4 if rng.random() < 0.05 else None,
                carbon_rate_adjustments=adjust,
            )
        )
        branches.append((home[institution[j]],) + ((county[:4],) if rng.random() < 0.5 else ()))
    return conds, branches, institution


def build_facts(n: int, seed: int):
    """A FactTable of n enterprises without a demand, drawn as arrays."""
    import numpy as np

    from chanrong.matching import features as F

    rng = np.random.default_rng(seed)
    codes = np.array(counties(), dtype=object)
    divisions = np.array(DIVISIONS + [""], dtype=object)
    region = codes[zipf(rng, len(codes), n, 0.7)]
    industry = divisions[np.where(rng.random(n) < 0.95, zipf(rng, len(DIVISIONS), n, 0.9), -1)]
    size_names = ["micro", "small", "medium", "large"]
    size_i = rng.choice(4, size=n, p=[0.6, 0.3, 0.08, 0.02])
    size_known = rng.random(n) < 0.9
    size_bits = np.array([F.bit(F.SIZES, s) for s in size_names], dtype=np.uint16)
    size_index = np.array([F.SIZES[s] for s in size_names], dtype=np.int8)

    def mask(vocab, names, probs):
        out = np.zeros(n, dtype=np.uint16)
        for name, p in zip(names, probs, strict=True):
            out |= np.where(rng.random(n) < p, np.uint16(F.bit(vocab, name)), np.uint16(0))
        return out

    quals = mask(F.QUALIFICATIONS, QUALS, [0.05, 0.06, 0.03, 0.003, 0.01])
    declared = mask(F.QUALIFICATIONS, QUALS, [0.01, 0.01, 0.005, 0, 0]) & ~quals
    lists = mask(F.LISTS, LISTS, [0.25, 0.05, 0.03])
    revenue_known = rng.random(n) < 0.6
    holdings = np.where(rng.random(n) < 0.03, np.uint16(1 << F.HOLDINGS["receivable"]), 0)
    zeros = np.zeros(n, dtype=np.int64)
    false = np.zeros(n, dtype=bool)
    grade = np.where(rng.random(n) < 0.3, rng.integers(1, 6, n), -1).astype(np.int8)
    return F.FactTable(
        ids=np.arange(1, n + 1, dtype=np.int64),
        enterprise_ids=np.arange(1, n + 1, dtype=np.int64),
        region=region,
        industry=industry,
        size=np.where(size_known, size_bits[size_i], 0).astype(np.uint16),
        size_index=np.where(size_known, size_index[size_i], len(F.SIZES)).astype(np.int8),
        quals=quals,
        quals_known=~false,
        quals_declared=declared,
        lists=lists,
        lists_known=~false,
        tax_rank=np.where(
            rng.random(n) < 0.7, rng.choice(5, size=n, p=[0.2, 0.5, 0.15, 0.1, 0.05]), -1
        ).astype(np.int8),
        age_years=rng.integers(0, 30, n),
        age_known=rng.random(n) < 0.98,
        revenue=np.where(revenue_known, rng.lognormal(16, 1.5, n).astype(np.int64) * 100, 0),
        revenue_known=revenue_known,
        revenue_verified=revenue_known & (rng.random(n) < 0.6),
        blacklisted=np.where(rng.random(n) < 0.05, -1, rng.random(n) < 0.01).astype(np.int8),
        kind=np.zeros(n, dtype=np.uint16),
        amount=zeros,
        has_amount=false,
        term=zeros,
        has_term=false,
        rate_max=zeros,
        has_rate=false,
        collateral=np.zeros(n, dtype=np.uint16),
        collateral_known=false,
        collateral_nonempty=false,
        has_demand=false,
        holdings=holdings.astype(np.uint16),
        holdings_known=~false,
        holdings_amount=np.zeros((n, len(F.HOLDINGS)), dtype=np.int64),
        chain_key=np.where(rng.random(n) < 0.02, 1, 0).astype(np.int64),
        chain_sets=[frozenset(), frozenset({1})],
        carbon_grade=grade,
    )


def take(facts, rows):
    """The FactTable of `rows` only (the baseline's sample)."""
    from dataclasses import fields

    from chanrong.matching.features import FactTable

    values = {}
    for f in fields(FactTable):
        value = getattr(facts, f.name)
        if f.name == "chain_sets" or value is None:
            values[f.name] = value
        else:
            values[f.name] = value[rows]
    return FactTable(**values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--enterprises", type=int, default=1_400_000)
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--sample", type=int, default=50_000, help="rows for the baseline")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2, help="processes for the baseline")
    parser.add_argument("--threads", type=int, default=2, help="threads for the grouped path")
    parser.add_argument("--candidates", type=int, default=64, help="products kept per group")
    parser.add_argument("--limit", type=int, default=50, help="outreach list length")
    args = parser.parse_args()

    import django

    django.setup()
    import numpy as np

    from bench._machine import machine_info
    from bench.matching import MemorySampler, cpu_seconds, rss_mib
    from chanrong.matching import batch, engine, grouped
    from chanrong.matching.features import ProductTable

    for line in machine_info():
        print(line)
    print("note: 2 shared cores with other work running; figures are noisy")
    t0 = time.perf_counter()
    conds, branches, institution = build_products(args.products, args.seed)
    products = ProductTable.from_conditions(
        range(1, len(conds) + 1),
        conds,
        branch_regions=branches,
        approval_rate=np.random.default_rng(args.seed).random((len(conds), 5)),
        deadline_rate=np.random.default_rng(args.seed + 1).random(len(conds)),
        institution_ids=institution,
    )
    facts = build_facts(args.enterprises, args.seed)
    E, P = len(facts), len(products)
    print(f"data: {E:,} enterprises (no demand) x {P:,} products (seed {args.seed})")
    print(f"  generated in {time.perf_counter() - t0:.1f} s, RSS {rss_mib():.0f} MiB")

    # Province: top 10 for every enterprise, grouped.
    gc.collect()
    sampler = MemorySampler()
    sampler.start()
    cpu0 = cpu_seconds()
    s = time.perf_counter()
    groups = grouped.Grouped(products, facts, threads=args.threads)
    group_s = time.perf_counter() - s
    ranking, stats = groups.top_k(10, candidates=args.candidates)
    province_s = time.perf_counter() - s
    province_cpu = cpu_seconds() - cpu0
    sampler.stop()
    ranked = int((ranking.product_index[:, 0] >= 0).sum())
    print(
        f"province: top 10 for {E:,} x {P:,} in {province_s:.1f} s wall, {province_cpu:.1f} s CPU"
        f" (one process, {args.threads} threads; grouping {group_s:.1f} s, scoring"
        f" {stats['scoring_seconds']:.1f} s, picking {stats['grouped_seconds'] - stats['scoring_seconds']:.1f} s,"
        f" existing path {stats['exact_seconds']:.1f} s); enterprises with >=1 product: {ranked:,}"
    )
    print(
        f"  groups: {stats['groups']:,} eligibility groups, {stats['score_groups']:,} score"
        f" groups; {stats['deeper_groups']:,} needed more than {args.candidates} candidates,"
        f" {stats['deepest_groups']:,} more than {args.candidates * 3},"
        f" {stats['exact_groups']:,} ranked by the existing path"
    )
    print(
        f"  memory: peak {sampler.peak_mib:.0f} MiB ({sampler.peak_mib / 1024:.2f} GiB) PSS,"
        f" {sampler.base_mib:.0f} MiB before (the facts and products)"
    )

    # Outreach per institution, on the same groups.
    counts = np.bincount(products.institution_ids)
    chosen = [(2, "few"), (1, "many")]
    for inst, label in chosen:
        cols = np.flatnonzero(products.institution_ids == inst)
        cpu0 = cpu_seconds()
        s = time.perf_counter()
        rows, scores, best = groups.rank_demands(cols, k=args.limit)
        seconds = time.perf_counter() - s
        print(
            f"outreach: institution {inst} ({label}: {counts[inst]:,} products), top {args.limit}"
            f" of {E:,} enterprises in {seconds:.1f} s wall, {cpu_seconds() - cpu0:.1f} s CPU"
            f" (+ the shared grouping {group_s:.1f} s); listed {(rows >= 0).sum()}"
        )
        cpu0 = cpu_seconds()
        s = time.perf_counter()
        alone = grouped.rank_demands(products, facts, cols, k=args.limit)
        seconds = time.perf_counter() - s
        same = all(np.array_equal(a, b) for a, b in zip((rows, scores, best), alone, strict=True))
        print(
            f"  alone (grouped over its own products only, grouping included): {seconds:.1f} s"
            f" wall, {cpu_seconds() - cpu0:.1f} s CPU; same list: {same}"
        )
    del groups
    gc.collect()

    # Baseline: the current engine on a sample, extrapolated.
    n_sample = min(args.sample, E)
    sample = take(facts, np.arange(n_sample))
    cpu0 = cpu_seconds()
    s = time.perf_counter()
    base = batch.batch_top_k(products, sample, k=10, workers=args.workers)
    base_s = time.perf_counter() - s
    base_cpu = cpu_seconds() - cpu0
    same = bool(
        np.array_equal(base.product_index, ranking.product_index[:n_sample])
        and np.array_equal(base.scores, ranking.scores[:n_sample])
    )
    scale = E / n_sample
    print(
        f"baseline: batch.batch_top_k ({args.workers} workers) on {n_sample:,} enterprises in"
        f" {base_s:.1f} s wall ({base_cpu:.1f} s CPU in this process; the workers are the"
        f" forkserver's) -> {base_s * scale:,.0f} s wall for {E:,}"
        f" (linear); grouped result identical on the sample: {same}"
    )
    outreach_base = []
    for inst, label in chosen:
        cols = np.flatnonzero(products.institution_ids == inst)
        s = time.perf_counter()
        expected = engine.rank_demands(products, sample, cols, k=args.limit)
        seconds = time.perf_counter() - s
        outreach_base.append(seconds * scale)
        got = grouped.Grouped(products, sample, threads=args.threads).rank_demands(
            cols, k=args.limit
        )
        agree = all(np.array_equal(a, b) for a, b in zip(expected, got, strict=True))
        print(
            f"  outreach baseline: engine.rank_demands, institution {inst} ({label}) on the sample"
            f" {seconds:.1f} s -> {seconds * scale:,.0f} s for {E:,}; grouped identical: {agree}"
        )
    print("ratios (baseline extrapolated / grouped):")
    print(
        f"  province {base_s * scale:,.0f} s / {province_s:.1f} s = {base_s * scale / province_s:,.1f}x"
    )
    print(
        "targets: 1,400,000 x 20,000 top 10 <= 120 s and <= 4 GiB; outreach <= 10 s per institution"
    )


if __name__ == "__main__":
    main()
