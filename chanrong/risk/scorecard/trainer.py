"""The scorecard trainer: a table in, a fitted scorecard and its metrics out.

Pure: pandas and NumPy in and out, optbinning for the binning, no ORM (an
import-linter contract keeps it so), so the very same function trains on the
platform's enterprise snapshots (`chanrong.risk.features`) and on any public
credit table (`chanrong risk train --csv`), and the two sets of metrics can be
compared.

How: each feature is cut into bins by optbinning's optimal binning (WOE,
with the monotonic trend the feature asks for, e.g. "the worse the tax grade,
the higher the bad rate"), a logistic regression is fitted on the bins' WOE,
and the coefficients are scaled to points (PDO scaling: 600 points at good:bad
odds of 50:1, 20 points to double the odds). The result is exported as a
plain JSON table — per feature its bin edges (or category groups) and the
points of each bin — and every later score is computed from that table
alone. Nothing is pickled: a stored model is data, never code.

The split is by time when a time column is given: the latest `test_share` of
rows are held out, so the test measures what the model would have done on
the future, not on a shuffled sample of its own past.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _

from . import metrics

#: JSON layout of a scorecard; bump when the layout changes.
TABLE_FORMAT = 1

#: PDO scaling: BASE_POINTS at good:bad odds BASE_ODDS, PDO points per doubling.
BASE_POINTS = 600.0
BASE_ODDS = 50.0
PDO = 20.0

MIN_ROWS = 30


class TrainingError(ValueError):
    """Bad input to the trainer, with the column it is about (or "")."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Feature:
    """One input of the scorecard.

    `trend` is optbinning's monotonic_trend for the bad rate as the value
    grows: "ascending" (worse tax grade code → more bads), "descending"
    (older → fewer bads), "auto_asc_desc", or None to let the binning choose.
    `values` names coded values for the reasons ("3" → "C"); `fmt` formats a
    plain number for them.
    """

    name: str
    label: str = ""
    kind: str = "numerical"  # or "categorical"
    trend: str | None = None
    values: dict[str, str] = field(default_factory=dict)
    fmt: str = "{:,.4g}"

    @property
    def title(self) -> str:
        return self.label or self.name


@dataclass
class Fitted:
    """A trained scorecard (`table`, JSON-able) and how well it did."""

    table: dict[str, Any]
    metrics: dict[str, Any]


# --- input -------------------------------------------------------------------------------------


def binary_target(column: pd.Series, bad: Any = None) -> pd.Series:
    """The target as 0/1 (1 = bad). With `bad`, rows equal to it are bad and
    the rest good; otherwise the column must hold 0/1 (or true/false)."""
    if bad is not None:
        return (column.astype(str).str.strip() == str(bad).strip()).astype(int)
    text = column.astype(str).str.strip().str.lower()
    mapping = {"0": 0, "1": 1, "0.0": 0, "1.0": 1, "false": 0, "true": 1}
    unknown = sorted(set(text) - set(mapping))
    if unknown:
        raise TrainingError(
            _("目标列只能是 0/1（1 为违约）；出现了 %(values)s，可用 --bad 指定代表违约的取值")
            % {"values": "、".join(unknown[:5])},
            field=str(column.name),
        )
    return text.map(mapping).astype(int)


def infer_features(frame: pd.DataFrame, exclude: set[str]) -> list[Feature]:
    """Every other column: numeric columns numerical, the rest categorical."""
    out = []
    for name in frame.columns:
        if name in exclude:
            continue
        numeric = pd.api.types.is_numeric_dtype(frame[name]) and not pd.api.types.is_bool_dtype(
            frame[name]
        )
        out.append(Feature(str(name), kind="numerical" if numeric else "categorical"))
    return out


def split_by_time(
    frame: pd.DataFrame, time_column: str | None, test_share: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The earliest (1 − test_share) of rows train, the latest test; rows of
    one moment stay on one side. Without a time column, the table's order."""
    if not 0 < test_share < 1:
        raise TrainingError(_("测试集比例须在 0 与 1 之间"), field="test_share")
    if time_column is None:
        cut = int(round(len(frame) * (1 - test_share)))
        return frame.iloc[:cut], frame.iloc[cut:]
    ordered = frame.sort_values(time_column, kind="stable")
    times = ordered[time_column].to_numpy()
    cut_time = times[min(int(round(len(ordered) * (1 - test_share))), len(ordered) - 1)]
    train = ordered[ordered[time_column] < cut_time]
    test = ordered[ordered[time_column] >= cut_time]
    return train, test


def _check_sample(y: pd.Series, which: str) -> None:
    if len(y) < MIN_ROWS:
        raise TrainingError(
            _("%(which)s样本只有 %(n)s 行，至少需要 %(min)s 行")
            % {"which": which, "n": len(y), "min": MIN_ROWS}
        )
    if y.nunique() < 2:
        raise TrainingError(
            _("%(which)s样本中只有一类结果（全部违约或全部正常），无法训练或评估")
            % {"which": which}
        )


def _prepared(frame: pd.DataFrame, features: list[Feature]) -> pd.DataFrame:
    """Numerical columns as float (unparseable → missing), categorical as text."""
    out = {}
    for f in features:
        column = frame[f.name]
        if f.kind == "categorical":
            out[f.name] = (
                column.astype("object")
                .where(column.notna(), None)
                .map(lambda v: None if v is None else str(v))
            )
        else:
            out[f.name] = pd.to_numeric(column, errors="coerce").astype(float)
    return pd.DataFrame(out, index=frame.index)


# --- training ----------------------------------------------------------------------------------


def fit(
    frame: pd.DataFrame,
    target: str,
    features: list[Feature] | None = None,
    *,
    time_column: str | None = None,
    test_share: float = 0.3,
    bad: Any = None,
) -> Fitted:
    """Train on the earlier rows, measure on the later ones. Raises
    TrainingError (with the column) on input it cannot learn from."""
    if target not in frame.columns:
        raise TrainingError(_("没有名为 %(name)s 的目标列") % {"name": target}, field="target")
    if time_column is not None and time_column not in frame.columns:
        raise TrainingError(_("没有名为 %(name)s 的时间列") % {"name": time_column}, field="time")
    if features is None:
        features = infer_features(frame, {target, *([time_column] if time_column else [])})
    missing = [f.name for f in features if f.name not in frame.columns]
    if missing:
        raise TrainingError(_("缺少特征列：%(names)s") % {"names": "、".join(missing)})
    if not features:
        raise TrainingError(_("除目标列和时间列外没有可用的特征列"))

    labelled = frame[frame[target].notna()]
    dropped = len(frame) - len(labelled)
    y_all = binary_target(labelled[target], bad)
    train, test = split_by_time(labelled.assign(_y=y_all.to_numpy()), time_column, test_share)
    _check_sample(train["_y"], _("训练"))
    _check_sample(test["_y"], _("测试"))

    x_train = _prepared(train, features)
    # A feature nobody has a value for (no operating data yet, say) cannot be
    # binned; it is left out and named in the metrics.
    skipped = [f.name for f in features if x_train[f.name].isna().all()]
    features = [f for f in features if f.name not in skipped]
    if not features:
        raise TrainingError(_("所有特征列都为空，无法训练"))
    x_train = x_train[[f.name for f in features]]
    card, detailed = _fit_optbinning(x_train, train["_y"].to_numpy(), features)
    table = _export(card, detailed, features, target)

    train_scores = score(table, train)
    test_scores = score(table, test)
    table["reference"] = {
        "edges": metrics.reference_buckets(train_scores),
        "shares": [],
    }
    table["reference"]["shares"] = metrics.bucket_shares(train_scores, table["reference"]["edges"])
    result = {
        "train": metrics.summary(train["_y"], -train_scores),
        "test": metrics.summary(test["_y"], -test_scores),
        "psi_test_vs_train": metrics.psi(train_scores, test_scores),
        "iv": {row["name"]: row["iv"] for row in table["features"]},
        "dropped_unlabelled": int(dropped),
        "skipped_features": skipped,
        "split": _split_facts(train, test, time_column),
    }
    return Fitted(table=table, metrics=result)


def _split_facts(train: pd.DataFrame, test: pd.DataFrame, time_column: str | None) -> dict:
    if time_column is None:
        return {"by": "order"}
    return {
        "by": time_column,
        "train_from": str(train[time_column].min()),
        "train_until": str(train[time_column].max()),
        "test_from": str(test[time_column].min()),
        "test_until": str(test[time_column].max()),
    }


def _fit_optbinning(x: pd.DataFrame, y: np.ndarray, features: list[Feature]):
    # Imported here: optbinning pulls ortools and cvxpy, a second of import
    # the web process should not pay until it trains.
    from optbinning import BinningProcess, Scorecard
    from sklearn.linear_model import LogisticRegression

    fit_params = {f.name: {"monotonic_trend": f.trend} for f in features if f.trend}
    process = BinningProcess(
        [f.name for f in features],
        categorical_variables=[f.name for f in features if f.kind == "categorical"],
        binning_fit_params=fit_params or None,
    )
    card = Scorecard(
        binning_process=process,
        estimator=LogisticRegression(max_iter=1000),
        scaling_method="pdo_odds",
        scaling_method_params={"pdo": PDO, "odds": BASE_ODDS, "scorecard_points": BASE_POINTS},
    )
    with warnings.catch_warnings():
        # optbinning 1.0 on pandas 3.1: deprecation notices about its own
        # internals (inplace=, Totals row dtype), nothing about our data.
        warnings.simplefilter("ignore", category=FutureWarning)
        warnings.simplefilter("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*(inplace|incompatible dtype).*")
        card.fit(x, y)
        detailed = card.table(style="detailed")
    return card, detailed


def _export(card, detailed: pd.DataFrame, features: list[Feature], target: str) -> dict[str, Any]:
    """The fitted scorecard as JSON: per feature its cut points or category
    groups and the points of each bin (missing and unseen values get the
    "Missing" row's points, as optbinning scores them)."""
    out = []
    for f in features:
        rows = detailed[detailed["Variable"] == f.name]
        binned = card.binning_process_.get_binned_variable(f.name)
        regular = rows[~rows["Bin"].astype(str).isin(["Special", "Missing"])]
        missing_row = rows[rows["Bin"].astype(str) == "Missing"]
        bins = [
            {
                "label": _bin_label(row["Bin"]),
                "count": int(row["Count"]),
                "event_rate": _num(row["Event rate"]),
                "woe": _num(row["WoE"]),
                "points": _num(row["Points"]),
            }
            for _i, row in regular.iterrows()
        ]
        entry: dict[str, Any] = {
            "name": f.name,
            "label": str(f.title),
            "kind": f.kind,
            "trend": f.trend,
            "values": {str(k): str(v) for k, v in f.values.items()},
            "fmt": f.fmt,
            "bins": bins,
            "missing_points": _num(missing_row["Points"].iloc[0]) if len(missing_row) else 0.0,
            "missing_count": int(missing_row["Count"].iloc[0]) if len(missing_row) else 0,
            "iv": _num(rows["IV"].sum()),
        }
        if f.kind == "categorical":
            entry["groups"] = [[str(v) for v in group] for group in binned.splits]
        else:
            entry["splits"] = [float(s) for s in binned.splits]
        out.append(entry)
    return {
        "format": TABLE_FORMAT,
        "target": target,
        "scaling": {"points": BASE_POINTS, "odds": BASE_ODDS, "pdo": PDO},
        "features": out,
    }


def _bin_label(value) -> str:
    if isinstance(value, (list, tuple, np.ndarray)):
        return "、".join(str(v) for v in value)
    return str(value)


def _num(value) -> float:
    number = float(value)
    return 0.0 if math.isnan(number) else round(number, 6)


# --- scoring from the table --------------------------------------------------------------------


def bin_indices(entry: dict[str, Any], column: pd.Series) -> np.ndarray:
    """Each row's bin in `entry` (0 … k−1), or −1 for missing / unseen."""
    if entry["kind"] == "categorical":
        lookup = {value: i for i, group in enumerate(entry["groups"]) for value in group}
        return column.map(lambda v: -1 if v is None or v != v else lookup.get(str(v), -1)).to_numpy(
            dtype=np.int64
        )
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
    index = np.searchsorted(np.asarray(entry["splits"], dtype=float), values, side="right")
    index[np.isnan(values)] = -1
    return index


def points_matrix(table: dict[str, Any], frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(points, bins): the points each row gets from each feature (n × f) and
    the bin it fell in (−1 missing). Vectorised: one lookup per feature."""
    n = len(frame)
    points = np.empty((n, len(table["features"])), dtype=float)
    bins = np.empty((n, len(table["features"])), dtype=np.int64)
    for j, entry in enumerate(table["features"]):
        index = bin_indices(entry, frame[entry["name"]])
        lookup = np.array([b["points"] for b in entry["bins"]] + [entry["missing_points"]])
        points[:, j] = lookup[index]  # −1 picks the last element: the missing points
        bins[:, j] = index
    return points, bins


def score(table: dict[str, Any], frame: pd.DataFrame) -> np.ndarray:
    """The total points of each row: higher is safer."""
    points, _bins = points_matrix(table, frame)
    return points.sum(axis=1)


def probability(table: dict[str, Any], scores) -> np.ndarray:
    """Probability of a bad outcome implied by the scaling:
    ln(bad:good odds) = (offset − score) / factor."""
    scaling = table["scaling"]
    factor = scaling["pdo"] / math.log(2)
    offset = scaling["points"] - factor * math.log(scaling["odds"])
    logit = (offset - np.asarray(scores, dtype=float)) / factor
    return 1.0 / (1.0 + np.exp(-logit))


def population_psi(table: dict[str, Any], scores) -> float:
    """PSI of a scored population against the training population."""
    reference = table.get("reference") or {}
    edges = reference.get("edges") or []
    return metrics.psi_from_shares(
        reference.get("shares") or [1.0], metrics.bucket_shares(scores, edges)
    )
