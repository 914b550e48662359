"""The learned probability of approval, and its offline evaluation.

A logistic regression over the engine's pair features (`engine.FEATURE_NAMES`),
calibrated with `CalibratedClassifierCV` (sigmoid) so that its output can be
read, and weighed, as a probability. A linear model is used on purpose: the
full batch scores billions of pairs, and its decision function is a weighted
sum the engine evaluates per block without building a feature matrix
(`PairModel.probability`), summed in a fixed order so results are
deterministic. Saved with joblib under var/ (settings decide the exact path).

scikit-learn is imported where a model is trained or scored, not at module
import: this module is reached from the app registry, and importing
scikit-learn (with SciPy and pandas under it) cost every process that
starts Django, every CLI command, worker and test subprocess, about 2 s of
CPU whether it ever trained a model or not. Unpickling a saved model
imports it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import joblib
import numpy as np

from .engine import FEATURE_NAMES

if TYPE_CHECKING:
    from sklearn.calibration import CalibratedClassifierCV

MODEL_VERSION = 1


@dataclass
class PairModel:
    calibrated: CalibratedClassifierCV
    feature_names: tuple[str, ...] = FEATURE_NAMES
    version: int = MODEL_VERSION

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Probability of approval for rows of a (n, F) feature matrix."""
        return self.calibrated.predict_proba(np.asarray(X, dtype=np.float64))[:, 1]

    def probability(self, feats: list[np.ndarray]) -> np.ndarray:
        """Same as `predict`, over features given as broadcastable blocks."""
        shape = np.broadcast_shapes(*(np.shape(f) for f in feats))
        total = np.zeros(shape)
        members = self.calibrated.calibrated_classifiers_
        for member in members:
            lr = member.estimator
            z = np.full(shape, float(lr.intercept_[0]))
            for j, f in enumerate(feats):
                z = z + float(lr.coef_[0, j]) * f
            total = total + member.calibrators[0].predict(z.ravel()).reshape(shape)
        return total / len(members)


def train(X: np.ndarray, y: np.ndarray, *, seed: int = 0) -> PairModel:
    """Fit on past outcomes (y = 1 approved). Needs both outcomes present."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression

    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    if len(np.unique(y)) < 2:
        raise ValueError("training needs both approved and declined outcomes")
    folds = int(max(2, min(3, np.bincount(y).min())))
    base = LogisticRegression(C=1.0, max_iter=1000, random_state=seed)
    calibrated = CalibratedClassifierCV(base, method="sigmoid", cv=folds)
    calibrated.fit(X, y)
    return PairModel(calibrated)


def default_path() -> Path:
    """Where `chanrong matching_evaluate --save` and the retraining task write
    the model, and where scoring loads it from."""
    from django.conf import settings

    return Path(settings.VAR_DIR) / "matching-model.joblib"


def save(model: PairModel, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    joblib.dump(model, tmp)
    tmp.replace(path)  # readers never see half a file


def load(path: Path) -> PairModel | None:
    if not path.exists():
        return None
    model = joblib.load(path)
    if getattr(model, "version", None) != MODEL_VERSION:
        return None
    return model


# --- evaluation ------------------------------------------------------------------------


def precision_at_k(groups: np.ndarray, scores: np.ndarray, y: np.ndarray, k: int = 5) -> float:
    """Mean over groups (demands) of the share approved among the top k by score;
    ties broken by position, which callers keep in a deterministic order."""
    values = []
    order = np.lexsort((np.arange(len(scores)), -scores, groups))
    g_sorted = groups[order]
    starts = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]])
    ends = np.r_[starts[1:], len(order)]
    for s, e in zip(starts, ends, strict=True):
        top = order[s : min(e, s + k)]
        values.append(float(y[top].mean()))
    return float(np.mean(values)) if values else float("nan")


@dataclass
class Evaluation:
    n_train: int
    n_test: int
    auc_model: float
    auc_rule: float
    p5_model: float
    p5_rule: float


def evaluate_time_split(
    X: np.ndarray,
    y: np.ndarray,
    when: np.ndarray,
    groups: np.ndarray,
    rule_scores: np.ndarray,
    *,
    test_share: float = 0.3,
    seed: int = 0,
) -> tuple[Evaluation, PairModel]:
    """Train on the earliest outcomes, test on the latest: never on the future."""
    from sklearn.metrics import roc_auc_score

    order = np.lexsort((np.arange(len(when)), when))
    cut = int(len(order) * (1 - test_share))
    train_idx, test_idx = order[:cut], order[cut:]
    model = train(X[train_idx], y[train_idx], seed=seed)
    p = model.predict(X[test_idx])
    yt = y[test_idx]
    both = len(np.unique(yt)) == 2
    return (
        Evaluation(
            n_train=len(train_idx),
            n_test=len(test_idx),
            auc_model=float(roc_auc_score(yt, p)) if both else float("nan"),
            auc_rule=float(roc_auc_score(yt, rule_scores[test_idx])) if both else float("nan"),
            p5_model=precision_at_k(groups[test_idx], p, yt),
            p5_rule=precision_at_k(groups[test_idx], rule_scores[test_idx], yt),
        ),
        model,
    )


def synthetic_outcomes(n_pairs: int, *, seed: int = 0):
    """Past (pair, outcome) data with a planted signal the rule score does not
    weigh: approval depends mostly on a local branch and on the unknown-fact
    count, while the rule score leans on fit and policy. Returns
    (X, y, when, groups, rule_scores)."""
    rng = np.random.default_rng(seed)
    X = rng.random((n_pairs, len(FEATURE_NAMES)))
    X[:, FEATURE_NAMES.index("local")] = rng.random(n_pairs) < 0.4
    X[:, FEATURE_NAMES.index("unknown_count")] = rng.integers(0, 4, n_pairs)
    z = (
        -1.0
        + 2.5 * X[:, FEATURE_NAMES.index("local")]
        + 2.0 * X[:, FEATURE_NAMES.index("approval_rate")]
        - 0.9 * X[:, FEATURE_NAMES.index("unknown_count")]
        + 0.3 * X[:, FEATURE_NAMES.index("fit_amount")]
    )
    y = (rng.random(n_pairs) < 1 / (1 + np.exp(-z))).astype(np.int64)
    when = rng.permutation(n_pairs)
    groups = rng.integers(0, max(1, n_pairs // 10), n_pairs)
    rule = X[:, :4].mean(axis=1) * 0.35 + X[:, 4:8].sum(axis=1) * 0.25 / 4
    return X, y, when, groups, rule
