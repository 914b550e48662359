"""`chanrong matching_evaluate`: the learned ranking against the rule-only ranking, offline.

Trains on the earliest outcomes and tests on the latest (a time-ordered split,
never the future), prints AUC and precision@5 for approved outcomes, and one
demand's top 5 under each ranking side by side.

Until the database adapter lands, outcomes come from the seeded synthetic set
(`--synthetic N`, a planted signal); `--save` writes the trained model where
scoring loads it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from chanrong.matching import model


def default_model_path() -> Path:
    return Path(settings.VAR_DIR) / "matching-model.joblib"


class Command(BaseCommand):
    help = "Evaluate the learned approval model on a time-ordered split against rule-only ranking."

    def add_arguments(self, parser):
        parser.add_argument("--synthetic", type=int, default=20000, metavar="PAIRS")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--test-share", type=float, default=0.3)
        parser.add_argument("--save", action="store_true", help="save the trained model under var/")

    def handle(self, *args, **options):
        if options["synthetic"] < 100:
            raise CommandError("--synthetic needs at least 100 pairs")
        if not 0.05 <= options["test_share"] <= 0.9:
            raise CommandError("--test-share must be between 0.05 and 0.9")
        X, y, when, groups, rule = model.synthetic_outcomes(
            options["synthetic"], seed=options["seed"]
        )
        result, fitted = model.evaluate_time_split(
            X, y, when, groups, rule, test_share=options["test_share"], seed=options["seed"]
        )
        out = self.stdout
        out.write(f"outcomes: {result.n_train} train (earliest), {result.n_test} test (latest)")
        out.write(f"{'':14}{'AUC':>8}{'P@5':>8}")
        out.write(f"{'learned':14}{result.auc_model:8.3f}{result.p5_model:8.3f}")
        out.write(f"{'rule only':14}{result.auc_rule:8.3f}{result.p5_rule:8.3f}")

        test = np.lexsort((np.arange(len(when)), when))[result.n_train :]
        demand = int(np.bincount(groups[test]).argmax())
        pairs = test[groups[test] == demand]
        learned = pairs[np.lexsort((pairs, -fitted.predict(X[pairs])))][:5]
        by_rule = pairs[np.lexsort((pairs, -rule[pairs]))][:5]
        out.write(f"demand {demand}: top 5 (pair, approved)")
        out.write(f"{'learned':>20} | {'rule only':<20}")
        for a, b in zip(learned, by_rule, strict=False):
            out.write(f"{f'{a} {y[a]}':>20} | {f'{b} {y[b]}':<20}")
        if options["save"]:
            path = default_model_path()
            model.save(fitted, path)
            out.write(f"saved to {path}")
