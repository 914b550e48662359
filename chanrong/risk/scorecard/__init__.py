"""The scorecard, free of the ORM: `trainer` (fit a binned logistic
scorecard with optbinning and export it as a JSON points table; score from
that table), `metrics` (AUC, KS, Gini, PSI) and `reasons` (top reasons in
Chinese). The database side is `chanrong.risk.features` (the rows) and
`chanrong.risk.services.scoring` (versions, approval, scoring runs)."""
