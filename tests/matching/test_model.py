"""The learned model: calibrated, beats the rule-only ranking on a planted signal, round-trips."""

import numpy as np

from chanrong.matching import engine, model


def test_learned_model_beats_rule_only_on_a_planted_signal():
    X, y, when, groups, rule = model.synthetic_outcomes(6000, seed=1)
    result, fitted = model.evaluate_time_split(X, y, when, groups, rule)
    assert result.auc_model > result.auc_rule + 0.1
    assert result.p5_model > result.p5_rule
    p = fitted.predict(X[:50])
    assert ((p > 0) & (p < 1)).all()


def test_block_probability_equals_predict_proba_and_survives_save(tmp_path):
    X, y, *_ = model.synthetic_outcomes(2000, seed=2)
    fitted = model.train(X, y)
    blocks = [X[:, j].reshape(40, 50) for j in range(X.shape[1])]
    assert np.allclose(fitted.probability(blocks).ravel(), fitted.predict(X))
    path = tmp_path / "var" / "matching-model.joblib"
    model.save(fitted, path)
    again = model.load(path)
    assert np.array_equal(again.predict(X[:10]), fitted.predict(X[:10]))
    assert model.load(tmp_path / "missing.joblib") is None
    assert len(engine.FEATURE_NAMES) == X.shape[1]
