"""风险监测's figures kept per viewer scope (数据截至, issue 20).

The page sums the viewer's whole loan book (balance, 不良, overdue, by
region, industry and institution, the ten largest borrowers) and counts
its alerts per month; at demo scale 100 that is 0.5-0.7 s on every view.
`services.book_kept` computes the same figures ahead for each scope a
viewer can have and keeps them here, one row per scope.
"""

from __future__ import annotations

from django.db import models

from chanrong.core.kept import KeptSnapshot


class BookSnapshot(KeptSnapshot):
    """The one set of kept figures (one row, `key` "all")."""

    key = models.CharField(max_length=8, unique=True, default="all")

    class Meta:
        verbose_name = "风险监测快照"
        verbose_name_plural = "风险监测快照"

    def __str__(self) -> str:
        return f"{self.key} {self.as_of}"


class BookFigures(models.Model):
    """The page's figures for one viewer scope: `scope` is "g:" and the
    region prefix for government ("g:" alone the whole country, which
    platform admins see too) or "i:" and the institution's id. Amounts are
    kept as decimal text, so they read back as the very Decimals computed."""

    snapshot = models.ForeignKey(BookSnapshot, on_delete=models.CASCADE, related_name="figures")
    scope = models.CharField(max_length=24)
    figures = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "scope"], name="risk_book_figures_scope")
        ]
        verbose_name = "风险监测快照数值"
        verbose_name_plural = "风险监测快照数值"

    def __str__(self) -> str:
        return self.scope
