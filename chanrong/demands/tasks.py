"""Background jobs of the demands app."""

from __future__ import annotations

from django.tasks import task

from chanrong.core.periodic import periodic

from . import sla


@periodic(minutes=5)
@task
def supervise_deadlines() -> dict:
    """Escalate overdue dispatches; expire and re-dispatch the long overdue."""
    return sla.run().as_dict()
