"""Self-registration under real concurrency (PostgreSQL, one connection per
thread): approved by several clerks at once, an application opens one
account and puts one enterprise on record."""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError, connection

from chanrong.accounts.models import User
from chanrong.accounts.registration_models import Registration, RegistrationStatus
from chanrong.accounts.services import registration as services
from chanrong.core.errors import Conflict
from chanrong.registry.models import Enterprise

from .test_registration import NEW_USCC, enterprise_form

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres("real row locks and concurrent connections"),
]

THREADS = 4


def together(work) -> list:
    """Run `work(i)` on THREADS threads released together, each on its own
    connection, opened *before* the barrier: the race is between the
    approvals, not between connection set-ups, and a server with no free
    connection (a shared PostgreSQL while another suite runs its 90-connection
    races) fails here by name instead of as a wrong outcome. That is the
    likeliest cause of this test's one unexplained failure in an earlier
    session: on a private server with max_connections=12 and 8 of them held,
    the old version failed the same way, at `all(... Conflict ...)`, with no
    word of why."""
    barrier = threading.Barrier(THREADS)
    outcomes: list = []
    lock = threading.Lock()

    def run(index: int) -> None:
        try:
            try:
                connection.ensure_connection()
            except OperationalError as exc:
                with lock:
                    outcomes.append(NoConnection(str(exc)))
                barrier.abort()
                return
            barrier.wait(timeout=60)
            try:
                result = work(index)
            except Exception as exc:  # noqa: BLE001 - the outcome is what we check
                result = exc
            with lock:
                outcomes.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread is still running"
    refused = [o for o in outcomes if isinstance(o, NoConnection)]
    if refused:
        pytest.fail(f"PostgreSQL had no free connection for the race: {refused[0]}")
    assert len(outcomes) == THREADS, outcomes
    return outcomes


class NoConnection(Exception):
    """A thread could not open its connection before the race began."""


def test_approved_by_several_clerks_at_once_opens_one_account(world, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    registration, _token = services.submit_enterprise(enterprise_form())
    clerks = [world.user("gov_jiashan"), world.user("gov_jiashan_staff")] * 2
    outcomes = together(lambda i: services.approve(clerks[i], registration))
    assert sum(isinstance(o, Registration) for o in outcomes) == 1, outcomes
    assert all(isinstance(o, (Registration, Conflict)) for o in outcomes), outcomes
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.APPROVED
    assert Enterprise.objects.filter(uscc=NEW_USCC).count() == 1
    assert User.objects.filter(username=registration.username).count() == 1
