"""The carbon-accounting engine: arrays in, arrays out, no ORM inside (like
`chanrong.matching.engine`); `services.carbon` loads reports and factors and
writes results around it, the bench feeds it 300,000 enterprise-years.

Emissions of a line (GB/T 32150-2015 formulas (2)–(3) and (9)):
    fuel:     quantity × 低位发热量 × 单位热值含碳量 × 碳氧化率 × 44/12
    others:   quantity × factor (t CO2 per unit: electricity, heat, process)
    deducted: the same with a minus sign (green electricity within the
              purchased electricity)
Scope 1 = fuels + processes; Scope 2 = purchased electricity + heat.
Intensity = total / revenue in 万元 (NaN where revenue is missing or ≤ 0),
and total / output where output was reported.

Grades (碳效等级, 1 best … 5 worst) put each enterprise-year's intensity
among the quintiles of its peers: its industry division in its province
when there are at least `min_peers` of them, else its division nationally
when there are enough, else none (0, not graded); a configured benchmark of
its division replaces the quantiles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CO2_PER_C = 44.0 / 12.0
FUEL = 0
DIRECT = 1

#: Fewest peers (enterprises of one division with an intensity that year)
#: whose quintiles make a grade; fewer in the province: the country's.
MIN_PEERS = 10

BASIS_NONE, BASIS_BENCHMARK, BASIS_PROVINCE, BASIS_NATIONAL = 0, 1, 2, 3


@dataclass(frozen=True)
class FactorTable:
    """One row per factor: kind (FUEL / DIRECT), ncv, cc, of, ef, scope."""

    kind: np.ndarray
    ncv: np.ndarray
    cc: np.ndarray
    of: np.ndarray
    ef: np.ndarray
    scope: np.ndarray

    def per_unit(self) -> np.ndarray:
        """t CO2 per unit of each factor."""
        fuel = self.ncv * self.cc * self.of * CO2_PER_C
        return np.where(self.kind == FUEL, fuel, self.ef)


@dataclass(frozen=True)
class Result:
    line_co2: np.ndarray  # per line, t CO2 (signed)
    scope1: np.ndarray  # per report
    scope2: np.ndarray
    total: np.ndarray
    intensity_revenue: np.ndarray  # t CO2 / 万元, NaN where unknown
    intensity_output: np.ndarray  # t CO2 / unit of output, NaN where unknown


def account(
    table: FactorTable,
    *,
    report: np.ndarray,
    factor: np.ndarray,
    quantity: np.ndarray,
    sign: np.ndarray,
    n_reports: int,
    revenue_wan: np.ndarray,
    output: np.ndarray,
) -> Result:
    """Emissions of every line and report. `report` and `factor` index the
    reports (0..n_reports-1) and the table's rows; `quantity` is in the
    factor's unit; `sign` is +1, or −1 for a deducted line."""
    per_unit = table.per_unit()
    line = quantity * per_unit[factor] * sign
    scope = table.scope[factor]
    scope1 = np.bincount(report, weights=np.where(scope == 1, line, 0.0), minlength=n_reports)
    scope2 = np.bincount(report, weights=np.where(scope == 2, line, 0.0), minlength=n_reports)
    total = scope1 + scope2
    with np.errstate(divide="ignore", invalid="ignore"):
        by_revenue = np.where(revenue_wan > 0, total / revenue_wan, np.nan)
        by_output = np.where(output > 0, total / output, np.nan)
    return Result(line, scope1, scope2, total, by_revenue, by_output)


@dataclass(frozen=True)
class Grades:
    grade: np.ndarray  # 1..5, 0 = not graded
    basis: np.ndarray  # BASIS_*
    peers: np.ndarray  # size of the group whose quintiles were used
    bounds: np.ndarray  # (n, 4) upper bounds of grades 1–4 (NaN when not graded)


def _bounds_of(values: np.ndarray) -> np.ndarray:
    return np.quantile(values, [0.2, 0.4, 0.6, 0.8])


def grade(
    intensity: np.ndarray,
    division: np.ndarray,
    province: np.ndarray,
    *,
    benchmarks: dict[int, np.ndarray] | None = None,
    min_peers: int = MIN_PEERS,
) -> Grades:
    """Grades of enterprise-years of one year. `division` and `province` are
    integer codes (any encoding); `benchmarks` maps a division code to its
    four configured upper bounds. NaN intensities are not graded and are
    nobody's peer. An intensity equal to a bound gets the better grade."""
    n = len(intensity)
    grades = np.zeros(n, dtype=np.int8)
    basis = np.zeros(n, dtype=np.int8)
    peers = np.zeros(n, dtype=np.int64)
    bounds = np.full((n, 4), np.nan)
    known = ~np.isnan(intensity)
    benchmarks = benchmarks or {}

    def apply(rows: np.ndarray, edges: np.ndarray, how: int, count: int) -> None:
        grades[rows] = 1 + np.searchsorted(edges, intensity[rows], side="left")
        basis[rows] = how
        peers[rows] = count
        bounds[rows] = edges

    # Groups by (division, province) and by division, found by sorting once.
    idx = np.flatnonzero(known)
    for div in np.unique(division[idx]):
        in_div = idx[division[idx] == div]
        if int(div) in benchmarks:
            apply(in_div, np.asarray(benchmarks[int(div)], dtype=float), BASIS_BENCHMARK, 0)
            continue
        national = _bounds_of(intensity[in_div]) if len(in_div) >= min_peers else None
        provinces = province[in_div]
        for prov in np.unique(provinces):
            rows = in_div[provinces == prov]
            if len(rows) >= min_peers:
                apply(rows, _bounds_of(intensity[rows]), BASIS_PROVINCE, len(rows))
            elif national is not None:
                apply(rows, national, BASIS_NATIONAL, len(in_div))
    return Grades(grades, basis, peers, bounds)
