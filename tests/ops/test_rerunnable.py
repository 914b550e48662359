"""Which tasks the recovery may run again after a worker died mid-run."""

from __future__ import annotations

from chanrong.core.tasking import is_rerunnable


def test_idempotent_tasks_are_rerunnable_and_messages_are_not():
    # Marked @rerunnable: an attempt re-claims the delivery; a re-match recomputes.
    assert is_rerunnable("chanrong.api.webhooks.deliver_webhook")
    for name in ("rematch_demands", "rematch_enterprises", "rematch_list_version", "rematch_all"):
        assert is_rerunnable(f"chanrong.matching.tasks.{name}")
    # Periodic jobs are idempotent by contract.
    assert is_rerunnable("chanrong.demands.tasks.supervise_deadlines")
    assert is_rerunnable("chanrong.ops.tasks.recover_stale_tasks")
    # A second e-mail or SMS is a visible duplicate.
    for name in ("send_email", "send_emails", "send_sms"):
        assert not is_rerunnable(f"chanrong.core.tasks.{name}")
    assert not is_rerunnable("chanrong.no_such_module.task")
