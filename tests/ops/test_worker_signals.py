"""The worker stops cleanly on a signal that arrives during its start-up,
before django-tasks-db's loop installs its own handlers: the heartbeat then
says "stopped" instead of a live worker that no longer exists (the race
`chanrong serve` hit when it was stopped just after restarting a worker)."""

from __future__ import annotations

import signal

import pytest
from django.core.management import call_command

from chanrong.ops import recovery
from chanrong.ops.models import ProcessHeartbeat


@pytest.mark.django_db(transaction=True)
def test_a_sigterm_during_start_up_records_the_worker_as_stopped(monkeypatch):
    def signalled_during_recovery(**kwargs):
        signal.raise_signal(signal.SIGTERM)
        raise AssertionError("the signal did not interrupt start-up")

    monkeypatch.setattr(recovery, "recover", signalled_during_recovery)
    before = signal.getsignal(signal.SIGTERM)
    call_command("db_worker", worker_id="test:1:early")
    beat = ProcessHeartbeat.objects.get(ident="test:1:early")
    assert beat.stopped_at is not None
    # The process's own handlers are given back.
    assert signal.getsignal(signal.SIGTERM) is before
