"""Financing demands and ratings a person wrote, for PIPL requests
(chanrong.core.pipl). They belong to the enterprise and stay as they are
when the person is anonymised: `created_by` keeps pointing at the
(anonymised) account."""

from __future__ import annotations

from typing import Any

from chanrong.core.pipl import Provider, register

from .models import Demand, Feedback


def export_demands(user) -> list[dict[str, Any]]:
    demands = Demand.objects.filter(created_by=user).order_by("pk")
    rows: list[dict[str, Any]] = [
        {
            "id": d.pk,
            "enterprise_id": d.enterprise_id,
            "kind": d.kind,
            "amount": d.amount,
            "term_months": d.term_months,
            "purpose": d.purpose,
            "description": d.description,
            "state": d.state,
            "created_at": getattr(d, "created_at", None),
        }
        for d in demands
    ]
    rows += [
        {
            "feedback_id": f.pk,
            "demand_id": f.demand_id,
            "score": f.score,
            "comment": f.comment,
        }
        for f in Feedback.objects.filter(created_by=user).order_by("pk")
    ]
    return rows


register(Provider("demands", export_demands))
