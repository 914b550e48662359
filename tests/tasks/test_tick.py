"""`chanrong tick` and the periodic-job registry."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from chanrong.core import periodic

pytestmark = pytest.mark.django_db


def _ts(*args) -> float:
    from zoneinfo import ZoneInfo

    return datetime(*args, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()


def test_the_platform_jobs_are_registered():
    names = {job.name for job in periodic.jobs()}
    assert "chanrong.api.tasks.retry_due_deliveries" in names
    assert "chanrong.core.tasks.prune_task_results" in names


def test_a_job_is_due_when_a_multiple_of_its_interval_falls_in_the_window():
    job = periodic.PeriodicJob(task=None, every=timedelta(minutes=5))
    assert job.is_due(_ts(2026, 3, 2, 9, 4, 30), _ts(2026, 3, 2, 9, 5, 30))
    assert not job.is_due(_ts(2026, 3, 2, 9, 5, 30), _ts(2026, 3, 2, 9, 6, 30))
    daily = periodic.PeriodicJob(task=None, every=timedelta(days=1))
    # Daily jobs run at midnight Beijing time, not UTC.
    assert daily.is_due(_ts(2026, 3, 2, 23, 59, 30), _ts(2026, 3, 3, 0, 0, 30))
    assert not daily.is_due(_ts(2026, 3, 2, 7, 59, 30), _ts(2026, 3, 2, 8, 0, 30))


def test_jobs_more_often_than_once_a_minute_are_refused():
    with pytest.raises(ValueError):
        periodic.periodic(minutes=0)


def test_tick_all_enqueues_every_job_once_even_when_run_twice(database_tasks):
    out = StringIO()
    call_command("tick", all=True, stdout=out)
    assert "enqueued\tchanrong.api.tasks.retry_due_deliveries" in out.getvalue()
    call_command("tick", all=True, stdout=out)
    assert "queued-already\tchanrong.api.tasks.retry_due_deliveries" in out.getvalue()
    waiting = DBTaskResult.objects.filter(
        task_path="chanrong.api.tasks.retry_due_deliveries", status=TaskResultStatus.READY
    )
    assert waiting.count() == 1


def test_a_single_tick_enqueues_the_every_minute_jobs(database_tasks):
    # A one-minute window always contains a whole minute.
    call_command("tick", stdout=StringIO())
    assert DBTaskResult.objects.filter(task_path="chanrong.api.tasks.retry_due_deliveries").exists()


def test_loop_mode_stops_after_max_ticks(immediate_tasks):
    out = StringIO()
    call_command("tick", every=1, max_ticks=2, all=True, stdout=out)
    assert out.getvalue().count("chanrong.api.tasks.retry_due_deliveries") >= 1


def test_tick_lists_jobs():
    out = StringIO()
    call_command("tick", list=True, stdout=out)
    assert "chanrong.api.tasks.retry_due_deliveries\tevery 0:01:00" in out.getvalue()
