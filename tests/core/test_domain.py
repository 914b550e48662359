"""Domain signals (chanrong.core.domain): how lower apps tell higher ones."""

from __future__ import annotations

import pytest
from django.db import transaction

from chanrong.core import domain
from chanrong.core.domain import AfterCommitSignal, InTransactionSignal
from chanrong.core.models import AuditEntry
from chanrong.core.panels import panel_context, register_panel

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def signal():
    received: list[tuple[int, ...]] = []
    sig = AfterCommitSignal("test.things_changed")

    def receiver(sender, ids, **kwargs):
        received.append(ids)

    sig.connect(receiver, weak=False)
    sig.received = received
    domain.discard_pending()
    yield sig
    domain.discard_pending()


def test_ids_of_one_transaction_are_sent_once_after_commit(signal):
    with transaction.atomic():
        signal.send_after_commit([3])
        signal.send_after_commit([1, 3])
        with transaction.atomic():  # a savepoint
            signal.send_after_commit([2])
        assert signal.received == []  # nothing before the commit
    assert signal.received == [(1, 2, 3)]


def test_nothing_is_sent_for_a_rolled_back_transaction(signal):
    with pytest.raises(RuntimeError), transaction.atomic():
        signal.send_after_commit([7])
        raise RuntimeError
    assert signal.received == []
    with transaction.atomic():
        signal.send_after_commit([8])
    assert signal.received == [(8,)]  # the rolled-back 7 is not carried over


def test_outside_a_transaction_it_is_sent_at_once(signal):
    signal.send_after_commit([5, 4])
    assert signal.received == [(4, 5)]
    signal.send_after_commit([])
    assert signal.received == [(4, 5)]


def test_a_failing_receiver_is_logged_and_the_others_still_run(signal, caplog):
    def broken(sender, ids, **kwargs):
        raise ValueError("boom")

    signal.connect(broken, weak=False)
    with transaction.atomic():
        signal.send_after_commit([1])
    assert signal.received == [(1,)]
    assert "receiver" in caplog.text and "test.things_changed" in caplog.text


def test_an_in_transaction_receiver_failing_rolls_the_change_back():
    sig = InTransactionSignal("test.outbox")

    def outbox(sender, n, **kwargs):
        AuditEntry.objects.filter(action="never").exists()  # reads in the same transaction
        if n > 1:
            raise ValueError("cannot record")
        return n * 10

    sig.connect(outbox, weak=False)
    from chanrong.core import audit

    with transaction.atomic():
        audit.record("test.change", changes={"n": 1})
        assert sig.send_in_transaction(n=1) == [10]
    assert AuditEntry.objects.filter(action="test.change").count() == 1
    with pytest.raises(ValueError), transaction.atomic():
        audit.record("test.change", changes={"n": 2})
        sig.send_in_transaction(n=2)
    assert AuditEntry.objects.filter(action="test.change").count() == 1


def test_page_panels_merge_what_higher_apps_register():
    def first(*, user, thing):
        return {"a": thing * 2}

    def second(*, user, thing):
        return {"b": user}

    register_panel("test.page", first)
    register_panel("test.page", second)
    register_panel("test.page", first)  # once only
    assert panel_context("test.page", user="u", thing=3) == {"a": 6, "b": "u"}
    assert panel_context("test.unknown", user="u") == {}
