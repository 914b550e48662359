"""The enterprise size (大型/中型/小型/微型) from its industry and figures, by
the national classification (chanrong.core.codes.classify_size). A module of
its own so that both the profile services and provenance's verification use
it without importing each other."""

from __future__ import annotations

from chanrong.core.codes import classify_size

from ..models import Enterprise


def compute_size(enterprise: Enterprise) -> str:
    size = classify_size(
        enterprise.industry_id,
        enterprise.employees,
        enterprise.revenue_wan,
        enterprise.assets_wan,
    )
    return size or ""
