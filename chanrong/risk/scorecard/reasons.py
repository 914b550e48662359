"""An enterprise's top reasons, in Chinese, read off the points table.

A reason is a feature where the enterprise lost points against the best bin
of that feature: "纳税信用等级为 C（-38 分）". The largest losses come first;
features where it already sits in the best bin give no reason. Computed for
a whole batch at once from the points matrix, so explaining 300,000 scores
costs one sort, not 300,000 model calls.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _

TOP = 3

#: Losses below this many points are noise, not a reason.
MIN_LOSS = 0.5


def describe_value(entry: dict[str, Any], value: Any) -> str | None:
    """The value as a person reads it: a named code ("C"), a formatted
    number, or None when it is missing."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if value is pd.NA:
        return None
    names = entry.get("values") or {}
    if entry["kind"] != "categorical":
        number = float(value)
        key = str(int(number)) if number.is_integer() else str(number)
        if key in names:
            return names[key]
        try:
            return entry.get("fmt", "{:,.4g}").format(number)
        except (ValueError, TypeError):
            return f"{number:g}"
    return names.get(str(value), str(value))


def _templates() -> tuple[str, str]:
    """The two wordings, translated once per batch (gettext per row was
    two thirds of the time of explaining 300,000 scores)."""
    return _("%(label)s为 %(value)s（-%(points)s 分）"), _("%(label)s缺失（-%(points)s 分）")


def reason_text(label: str, value: str | None, lost: float, templates=None) -> str:
    present, missing = templates or _templates()
    points = int(round(lost))
    if value is None:
        return missing % {"label": label, "points": points}
    return present % {"label": label, "value": value, "points": points}


def best_points(table: dict[str, Any]) -> np.ndarray:
    """Per feature the most points any of its bins gives (a missing value is
    not a bin anyone can move to, so it is not "the best")."""
    return np.array(
        [
            max([b["points"] for b in entry["bins"]] or [entry["missing_points"]])
            for entry in table["features"]
        ]
    )


def top_reasons(
    table: dict[str, Any], frame: pd.DataFrame, points: np.ndarray, top: int = TOP
) -> list[list[dict[str, Any]]]:
    """For each row of `frame` (with its `points` matrix from
    `trainer.points_matrix`), up to `top` reasons, largest loss first:
    {"feature", "label", "value", "points", "text"}."""
    entries = table["features"]
    if not entries or len(frame) == 0:
        return [[] for _row in range(len(frame))]
    loss = best_points(table)[np.newaxis, :] - points
    k = min(top, loss.shape[1])
    order = np.argsort(-loss, axis=1, kind="stable")[:, :k]
    chosen = np.take_along_axis(loss, order, axis=1)
    columns = [frame[entry["name"]].to_numpy(dtype=object) for entry in entries]
    templates = _templates()
    # The same (feature, value, loss) recurs across rows (coded values, the
    # same bin): its wording is built once.
    memo: dict[tuple, dict[str, Any]] = {}
    out: list[list[dict[str, Any]]] = []
    for i in range(len(frame)):
        row = []
        for rank in range(k):
            lost = float(chosen[i, rank])
            if lost < MIN_LOSS:
                break
            j = int(order[i, rank])
            raw = columns[j][i]
            key = (j, raw if raw == raw else None, round(lost))
            reason = memo.get(key)
            if reason is None:
                entry = entries[j]
                value = describe_value(entry, raw)
                reason = {
                    "feature": entry["name"],
                    "label": entry["label"],
                    "value": value,
                    "points": -int(round(lost)),
                    "text": reason_text(entry["label"], value, lost, templates),
                }
                memo[key] = reason
            row.append(dict(reason))
        out.append(row)
    return out
