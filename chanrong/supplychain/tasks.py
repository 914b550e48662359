"""Background jobs of the supply-chain app."""

from __future__ import annotations

from django.tasks import task

from chanrong.core.periodic import periodic


@periodic(hours=1)
@task
def mark_overdue_financings() -> int:
    """Move financings past their maturity and not repaid to 逾期, telling
    the bank and the supplier (idempotent: a marked financing is not marked
    again)."""
    from .services import mark_overdue

    return mark_overdue()
