"""What the demands app adds to lower apps' pages (see chanrong.core.panels):
registered in `DemandsConfig.ready()`."""

from __future__ import annotations

from typing import Any

from .models import Feedback
from .services import ratings


def institution_detail_panel(*, user, institution) -> dict[str, Any]:
    """An institution's page: how enterprises rate its service, and the
    latest comments the user may read."""
    return {
        "rating": ratings([institution.pk])[institution.pk],
        "comments": Feedback.objects.visible_to(user)
        .filter(institution=institution)
        .exclude(comment="")
        .order_by("-created_at", "-pk")[:10],
    }
