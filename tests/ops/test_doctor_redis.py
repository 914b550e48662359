"""The doctor with the Redis backend: RQ's own worker registry and queues
(Redis db 12 on 127.0.0.1:6379, emptied before and after)."""

from __future__ import annotations

import pytest

from chanrong.core import health
from chanrong.core.health import State
from chanrong.core.tasks import send_email

REDIS_URL = "redis://127.0.0.1:6379/12"

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_tasks(settings):
    redis = pytest.importorskip("redis")
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    connection.flushdb()
    settings.RQ_QUEUES = {"default": {"URL": REDIS_URL}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    yield connection
    connection.flushdb()


def test_worker_and_queue_checks_read_rq(redis_tasks):
    import django_rq
    from django_tasks_rq import Job
    from rq import Worker

    found = {f.key: f for f in health.run_checks()}
    assert found["worker"].state == State.FAIL
    assert "rqworker" in found["worker"].zh
    assert found["task_queue"].details == {"queued": 0, "failed": 0}

    send_email.enqueue("ops@bank.example", "主题", "正文")
    queue = django_rq.get_queue("default", job_class=Job)
    worker = Worker([queue], connection=queue.connection, job_class=Job)
    worker.register_birth()
    try:
        found = {f.key: f for f in health.run_checks()}
        assert found["worker"].state == State.OK
        assert found["worker"].details["workers"] == [worker.name]
        assert found["task_queue"].details["queued"] == 1
    finally:
        worker.register_death()
