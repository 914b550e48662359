"""Background jobs of the policy app."""

from __future__ import annotations

from django.tasks import task

from chanrong.core.periodic import periodic

from .services import close_notices


@periodic(hours=1)
@task
def close_ended_notices() -> int:
    """Move applications whose 公示 has ended with no open objection to 待拨付."""
    return close_notices()
