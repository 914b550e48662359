"""`chanrong matching_evaluate`: the learned ranking against the rule-only ranking, offline.

Trains on the earliest outcomes and tests on the latest (a time-ordered split,
never the future), prints AUC and precision@5 for approved outcomes, and one
demand's top 5 under each ranking side by side.

Outcomes come from the database (every settled dispatch, see
`chanrong.matching.learning`); `--synthetic N` uses a seeded synthetic set
with a planted signal instead. `--save` writes the trained model where
scoring loads it (`model.default_path()`).
"""

from __future__ import annotations

import numpy as np
from django.core.management.base import BaseCommand, CommandError

from chanrong.matching import learning, model


def default_model_path():
    return model.default_path()


class Command(BaseCommand):
    help = "Evaluate the learned approval model on a time-ordered split against rule-only ranking."

    def add_arguments(self, parser):
        parser.add_argument(
            "--synthetic",
            type=int,
            default=None,
            metavar="PAIRS",
            help="use N synthetic outcomes instead of the database's",
        )
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--test-share", type=float, default=0.3)
        parser.add_argument("--save", action="store_true", help="save the trained model under var/")

    def handle(self, *args, **options):
        if options["synthetic"] is not None and options["synthetic"] < 100:
            raise CommandError("--synthetic needs at least 100 pairs")
        share = options["test_share"]
        if not 0.05 <= share <= 0.9:
            raise CommandError("--test-share must be between 0.05 and 0.9")
        out = self.stdout
        labels = None
        if options["synthetic"] is not None:
            X, y, when, groups, rule = model.synthetic_outcomes(
                options["synthetic"], seed=options["seed"]
            )
            out.write(f"outcomes: synthetic, {len(y)} pairs (seed {options['seed']})")
        else:
            data = learning.training_set(record_before=learning.split_time(share))
            X, y, when, groups, rule = data.X, data.y, data.when, data.groups, data.rule
            out.write(
                f"outcomes: database, {len(y)} dispatched (demand, product) pairs,"
                f" {int(y.sum())} approved, {len(np.unique(groups))} demands"
            )
            labels = data.product_ids
        if len(y) < 20 or len(np.unique(y)) < 2:
            raise CommandError(
                "not enough outcomes to evaluate: need approved and declined dispatches"
                " (build the demo with `chanrong demo`, or use --synthetic N)"
            )
        order = np.lexsort((np.arange(len(when)), when))
        n_train = int(len(order) * (1 - share))
        if len(np.unique(y[order[:n_train]])) < 2:
            raise CommandError("the training part holds only one outcome; try another --test-share")
        result, fitted = model.evaluate_time_split(
            X, y, when, groups, rule, test_share=share, seed=options["seed"]
        )
        out.write(f"split: {result.n_train} train (earliest), {result.n_test} test (latest)")
        out.write(f"{'':14}{'AUC':>8}{'P@5':>8}")
        out.write(f"{'learned':14}{result.auc_model:8.3f}{result.p5_model:8.3f}")
        out.write(f"{'rule only':14}{result.auc_rule:8.3f}{result.p5_rule:8.3f}")

        test = order[result.n_train :]
        # The test demand with the most ranked pairs (lowest pk on a tie).
        uniq, counts = np.unique(groups[test], return_counts=True)
        demand = int(uniq[np.argmax(counts)])
        pairs = test[groups[test] == demand]
        learned = pairs[np.lexsort((pairs, -fitted.predict(X[pairs])))][:5]
        by_rule = pairs[np.lexsort((pairs, -rule[pairs]))][:5]
        name = "product" if labels is not None else "pair"
        out.write(f"demand {demand}: top 5 ({name}, approved)")
        out.write(f"{'learned':>20} | {'rule only':<20}")

        def cell(i):
            return f"{labels[i] if labels is not None else i} {y[i]}"

        for a, b in zip(learned, by_rule, strict=False):
            out.write(f"{cell(a):>20} | {cell(b):<20}")
        if options["save"]:
            path = model.default_path()
            final = model.train(X, y, seed=options["seed"])
            model.save(final, path)
            out.write(f"saved (trained on all {len(y)} outcomes) to {path}")
