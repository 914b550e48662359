"""Periodic jobs of 互联互通 (the task of one delivery run, `deliver_to_peer`,
lives beside the delivery code in services.outbox): the periodic jobs that queue what is
due — the previous month's aggregates, submitted progress reports and
published list versions — and retry what failed. All idempotent."""

from __future__ import annotations

from datetime import date

from django.tasks import task
from django.utils import timezone

from chanrong.core.periodic import periodic

from .models import DeliveryState, OutboundBatch
from .services import outbox
from .services.outbox import deliver_to_peer


def previous_month(today: date) -> str:
    first = today.replace(day=1)
    year, month = (first.year, first.month - 1) if first.month > 1 else (first.year - 1, 12)
    return f"{year:04d}-{month:02d}"


@periodic(hours=1)
@task
def queue_due_batches() -> int:
    """Last month's aggregates once the month is over, new reports and list
    versions as they appear (each is sent to a parent once)."""
    built = outbox.queue_period(previous_month(timezone.localdate()))
    built += outbox.queue_reports_and_lists()
    for peer_id in {batch.peer_id for batch in built}:
        deliver_to_peer.enqueue(peer_id)
    return len(built)


@periodic(minutes=1)
@task
def retry_due_batches() -> int:
    """Each parent with a batch whose retry time has come."""
    peer_ids = set(
        OutboundBatch.objects.filter(
            state__in=[DeliveryState.PENDING, DeliveryState.RETRYING],
            next_attempt_at__lte=timezone.now(),
        ).values_list("peer_id", flat=True)
    )
    for peer_id in peer_ids:
        deliver_to_peer.enqueue(peer_id)
    return len(peer_ids)
