"""The pure scorecard trainer learns what is in the data, and only that.

Synthetic tables: the bad outcome depends on two features (x1 raises the
risk, x2 lowers it) and not on a third (noise). No database."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from chanrong.risk.scorecard import metrics, reasons, trainer
from chanrong.risk.scorecard.trainer import Feature, TrainingError


def synthetic(n: int = 3000, seed: int = 7, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1 = rng.normal(shift, 1.0, n)
    x2 = rng.normal(0.0, 1.0, n)
    noise = rng.normal(0.0, 1.0, n)
    grade = rng.choice(["A", "B", "C"], size=n, p=[0.5, 0.35, 0.15])
    logit = -2.0 + 1.4 * x1 - 1.0 * x2 + np.where(grade == "C", 1.0, 0.0)
    bad = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    month = np.sort(rng.integers(0, 36, n))
    return pd.DataFrame(
        {"month": month, "x1": x1, "x2": x2, "noise": noise, "grade": grade, "bad": bad}
    )


FEATURES = [
    Feature("x1", "负债压力", trend="ascending"),
    Feature("x2", "营收增长", trend="descending"),
    Feature("noise", "噪声"),
    Feature("grade", "纳税信用等级", kind="categorical"),
]


@pytest.fixture(scope="module")
def fitted() -> trainer.Fitted:
    return trainer.fit(synthetic(), "bad", FEATURES, time_column="month", test_share=0.3)


def test_learns_the_two_features_on_held_out_later_rows(fitted):
    test = fitted.metrics["test"]
    assert test["auc"] > 0.75
    assert test["ks"] > 0.35
    assert test["gini"] == pytest.approx(2 * test["auc"] - 1)
    # The split is by time: every test month is later than every train month.
    split = fitted.metrics["split"]
    assert int(split["test_from"]) > int(split["train_until"])
    assert fitted.metrics["train"]["n"] + test["n"] == 3000
    iv = fitted.metrics["iv"]
    assert iv["x1"] > iv["noise"] and iv["x2"] > iv["noise"]


def test_beats_a_shuffled_label_control(fitted):
    frame = synthetic()
    frame["bad"] = np.random.default_rng(1).permutation(frame["bad"].to_numpy())
    control = trainer.fit(frame, "bad", FEATURES, time_column="month")
    assert control.metrics["test"]["auc"] < 0.6
    assert fitted.metrics["test"]["auc"] > control.metrics["test"]["auc"] + 0.15


def test_monotonic_trend_where_asked(fitted):
    by_name = {entry["name"]: entry for entry in fitted.table["features"]}
    x1 = [b["points"] for b in by_name["x1"]["bins"]]
    x2 = [b["points"] for b in by_name["x2"]["bins"]]
    assert len(x1) >= 3 and len(x2) >= 3
    # Bad rate rises with x1: points fall bin after bin; the reverse for x2.
    assert all(a > b for a, b in zip(x1, x1[1:], strict=False))
    assert all(a < b for a, b in zip(x2, x2[1:], strict=False))
    rates = [b["event_rate"] for b in by_name["x1"]["bins"]]
    assert rates == sorted(rates)


def test_scores_from_the_json_table_alone(fitted):
    """The stored table reproduces the fitted model: scoring needs no pickle."""
    import json

    table = json.loads(json.dumps(fitted.table))
    frame = pd.DataFrame(
        {
            "x1": [-2.0, 0.0, 2.5, np.nan],
            "x2": [2.0, 0.0, -2.0, 0.0],
            "noise": [0.0, 0.0, 0.0, 0.0],
            "grade": ["A", "B", "C", "Z"],  # Z never seen: scored as missing
        }
    )
    scores = trainer.score(table, frame)
    assert scores[0] > scores[1] > scores[2]
    p = trainer.probability(table, scores)
    assert p[0] < p[1] < p[2]
    # 600 points at odds 50:1, 20 points to double them.
    assert trainer.probability(table, [600.0])[0] == pytest.approx(1 / 51)
    assert trainer.probability(table, [620.0])[0] == pytest.approx(1 / 101)
    points, bins = trainer.points_matrix(table, frame)
    assert bins[3, 0] == -1 and bins[3, 3] == -1
    assert points[3, 0] == table["features"][0]["missing_points"]


def test_psi_near_zero_for_the_same_population_and_large_for_a_shifted_one(fitted):
    table = fitted.table
    same = trainer.score(table, synthetic(seed=99))
    shifted = trainer.score(table, synthetic(seed=99, shift=1.5))
    assert trainer.population_psi(table, same) < 0.05
    assert trainer.population_psi(table, shifted) > 0.25
    rng = np.random.default_rng(3)
    base = rng.normal(0, 1, 5000)
    assert metrics.psi(base, rng.normal(0, 1, 5000)) < 0.02
    assert metrics.psi(base, rng.normal(1, 1, 5000)) > 0.5


def test_metrics_on_known_cases():
    y = np.array([0, 0, 1, 1])
    assert metrics.auc(y, [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert metrics.ks(y, [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert metrics.auc(y, [0.9, 0.8, 0.2, 0.1]) == 0.0
    assert metrics.gini(y, [0.1, 0.8, 0.2, 0.9]) == pytest.approx(0.5)
    assert np.isnan(metrics.auc([1, 1], [0.1, 0.2]))


def test_reasons_in_chinese_largest_loss_first(fitted):
    table = fitted.table
    frame = pd.DataFrame({"x1": [2.5], "x2": [-2.0], "noise": [0.0], "grade": ["C"]})
    points, _bins = trainer.points_matrix(table, frame)
    [row] = reasons.top_reasons(table, frame, points)
    assert 1 <= len(row) <= 3
    lost = [-r["points"] for r in row]
    assert lost == sorted(lost, reverse=True) and lost[0] > 0
    assert row[0]["feature"] in {"x1", "x2"}
    grade = next(r for r in row if r["feature"] == "grade") if len(row) == 3 else None
    if grade is not None:
        assert grade["text"] == f"纳税信用等级为 C（{grade['points']} 分）"
    assert row[0]["text"].startswith(row[0]["label"] + "为 ")
    assert row[0]["text"].endswith(f"（{row[0]['points']} 分）")
    # The best row has nothing to explain.
    best = pd.DataFrame({"x1": [-3.0], "x2": [3.0], "noise": [0.0], "grade": ["A"]})
    best_points, _ = trainer.points_matrix(table, best)
    best_reasons = reasons.top_reasons(table, best, best_points)[0]
    assert {r["feature"] for r in best_reasons} <= {"noise", "grade"}
    entry = {"kind": "numerical", "values": {"3": "C"}, "fmt": "{:.0%}"}
    assert reasons.describe_value(entry, 3.0) == "C"
    assert reasons.describe_value(entry, 0.25) == "25%"
    assert reasons.reason_text("纳税信用等级", "C", 37.6) == "纳税信用等级为 C（-38 分）"
    assert reasons.reason_text("用电量同比", None, 12) == "用电量同比缺失（-12 分）"


def test_bad_input_is_refused_with_the_column():
    frame = synthetic(n=200)
    with pytest.raises(TrainingError) as missing:
        trainer.fit(frame, "default_flag")
    assert missing.value.field == "target"
    frame["bad"] = frame["bad"].map({0: "good", 1: "bad"})
    with pytest.raises(TrainingError) as coded:
        trainer.fit(frame, "bad")
    assert "--bad" in coded.value.message
    one_class = synthetic(n=200).assign(bad=0)
    with pytest.raises(TrainingError, match="只有一类"):
        trainer.fit(one_class, "bad")
