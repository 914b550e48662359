"""风险监测's figures kept per viewer scope (risk.services.book_kept, issue
20), so the page opens on kept figures instead of summing the viewer's
whole loan book. Last: it reads the loans and alerts the steps before
wrote, and the agencies and institutions the demo users act for. As of
now, as the hourly job does."""

from __future__ import annotations

from chanrong.risk.models import BookFigures
from chanrong.risk.services import book_kept

from .base import DemoContext

NAME = "risk_book_figures"
MODELS: tuple[str, ...] = ("risk.booksnapshot", "risk.bookfigures")


def build(ctx: DemoContext) -> None:
    snapshot = book_kept.refresh()
    ctx.counts["risk_book_scopes"] = BookFigures.objects.filter(snapshot=snapshot).count()
