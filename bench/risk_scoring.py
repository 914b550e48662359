#!/usr/bin/env python
"""Risk scorecard: scoring N synthetic enterprises from a points table.

Trains a scorecard (the platform's 14 features, optbinning) on 20,000
synthetic rows, then times, on N rows (default 300,000):

  vectorised   services.scoring.score_frame: points from the JSON table by
               one searchsorted per feature, probabilities, and the top three
               reasons in Chinese for every row
  points only  the same without the reasons' wording
  naive        a plain-Python loop (per row, per feature: find the bin by
               walking the edges, add the points) over 10,000 rows, scaled
               to N — the baseline in the same run

Issue target: 300,000 enterprises <= 30 s (2-core machine). Prints figures;
asserts nothing about time. Database work (features.snapshot, the bulk
upsert) is not in these figures.

    .venv/bin/python bench/risk_scoring.py --rows 300000
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chanrong.settings")


def synthetic(n: int, seed: int):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    grade = rng.choice([0, 1, 2, 3, 4], n, p=[0.35, 0.35, 0.1, 0.15, 0.05]).astype(float)
    frame = pd.DataFrame(
        {
            "size_rank": rng.choice([0, 1, 2, 3], n, p=[0.4, 0.4, 0.15, 0.05]).astype(float),
            "age_years": rng.gamma(3, 3, n),
            "tax_grade": grade,
            "tax_grade_worst_3y": np.maximum(grade, rng.choice([0, 1, 3], n)).astype(float),
            "qualifications": rng.poisson(0.8, n).astype(float),
            "black_list": (rng.random(n) < 0.03).astype(float),
            "positive_lists": rng.poisson(0.3, n).astype(float),
            "revenue_growth": rng.normal(0.05, 0.25, n),
            "profit_margin": rng.normal(0.06, 0.08, n),
            "electricity_growth": rng.normal(0.03, 0.2, n),
            "max_days_overdue_12m": np.where(rng.random(n) < 0.1, rng.integers(1, 90, n), 0).astype(
                float
            ),
            "downgrades_12m": (rng.random(n) < 0.05).astype(float),
            "renewals_24m": (rng.random(n) < 0.08).astype(float),
            "leverage": rng.lognormal(-1.5, 0.8, n),
        }
    )
    frame.loc[rng.random(n) < 0.2, "electricity_growth"] = np.nan
    logit = (
        -3.2
        + 0.6 * frame["tax_grade"]
        - 2.0 * frame["revenue_growth"]
        + 1.8 * frame["black_list"]
        + 0.02 * frame["max_days_overdue_12m"]
        - 0.05 * frame["age_years"]
    )
    frame["bad"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame


def naive(table, frame) -> list[float]:
    """Per row, per feature: walk the edges to the bin, add its points."""
    out = []
    records = frame.to_dict("records")
    for row in records:
        total = 0.0
        for entry in table["features"]:
            value = row[entry["name"]]
            if value != value:
                total += entry["missing_points"]
                continue
            i = 0
            for edge in entry["splits"]:
                if value >= edge:
                    i += 1
            total += entry["bins"][i]["points"]
        out.append(total)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    import django

    django.setup()
    from bench._machine import machine_info
    from chanrong.risk import features as feature_rows
    from chanrong.risk.scorecard import trainer
    from chanrong.risk.services.scoring import score_frame

    for line in machine_info():
        print(line)
    started = time.perf_counter()
    fitted = trainer.fit(synthetic(20_000, args.seed), "bad", feature_rows.features())
    print(
        f"train on 20,000 rows: {time.perf_counter() - started:.1f} s; test AUC {fitted.metrics['test']['auc']:.3f}"
    )
    table = fitted.table
    frame = synthetic(args.rows, args.seed + 1).drop(columns=["bad"])

    started = time.perf_counter()
    points, _bins = trainer.points_matrix(table, frame)
    scores = points.sum(axis=1)
    trainer.probability(table, scores)
    points_only = time.perf_counter() - started

    started = time.perf_counter()
    scores, _probs, why = score_frame(table, frame)
    vectorised = time.perf_counter() - started
    assert len(why) == args.rows

    sample = frame.iloc[:10_000]
    started = time.perf_counter()
    slow = naive(table, sample)
    naive_seconds = (time.perf_counter() - started) * args.rows / len(sample)
    assert abs(slow[0] - scores[0]) < 1e-6

    print(f"rows: {args.rows:,}")
    print(f"vectorised, with reasons: {vectorised:.2f} s")
    print(f"points only:              {points_only:.2f} s")
    print(
        f"naive loop (scaled):      {naive_seconds:.2f} s  ({naive_seconds / points_only:.0f}x points only)"
    )


if __name__ == "__main__":
    main()
