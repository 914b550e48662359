"""Kept sums of the split by policy group (群体统计, issue 20).

The split (services.groups) adds up the whole visible loan book and the
year's demands on every view; at demo scale 10 that is 0.3-0.75 s a view.
Instead the sums are computed once a night for the default view (this year
up to the day, balances and membership on the day) and kept per tag (the
groups a loan or demand counts for, as bits), per the borrower's region
code and per lending institution, so that any viewer's figures — a county,
a province, the platform, one bank — and the page's region and group
filters are a sum over a few kept rows. `GroupSplitSum.institution_id` is
empty on the rows every government and platform viewer reads (the whole
book and every demand with all its dispatches); a bank reads its own rows
(its own loans, the demands dispatched to it with its dispatches).
"""

from __future__ import annotations

from django.db import models

from chanrong.core.kept import KeptSnapshot


class GroupSplitSnapshot(KeptSnapshot):
    """The one set of kept sums (one row, `key` "all"): its date, when it
    was computed, how long that took, the groups' bit order, and a
    government user's pending request to compute it again."""

    key = models.CharField(max_length=8, unique=True, default="all")
    #: the group keys in bit order (bit i = group_keys[i]) when computed
    group_keys = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = "群体统计快照"
        verbose_name_plural = "群体统计快照"

    def __str__(self) -> str:
        return f"{self.key} {self.as_of}"


class GroupSplitSum(models.Model):
    """Integer sums (money in 分) of the loans and demands with one tag, of
    borrowers in one region, for one institution's view (empty: the view of
    government and platform). `weighted` (Σ 分 × rate in millionths of a
    percent) can pass 2⁶³ and is kept as the integer's text."""

    snapshot = models.ForeignKey(GroupSplitSnapshot, on_delete=models.CASCADE, related_name="sums")
    institution_id = models.BigIntegerField(null=True, blank=True)
    region_code = models.CharField(max_length=6)
    tag = models.BigIntegerField()
    loans = models.BigIntegerField(default=0)
    amount = models.BigIntegerField(default=0)
    weighted = models.CharField(max_length=40, default="0")
    rated = models.BigIntegerField(default=0)
    balance = models.BigIntegerField(default=0)
    balance_loans = models.BigIntegerField(default=0)
    demands = models.BigIntegerField(default=0)
    demand_amount = models.BigIntegerField(default=0)
    financings = models.BigIntegerField(default=0)
    financing_amount = models.BigIntegerField(default=0)
    dispatches = models.BigIntegerField(default=0)
    claims = models.BigIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(
                fields=["snapshot", "institution_id", "region_code"], name="risk_group_sum_scope"
            )
        ]
        verbose_name = "群体统计快照数值"
        verbose_name_plural = "群体统计快照数值"

    def __str__(self) -> str:
        return f"{self.institution_id or '*'} {self.region_code} {self.tag}"
