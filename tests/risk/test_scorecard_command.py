"""`chanrong risk train --csv`: the same trainer and metrics on an external
table (public credit data), written here by the test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from django.core.management import CommandError, call_command


@pytest.fixture
def credit_csv(tmp_path):
    rng = np.random.default_rng(11)
    n = 1500
    income = rng.lognormal(10, 0.5, n)
    debt_ratio = rng.uniform(0, 1.2, n)
    purpose = rng.choice(["car", "house", "business"], n)
    logit = -2.5 + 2.5 * debt_ratio - 0.6 * (np.log(income) - 10) + (purpose == "business") * 0.7
    status = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "default", "paid")
    frame = pd.DataFrame(
        {
            "applied": pd.date_range("2020-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
            "income": income.round(0),
            "debt_ratio": debt_ratio.round(3),
            "purpose": purpose,
            "status": status,
        }
    )
    path = tmp_path / "credit.csv"
    frame.to_csv(path, index=False)
    return path


def test_prints_sizes_auc_ks_gini_psi_and_the_points_table(credit_csv, capsys):
    call_command(
        "risk",
        "train",
        "--csv",
        str(credit_csv),
        "--target",
        "status",
        "--bad",
        "default",
        "--time",
        "applied",
        "--test-share",
        "0.25",
    )
    out = capsys.readouterr().out
    assert "切分：按 applied" in out
    lines = {
        line.split()[0]: line.split()
        for line in out.splitlines()
        if line.startswith(("训练", "测试"))
    }
    assert int(lines["训练"][1]) + int(lines["测试"][1]) == 1500
    assert int(lines["测试"][1]) == 375
    test_auc, test_ks, test_gini = (float(v) for v in lines["测试"][3:6])
    assert test_auc > 0.7 and test_ks > 0.25
    assert test_gini == pytest.approx(2 * test_auc - 1, abs=0.002)
    assert "PSI（测试 vs 训练）" in out
    assert "评分卡（分箱与分值）" in out and "debt_ratio" in out and "purpose" in out


def test_bad_input_is_a_command_error(credit_csv, tmp_path):
    with pytest.raises(CommandError, match="目标列只能是 0/1"):
        call_command("risk", "train", "--csv", str(credit_csv), "--target", "status")
    with pytest.raises(CommandError, match="没有名为 nope 的目标列"):
        call_command("risk", "train", "--csv", str(credit_csv), "--target", "nope")
    with pytest.raises(CommandError, match="文件不存在"):
        call_command("risk", "train", "--csv", str(tmp_path / "missing.csv"), "--target", "x")
