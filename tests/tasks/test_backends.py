"""The task backends: database (default, run by `chanrong db_worker`), Redis
(RQ, run by `chanrong rqworker`) and immediate, all through django.tasks."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from chanrong.core.tasks import send_email

from .conftest import run_db_worker

pytestmark = pytest.mark.django_db


def test_the_default_backend_is_the_database_one():
    assert django_settings.CHANRONG_TASK_BACKEND in {"database", "redis", "immediate"}
    assert "django_tasks_db" in django_settings.INSTALLED_APPS


def test_the_platform_backend_writes_the_row_the_librarys_writes(settings):
    """core.taskdb's enqueue (a planned INSERT) and django-tasks-db's own
    (`objects.create`) store the same row, `run_after` set by the library's
    receiver included, for a task with and without a delay."""
    from datetime import timedelta

    from django.utils import timezone

    columns = [f.attname for f in DBTaskResult._meta.concrete_fields]
    columns = [name for name in columns if name not in ("id", "enqueued_at")]
    later = timezone.now() + timedelta(hours=1)
    rows = {}
    for backend in ("chanrong.core.taskdb.DatabaseBackend", "django_tasks_db.DatabaseBackend"):
        settings.TASKS = {"default": {"BACKEND": backend, "QUEUES": ["default"]}}
        results = [
            send_email.enqueue("ops@bank.example", "主题", "正文"),
            send_email.using(run_after=later, priority=-5).enqueue("a@b.example", "s", "b"),
        ]
        assert type(send_email.get_backend()).__module__.startswith(backend.rsplit(".", 1)[0])
        stored = DBTaskResult.objects.filter(pk__in=[r.id for r in results]).order_by("priority")
        rows[backend] = [tuple(row) for row in stored.values_list(*columns)]
        assert all(r.enqueued_at is not None for r in stored)
    mine, theirs = rows.values()
    assert len(mine) == 2 and mine == theirs


def test_a_task_enqueued_on_the_database_backend_runs_in_the_worker(
    database_tasks, keep_signal_handlers
):
    result = send_email.enqueue("ops@bank.example", "主题", "正文")
    assert type(send_email.get_backend()).__name__ == "DatabaseBackend"
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == TaskResultStatus.READY
    assert mail.outbox == []

    run_db_worker()

    row.refresh_from_db()
    assert row.status == TaskResultStatus.SUCCESSFUL
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ops@bank.example"]
    assert mail.outbox[0].subject == "主题"
    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == 1


def test_a_failing_send_is_retried_later_on_the_database_backend(
    database_tasks, keep_signal_handlers, settings
):
    settings.MAILERS = {"default": {"BACKEND": "tests.tasks.failing_mail.EmailBackend"}}
    send_email.enqueue("ops@bank.example", "主题", "正文")
    run_db_worker()  # the first attempt fails and schedules the second for later
    waiting = DBTaskResult.objects.filter(status=TaskResultStatus.READY).get()
    assert waiting.args_kwargs["kwargs"] == {"attempt": 2}
    assert waiting.run_after is not None


def test_the_immediate_backend_runs_at_enqueue(immediate_tasks):
    result = send_email.enqueue("a@example.com", "s", "b")
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert len(mail.outbox) == 1


# --- Redis (RQ): needs a redis-server binary; skipped when there is none ---------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_url():
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = _free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            pytest.fail("redis-server did not start")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_task_enqueued_on_the_redis_backend_runs_in_an_rq_worker(
    redis_url, settings, keep_signal_handlers
):
    import django_rq
    from django_tasks_rq import Job
    from rq import SimpleWorker

    settings.RQ_QUEUES = {"default": {"URL": redis_url}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}

    result = send_email.enqueue("rq@bank.example", "经 Redis", "正文")
    assert result.status == TaskResultStatus.READY
    assert mail.outbox == []

    queue = django_rq.get_queue("default", job_class=Job)
    worker = SimpleWorker([queue], connection=queue.connection, job_class=Job)
    worker.work(burst=True)

    assert [m.to for m in mail.outbox] == [["rq@bank.example"]]
    fetched = send_email.get_backend().get_result(result.id)
    assert fetched.status == TaskResultStatus.SUCCESSFUL
