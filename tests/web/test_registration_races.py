"""Self-registration under real concurrency (PostgreSQL, one connection per
thread): approved by several clerks at once, an application opens one
account and puts one enterprise on record."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

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
    barrier = threading.Barrier(THREADS)
    outcomes: list = []
    lock = threading.Lock()

    def run(index: int) -> None:
        try:
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
    return outcomes


def test_approved_by_several_clerks_at_once_opens_one_account(world, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    registration, _token = services.submit_enterprise(enterprise_form())
    clerks = [world.user("gov_jiashan"), world.user("gov_jiashan_staff")] * 2
    outcomes = together(lambda i: services.approve(clerks[i], registration))
    assert sum(isinstance(o, Registration) for o in outcomes) == 1
    assert all(isinstance(o, (Registration, Conflict)) for o in outcomes)
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.APPROVED
    assert Enterprise.objects.filter(uscc=NEW_USCC).count() == 1
    assert User.objects.filter(username=registration.username).count() == 1
