"""Periodic job of the webhooks: the sweep that retries whatever is due (in
case a deferred retry was lost, or the backend cannot defer). The task of one
attempt, `deliver_webhook`, lives beside the delivery code in `webhooks`."""

from __future__ import annotations

from datetime import timedelta

from django.tasks import task
from django.utils import timezone

from chanrong.core.periodic import periodic

from . import webhooks

#: How many due deliveries one sweep hands to the workers at most.
SWEEP_LIMIT = 500
#: The sweep leaves a due delivery alone this long, because the task enqueued
#: with it (on commit, or deferred to its retry time) should be taking it.
SWEEP_GRACE = timedelta(minutes=2)


@periodic(minutes=1)
@task
def retry_due_deliveries() -> int:
    ids = list(
        webhooks.due_deliveries(timezone.now() - SWEEP_GRACE)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    )
    for delivery_id in ids:
        webhooks.deliver_webhook.enqueue(delivery_id)
    return len(ids)
