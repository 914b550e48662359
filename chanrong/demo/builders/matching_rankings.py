"""The 派单工作台's lists ranked ahead for every institution with an active
user (matching.kept, issue 20), so a bank's workbench opens on them instead
of ranking every open demand dispatched to it. Last: it reads the demands,
dispatches, lists and products the steps before wrote. As of now, as the
hourly job does."""

from __future__ import annotations

from chanrong.matching import kept
from chanrong.matching.models import InstitutionRanking

from .base import DemoContext

NAME = "matching_rankings"
MODELS: tuple[str, ...] = ("matching.institutionranking",)


def build(ctx: DemoContext) -> None:
    kept.refresh()
    ctx.counts["matching_rankings"] = InstitutionRanking.objects.count()
