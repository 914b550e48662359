"""Scorecard versions: train and propose, approve, score everyone.

- `train_and_propose(as_of)`: stacks the platform's snapshots
  (`features.training_frame`), trains (`scorecard.trainer.fit`, time-ordered
  split), and stores the result as a proposed `ModelVersion`; one whose test
  AUC is below `CHANRONG_RISK_AUC_FLOOR` (default 0.65) is refused at once,
  with the reason, and can never go live.
- `approve(actor, version)`: a government admin's decision, through the
  transition table (`workflows.MODEL_VERSION`); the floor is checked again
  (the setting may have been raised since), the previous live version is
  retired in the same transaction.
- `score_all(version)`: every enterprise, in batches: features, points from
  the table (vectorised), reasons, and one bulk upsert per batch.
- `points_table(version)`, `score_of(enterprise)`: what the pages show.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import transaction
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from chanrong.core import audit
from chanrong.core.errors import Conflict, NotAllowed
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.core.workflow import apply_transition
from chanrong.registry.models import Enterprise

from .. import features as feature_rows
from ..models import EnterpriseScore, ModelStatus, ModelVersion
from ..models.scoring import scorable_enterprises  # noqa: F401  (re-exported: pages and API)
from ..scorecard import metrics, reasons, trainer
from ..workflows import MODEL_VERSION

DEFAULT_AUC_FLOOR = 0.65
SCORE_BATCH = 2000
TEST_SHARE = 0.3


def auc_floor() -> float:
    return float(getattr(settings, "CHANRONG_RISK_AUC_FLOOR", DEFAULT_AUC_FLOOR))


def floor_failure(version: ModelVersion) -> str:
    """Why the version may not go live, or "" when it may."""
    floor = auc_floor()
    value = version.test_auc
    if value is None or math.isnan(value):
        return _("测试集 AUC 无法计算，不能上线")
    if value < floor:
        return _("测试集 AUC 为 %(auc).3f，低于要求的 %(floor).3f，不能上线") % {
            "auc": value,
            "floor": floor,
        }
    return ""


def _clean(value: Any) -> Any:
    """JSON has no NaN: NaN → None, recursively."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def tax_grade_baseline(frame: pd.DataFrame, fitted: trainer.Fitted) -> dict[str, float]:
    """AUC and KS of the latest tax grade alone on the same test rows: what a
    bank that looked only at 纳税信用等级 would get."""
    split = fitted.metrics["split"]
    test = frame[frame["observed_on"] >= pd.Timestamp(split["test_from"])]
    grade = test["tax_grade"].fillna(
        test["tax_grade"].median() if test["tax_grade"].notna().any() else 0
    )
    return {"auc": metrics.auc(test["bad"], grade), "ks": metrics.ks(test["bad"], grade)}


def train_and_propose(as_of: date | None = None, actor=None) -> ModelVersion:
    """Train on the platform's own loan book and propose a version. Raises
    trainer.TrainingError when the book cannot support a model yet."""
    as_of = as_of or timezone.localdate()
    frame = feature_rows.training_frame(as_of)
    fitted = trainer.fit(
        frame.drop(columns=["enterprise_id"]),
        "bad",
        feature_rows.features(),
        time_column="observed_on",
        test_share=TEST_SHARE,
    )
    result = dict(fitted.metrics)
    result["baseline_tax_grade"] = tax_grade_baseline(frame, fitted)
    days = frame["observed_on"]
    with transaction.atomic():
        number = (ModelVersion.objects.aggregate(n=Max("number"))["n"] or 0) + 1
        version = ModelVersion.objects.create(
            number=number,
            as_of=as_of,
            trained_from=days.min().date(),
            trained_until=days.max().date(),
            features=[{"name": f["name"], "label": f["label"]} for f in fitted.table["features"]],
            table=_clean(fitted.table),
            metrics=_clean(result),
        )
        audit.record(
            "risk.model.propose",
            actor=actor,
            obj=version,
            changes={"status": [None, version.status], "test_auc": [None, version.test_auc]},
        )
        reason = floor_failure(version)
        if reason:
            version = apply_transition(
                MODEL_VERSION, version, "refuse", None, changes={"refusal_reason": reason}
            )
    return version


def approve(actor, version: ModelVersion) -> ModelVersion:
    """Put `version` live (a government admin; others get 403). A version
    below the AUC floor is refused instead, and the refusal raised (409)."""
    approving = MODEL_VERSION.transitions["approve"]
    if not approving.allowed(actor, version):
        raise NotAllowed(_("无权执行「%(action)s」") % {"action": approving.label})
    reason = floor_failure(version)
    if reason and version.status == ModelStatus.PROPOSED:
        apply_transition(MODEL_VERSION, version, "refuse", None, changes={"refusal_reason": reason})
        raise Conflict(reason, code="auc_below_floor")
    with transaction.atomic():
        if version.status == ModelStatus.PROPOSED:
            for live in ModelVersion.objects.live().exclude(pk=version.pk):
                apply_transition(MODEL_VERSION, live, "retire", actor)
        return apply_transition(
            MODEL_VERSION,
            version,
            "approve",
            actor,
            changes={"approved_by": actor, "approved_at": timezone.now()},
        )


def live_version() -> ModelVersion | None:
    return ModelVersion.objects.live().first()


def score_frame(table: dict[str, Any], frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, list]:
    """(scores, probabilities, reasons) of feature rows, all vectorised but
    the reasons' wording."""
    points, _bins = trainer.points_matrix(table, frame)
    scores = points.sum(axis=1)
    return scores, trainer.probability(table, scores), reasons.top_reasons(table, frame, points)


def score_all(
    version: ModelVersion | None = None, as_of: date | None = None, batch: int = SCORE_BATCH
) -> dict[str, Any]:
    """Score every enterprise with `version` (default: the live one) as of
    `as_of`, writing one EnterpriseScore per enterprise (a rerun the same day
    overwrites). Returns the count and the population's PSI against the
    training population."""
    version = version or live_version()
    if version is None:
        raise Conflict(_("没有在用的评分卡版本"), code="no_live_model")
    if version.status != ModelStatus.LIVE:
        raise Conflict(_("只有在用的评分卡版本可以用于评分"), code="model_not_live")
    as_of = as_of or timezone.localdate()
    table = version.table
    ids = list(Enterprise.objects.order_by("pk").values_list("pk", flat=True))
    all_scores = []
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        frame = feature_rows.snapshot(as_of, chunk)
        scores, probs, why = score_frame(table, frame)
        all_scores.append(scores)
        rows = [
            EnterpriseScore(
                enterprise_id=int(pk),
                version=version,
                as_of=as_of,
                score=round(float(s), 2),
                probability=round(float(p), 6),
                reasons=r,
            )
            for pk, s, p, r in zip(frame.index, scores, probs, why, strict=True)
        ]
        with transaction.atomic():
            EnterpriseScore.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["enterprise", "version", "as_of"],
                update_fields=["score", "probability", "reasons"],
            )
    scored = np.concatenate(all_scores) if all_scores else np.array([])
    psi = trainer.population_psi(table, scored) if scored.size else None
    # The latest run's PSI against the training population, shown beside the
    # version's test metrics (a drifting population is a reason to retrain).
    version.metrics = {
        **(version.metrics or {}),
        "population_psi": _clean({"as_of": as_of.isoformat(), "value": psi}),
    }
    version.save(update_fields=["metrics"])
    audit.record(
        "risk.model.score_all",
        obj=version,
        changes={
            "as_of": [None, as_of.isoformat()],
            "scored": [None, int(scored.size)],
            "psi": [None, psi],
        },
    )
    return {"scored": int(scored.size), "psi": psi, "version": version.number}


def points_table(version: ModelVersion) -> list[dict[str, Any]]:
    """The scorecard as people read it: per feature its bins with their
    points, share of the training rows and bad rate, and the points a
    missing value gets."""
    out = []
    for entry in version.table.get("features", []):
        total = sum(b["count"] for b in entry["bins"]) + entry.get("missing_count", 0)
        bins = [
            {
                "bin": _bin_text(entry, i),
                "points": round(b["points"]),
                "share": b["count"] / total if total else None,
                "bad_rate": b["event_rate"],
                "woe": b.get("woe"),
                "count": b["count"],
            }
            for i, b in enumerate(entry["bins"])
        ]
        bins.append(
            {
                "bin": _("缺失"),
                "points": round(entry["missing_points"]),
                "share": entry.get("missing_count", 0) / total if total else None,
                "bad_rate": None,
                "woe": None,
                "count": entry.get("missing_count", 0),
            }
        )
        out.append(
            {"feature": entry["name"], "label": entry["label"], "iv": entry.get("iv"), "bins": bins}
        )
    return out


def _bin_text(entry: dict[str, Any], i: int) -> str:
    if entry["kind"] == "categorical":
        return "、".join(entry["groups"][i])
    splits = entry["splits"]
    names = entry.get("values") or {}
    if names:  # coded values (tax grades, sizes): name the codes in the bin
        lower = splits[i - 1] if i > 0 else -math.inf
        upper = splits[i] if i < len(splits) else math.inf
        inside = [name for code, name in names.items() if lower <= float(code) < upper]
        if inside:
            return "、".join(inside)
    show = lambda v: reasons.describe_value(entry, v)  # noqa: E731
    if not splits:
        return _("全部")
    if i == 0:
        return _("低于 %(v)s") % {"v": show(splits[0])}
    if i == len(splits):
        return _("%(v)s 及以上") % {"v": show(splits[-1])}
    return _("%(a)s 至 %(b)s") % {"a": show(splits[i - 1]), "b": show(splits[i])}


def score_of(enterprise: Enterprise) -> EnterpriseScore | None:
    """The enterprise's latest score under the live version (None before
    one is live or before the first scoring run)."""
    version = live_version()
    if version is None:
        return None
    return (
        EnterpriseScore.objects.filter(enterprise=enterprise, version=version)
        .order_by("-as_of")
        .first()
    )


# --- who sees which scores ---------------------------------------------------------------------


def latest_scores(on: date | None = None):
    """Each enterprise's latest score under the live version as of `on`
    (default: any day): the one a page, the API and the low-score rule read.
    Scores of retired versions and earlier runs are history, not the
    enterprise's current standing."""
    live = ModelVersion.objects.live().values("pk")[:1]
    scores = EnterpriseScore.objects.filter(version__in=live)
    if on is not None:
        scores = scores.filter(as_of__lte=on)
    newest = scores.filter(enterprise_id=OuterRef("enterprise_id")).order_by("-as_of", "-pk")
    return scores.filter(pk=Subquery(newest.values("pk")[:1]))


def can_see_models(user) -> bool:
    """Versions and points tables: government, institutions, platform admins."""
    return scope_of(user).kind in (ScopeKind.PLATFORM, ScopeKind.GOVERNMENT, ScopeKind.INSTITUTION)


#: Risk bands by the 12-month default probability: (upper bound, grade, label).
BANDS = (
    (0.02, "A", _lazy("低风险")),
    (0.05, "B", _lazy("较低风险")),
    (0.10, "C", _lazy("中等风险")),
    (0.20, "D", _lazy("较高风险")),
    (1.01, "E", _lazy("高风险")),
)


def band_of(probability: float) -> dict[str, str]:
    """The grade a person reads beside the score: A (below 2 % chance of a
    90+ day default within a year) to E (20 % or more)."""
    for upper, grade, label in BANDS:
        if probability < upper:
            return {"grade": grade, "label": str(label)}
    return {"grade": "E", "label": str(BANDS[-1][2])}
