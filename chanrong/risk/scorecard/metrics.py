"""Discrimination and stability measures of a scorecard: AUC, KS, Gini, PSI.

Plain NumPy over arrays (sklearn's `roc_auc_score` for the AUC), so the same
numbers come out for the platform's own data and for a public CSV. The
convention throughout: `y` is 1 for a bad outcome (90+ days overdue or a
loss), `risk` is larger for riskier rows (a probability of default, or the
negated score).

scikit-learn is imported at use: this module is reached when the URLconf is
imported, and scikit-learn's import (about 1.2 s of CPU) would otherwise be
paid by every process that starts Django, whether it scores anything or not.
"""

from __future__ import annotations

import numpy as np

#: Added to empty PSI buckets so a bucket nobody falls in does not give an
#: infinite index; small against any real share.
PSI_EPSILON = 1e-4


def _binary(y) -> np.ndarray:
    y = np.asarray(y)
    values = set(np.unique(y).tolist())
    if not values <= {0, 1}:
        raise ValueError("y must hold 0 and 1 only")
    return y.astype(int)


def auc(y, risk) -> float:
    """Area under the ROC curve: the chance that a random bad row is ranked
    riskier than a random good one. NaN when only one class is present."""
    y = _binary(y)
    if y.min() == y.max():
        return float("nan")
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, np.asarray(risk, dtype=float)))


def ks(y, risk) -> float:
    """Kolmogorov–Smirnov statistic: the largest gap between the cumulative
    shares of bads and of goods over the risk threshold (max |TPR − FPR|)."""
    y = _binary(y)
    if y.min() == y.max():
        return float("nan")
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(y, np.asarray(risk, dtype=float))
    return float(np.max(np.abs(tpr - fpr)))


def gini(y, risk) -> float:
    """Accuracy ratio, 2·AUC − 1, as credit people quote it."""
    return 2.0 * auc(y, risk) - 1.0


def reference_buckets(values, buckets: int = 10) -> list[float]:
    """Inner bucket edges at the quantiles of the reference (training)
    population; repeated edges (many equal scores) collapse into one."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return []
    edges = np.quantile(values, np.linspace(0, 1, buckets + 1)[1:-1])
    return [float(e) for e in np.unique(edges)]


def bucket_shares(values, edges) -> list[float]:
    """Share of `values` in each bucket ((-inf, e0), [e0, e1), …, [ek, inf))."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    counts = np.bincount(
        np.searchsorted(np.asarray(edges, dtype=float), values, side="right"),
        minlength=len(edges) + 1,
    )
    total = counts.sum()
    return [float(c) / total if total else 0.0 for c in counts]


def psi_from_shares(expected, actual) -> float:
    """Population stability index Σ (a − e)·ln(a / e) over the buckets."""
    e = np.asarray(expected, dtype=float) + PSI_EPSILON
    a = np.asarray(actual, dtype=float) + PSI_EPSILON
    return float(np.sum((a - e) * np.log(a / e)))


def psi(expected, actual, buckets: int = 10) -> float:
    """PSI of `actual` against `expected` (the training population), over
    buckets at the training population's deciles. Under 0.1 stable, 0.1–0.25
    worth a look, above 0.25 a shifted population."""
    edges = reference_buckets(expected, buckets)
    return psi_from_shares(bucket_shares(expected, edges), bucket_shares(actual, edges))


def summary(y, risk) -> dict[str, float]:
    """The three discrimination measures of one sample, plus its size and
    bad rate."""
    y = _binary(y)
    return {
        "n": int(y.size),
        "bad_rate": float(y.mean()) if y.size else float("nan"),
        "auc": auc(y, risk),
        "ks": ks(y, risk),
        "gini": gini(y, risk),
    }
