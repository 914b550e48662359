"""Task priorities: periodic jobs first, deliveries in the middle, re-matching
last, so that SLA escalation and the audit seal never wait behind a busy
hour's fan-out (found by bench/soak.py: 8,000 queued tasks starved them)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from chanrong.core import domain
from chanrong.core.periodic import PERIODIC_PRIORITY
from chanrong.core.priority import prioritised
from chanrong.demands import signals as demand_signals
from chanrong.matching.receivers import REMATCH_PRIORITY
from chanrong.matching.tasks import rematch_demands

pytestmark = pytest.mark.django_db


def test_periodic_jobs_are_queued_ahead_and_rematches_behind(
    database_tasks, django_capture_on_commit_callbacks
):
    DBTaskResult.objects.all().delete()
    domain.discard_pending()
    with django_capture_on_commit_callbacks(execute=True):
        demand_signals.demands_changed.send_after_commit([1, 2])
    call_command("tick", "--all", stdout=StringIO())
    priorities = dict(DBTaskResult.objects.values_list("task_path", "priority"))
    assert priorities.pop("chanrong.matching.tasks.rematch_demands") == REMATCH_PRIORITY
    assert priorities and set(priorities.values()) == {PERIODIC_PRIORITY}
    # The backend hands out the periodic jobs first, the re-match last.
    order = [r.task_path for r in DBTaskResult.objects.ready()]
    assert order[-1] == "chanrong.matching.tasks.rematch_demands"
    assert PERIODIC_PRIORITY > 0 > REMATCH_PRIORITY


def test_backends_without_priorities_get_the_task_unchanged():
    """RQ's backend has no priorities and refuses a task that sets one."""

    class NoPriorities:
        supports_priority = False

    class Task:
        def get_backend(self):
            return NoPriorities()

    task = Task()
    assert prioritised(task, REMATCH_PRIORITY) is task
    assert prioritised(rematch_demands, REMATCH_PRIORITY).priority == REMATCH_PRIORITY
