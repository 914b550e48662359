#!/usr/bin/env python
"""Carbon accounting of N enterprise-years (issue 18: 300,000 in ≤ 30 s),
beside a per-row Python loop, printed side by side.

Generates N yearly reports synthetically from a seed (3–8 lines each, drawn
from every reportable item in its allowed units, in 2021–2024, over 31
provinces and 40 industry divisions, with revenue), using the shipped
factor table (chanrong/green/data/carbon_factors.csv, read without a
database), then times:

  engine   carbon_engine.account on the arrays (Scope 1/2, totals,
           intensities) and carbon_engine.grade (quintiles by division and
           province, national fallback): the NumPy core alone
  service  services.carbon.account: what saving reports does before the
           INSERTs — the factor of each line's year and province chosen,
           the arrays built, the engine, each figure rounded to Decimal
  loop     the per-row Python loop a naive implementation would run: for each
           report, for each line, find its factor and compute
           quantity × NCV × CC × OF × 44/12 (or × factor) in Decimal, sum the
           scopes, divide by revenue — timed on a sample and extrapolated
           to N when N is larger than --loop-sample

Prints figures; asserts nothing about time. No database is touched.

    .venv/bin/python bench/carbon_accounting.py --reports 300000
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chanrong.settings")

PROVINCES = [11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41]
PROVINCES += [42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65]
YEARS = (2021, 2022, 2023, 2024)


def shipped_factors():
    """The shipped factors as unsaved model instances (pk = row number)."""
    import csv

    from chanrong.green.models import EmissionFactor
    from chanrong.green.services.carbon_factors import SHIPPED_CSV, _dec

    factors = []
    with SHIPPED_CSV.open(encoding="utf-8") as handle:
        for pk, row in enumerate(csv.DictReader(handle), start=1):
            factors.append(
                EmissionFactor(
                    pk=pk,
                    code=row["code"],
                    name=row["name"],
                    category=row["category"],
                    unit=row["unit"],
                    year=int(row["year"]),
                    region_id=row["region"] or None,
                    ncv=_dec(row["ncv"]),
                    carbon_content=_dec(row["carbon_content"]),
                    oxidation=_dec(row["oxidation"]),
                    factor=_dec(row["factor"]),
                    source=row["source"],
                )
            )
    return factors


def synthesise(n: int, seed: int):
    from chanrong.green.services.carbon import CleanLine, CleanReport
    from chanrong.green.services.carbon_items import ITEMS

    rng = random.Random(seed)
    codes = [c for c in ITEMS if c != "green_electricity"]
    reports, provinces, revenues, divisions = [], [], [], []
    for _ in range(n):
        lines = []
        for code in rng.sample(codes, rng.randint(3, 8)):
            item = ITEMS[code]
            unit = rng.choice([u for u in item.units if u != "吨"])
            quantity = Decimal(rng.randint(1, 500_000)) / 100
            lines.append(CleanLine(code, quantity, unit, quantity * item.units[unit]))
            if code == "grid_electricity" and rng.random() < 0.3:
                green = (quantity / 5).quantize(Decimal("0.01"))
                lines.append(CleanLine("green_electricity", green, unit, green * item.units[unit]))
        reports.append(CleanReport(rng.choice(YEARS), None, lines))
        provinces.append(f"{rng.choice(PROVINCES)}0000")
        revenues.append(Decimal(rng.randint(500, 500_000)) * 10_000)
        divisions.append(f"C{rng.randint(13, 43)}")
    return reports, provinces, revenues, divisions


def time_engine(reports, provinces, revenues, divisions, book):
    """The arrays built outside the timer; engine.account + engine.grade timed."""
    import numpy as np

    from chanrong.green.services import carbon, carbon_engine
    from chanrong.green.services.carbon_items import ITEMS

    factors, index = [], {}
    rep, fac, qty, sign = [], [], [], []
    for r, (report, province) in enumerate(zip(reports, provinces, strict=True)):
        for line in report.lines:
            item = ITEMS[line.item]
            f = book.choose(item.factor_code, report.year, province).factor
            if f.pk not in index:
                index[f.pk] = len(factors)
                factors.append(f)
            rep.append(r)
            fac.append(index[f.pk])
            qty.append(float(line.quantity_base))
            sign.append(-1.0 if item.deducted else 1.0)
    table = carbon.factor_table(factors)
    arrays = {
        "report": np.array(rep),
        "factor": np.array(fac),
        "quantity": np.array(qty),
        "sign": np.array(sign),
        "revenue_wan": np.array([float(v) / 10_000 for v in revenues]),
        "output": np.full(len(reports), np.nan),
    }
    div_codes = {d: i for i, d in enumerate(sorted(set(divisions)))}
    div = np.array([div_codes[d] for d in divisions])
    prov = np.array([int(p[:2]) for p in provinces])
    years = np.array([r.year for r in reports])
    start = time.perf_counter()
    result = carbon_engine.account(table, n_reports=len(reports), **arrays)
    accounted = time.perf_counter() - start
    start = time.perf_counter()
    graded = 0
    for year in YEARS:
        rows = years == year
        g = carbon_engine.grade(result.intensity_revenue[rows], div[rows], prov[rows])
        graded += int((g.grade > 0).sum())
    grading = time.perf_counter() - start
    return accounted, grading, len(rep), graded, result


def time_service(reports, provinces, revenues, book):
    from chanrong.green.services import carbon

    start = time.perf_counter()
    out = carbon.account(reports, provinces, revenues, book)
    return time.perf_counter() - start, out


def loop(reports, provinces, revenues, book):
    """The naive per-row loop, in Decimal as the stored factors are."""
    from chanrong.green.services.carbon_items import ITEMS

    ratio = Decimal(44) / Decimal(12)
    out = []
    for report, province, revenue in zip(reports, provinces, revenues, strict=True):
        scope1 = scope2 = Decimal(0)
        for line in report.lines:
            item = ITEMS[line.item]
            f = book._choose(item.factor_code, report.year, province).factor  # uncached, as naive
            if f.is_fuel:
                co2 = line.quantity_base * f.ncv * f.carbon_content * f.oxidation * ratio
            else:
                co2 = line.quantity_base * f.factor
            if item.deducted:
                co2 = -co2
            if item.scope == 1:
                scope1 += co2
            else:
                scope2 += co2
        total = scope1 + scope2
        out.append((scope1, scope2, total, total / (revenue / 10_000)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=300_000)
    parser.add_argument("--loop-sample", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()

    import django

    django.setup()
    from bench._machine import machine_info
    from chanrong.green.services.carbon_factors import FactorBook

    for line in machine_info():
        print(line)
    n = args.reports
    start = time.perf_counter()
    reports, provinces, revenues, divisions = synthesise(n, args.seed)
    print(f"synthesised {n:,} enterprise-years in {time.perf_counter() - start:.1f} s")
    factors = shipped_factors()

    accounted, grading, n_lines, graded, result = time_engine(
        reports, provinces, revenues, divisions, FactorBook(factors)
    )
    service, out = time_service(reports, provinces, revenues, FactorBook(factors))
    sample = min(n, args.loop_sample)
    start = time.perf_counter()
    naive = loop(reports[:sample], provinces[:sample], revenues[:sample], FactorBook(factors))
    looped = time.perf_counter() - start
    loop_total = looped * n / sample

    # The three agree (the loop in Decimal, the others in double precision).
    worst = max(abs(float(a.total) - float(b[2])) for a, b in zip(out, naive, strict=False))
    print(
        f"lines: {n_lines:,}; graded enterprise-years: {graded:,}; "
        f"largest |service − loop| total: {worst:.6f} t"
    )
    print()
    print(f"{'':34}{'time (s)':>12}{'per 100k (s)':>14}")
    rows = [
        ("engine: account (NumPy)", accounted),
        ("engine: grades, 4 years", grading),
        ("service: choose + engine + round", service),
        (
            f"per-row loop (Decimal){' *' if sample < n else ''}",
            loop_total,
        ),
    ]
    for label, seconds in rows:
        print(f"{label:34}{seconds:12.2f}{seconds / n * 100_000:14.2f}")
    if sample < n:
        print(f"* measured on {sample:,} enterprise-years ({looped:.2f} s), extrapolated to {n:,}")
    print(f"service vs loop: {loop_total / service:.1f}x faster; target ≤ 30 s for 300,000")


if __name__ == "__main__":
    main()
