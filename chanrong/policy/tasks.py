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


@periodic(hours=1)
@task
def remind_overdue_bridge_draws() -> int:
    """Tell the agency and the enterprise about 转贷应急 draws past their due
    date (once a day per draw, however often this runs)."""
    from .services.bridge import notify_overdue

    return notify_overdue()


@periodic(days=1)
@task
def outreach_auto_apply() -> dict:
    """免申即享 every morning: for each programme in force that allows it,
    build the applications of newly qualifying loans (the enterprise only
    confirms) and tell enterprises not yet told (once per programme)."""
    from .services.outreach import run_auto

    return run_auto()
