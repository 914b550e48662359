"""`chanrong doctor` and the 系统状态 page: each check in its healthy and its
failing state, on the test database."""

from __future__ import annotations

import json
import os
import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.migrations.recorder import MigrationRecorder
from django.tasks import TaskResultStatus
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from chanrong.api.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from chanrong.core import audit, health
from chanrong.core.health import State
from chanrong.ops import heartbeat
from chanrong.ops.models import ProcessHeartbeat, ProcessKind

from ..tasks.conftest import DATABASE_TASKS

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _database_tasks(settings):
    settings.TASKS = DATABASE_TASKS


def findings() -> dict[str, health.Finding]:
    return {f.key: f for f in health.run_checks()}


def _worker_beat(seen_ago: timedelta = timedelta(0), *, stopped: bool = False, ident=None):
    now = timezone.now()
    return ProcessHeartbeat.objects.create(
        ident=ident or f"otherhost:4242:{uuid.uuid4().hex[:8]}",
        kind=ProcessKind.WORKER,
        host="otherhost",
        pid=4242,
        started_at=now - seen_ago - timedelta(minutes=1),
        seen_at=now - seen_ago,
        stopped_at=now - seen_ago if stopped else None,
    )


def _task_row(status, *, enqueued_ago=timedelta(0), worker_ids=(), finished_ago=None, **extra):
    row = DBTaskResult.objects.create(
        status=status,
        args_kwargs={"args": [], "kwargs": {}},
        task_path="chanrong.core.tasks.seal_audit_log",
        backend_name="default",
        run_after=extra.pop("run_after", timezone.datetime(9999, 1, 1, tzinfo=timezone.UTC)),
        worker_ids=list(worker_ids),
        started_at=timezone.now() if status == TaskResultStatus.RUNNING else None,
        finished_at=(timezone.now() - finished_ago) if finished_ago is not None else None,
        exception_class_path="",
        traceback="",
        **extra,
    )
    DBTaskResult.objects.filter(pk=row.pk).update(enqueued_at=timezone.now() - enqueued_ago)
    return row


def test_every_check_is_registered_including_the_webhook_one_from_the_api_app():
    keys = set(findings())
    assert {
        "worker",
        "scheduler",
        "task_queue",
        "failed_tasks",
        "stale_tasks",
        "audit_anchor",
        "migrations",
        "webhooks",
    } <= keys


def test_worker_check_fails_without_a_live_heartbeat_and_passes_with_one():
    assert findings()["worker"].state == State.FAIL
    _worker_beat(heartbeat.stale_after() + timedelta(seconds=30))
    assert findings()["worker"].state == State.FAIL  # stale
    _worker_beat(stopped=True)
    assert findings()["worker"].state == State.FAIL  # stopped
    _worker_beat()
    found = findings()["worker"]
    assert found.state == State.OK
    assert "1 个任务进程在运行" in found.zh and "1 task worker(s) alive" in found.en


def test_scheduler_check_follows_the_ticks():
    assert findings()["scheduler"].state == State.FAIL
    call_command("tick", stdout=StringIO())  # the tick command records the tick
    assert findings()["scheduler"].state == State.OK
    beat = ProcessHeartbeat.objects.get(kind=ProcessKind.SCHEDULER)
    assert beat.pid == os.getpid()
    ProcessHeartbeat.objects.filter(pk=beat.pk).update(
        seen_at=timezone.now() - heartbeat.SCHEDULER_STALE_AFTER - timedelta(minutes=1)
    )
    assert findings()["scheduler"].state == State.FAIL


def test_audit_anchor_check(world):
    from chanrong.core.models import AuditEntry

    audit.record("test.something", object_type="x", object_id="1")
    audit.seal()
    # Unanchored, recent: fine for now; unanchored for hours: the job is not running.
    assert findings()["audit_anchor"].state == State.OK
    AuditEntry.objects.update(created_at=timezone.now() - timedelta(hours=3))
    assert findings()["audit_anchor"].state == State.FAIL
    AuditEntry.objects.update(created_at=timezone.now() - timedelta(minutes=40))
    assert findings()["audit_anchor"].state == State.WARN
    audit.write_anchor()
    found = findings()["audit_anchor"]
    assert found.state == State.OK
    assert found.details["anchored_seq"] == found.details["chain_end"]
    # The chain's end removed after it was anchored: the log stops short.
    AuditEntry.objects.filter(seq=found.details["chain_end"]).delete()
    after = findings()["audit_anchor"]
    assert after.state == State.FAIL, (found, after)


def test_a_damaged_anchor_file_fails_the_check(world, settings):
    audit.record("test.something", object_type="x", object_id="1")
    audit.seal()
    settings.AUDIT_ANCHOR_FILE.write_text("not an anchor\n")
    assert findings()["audit_anchor"].state == State.FAIL


def test_task_queue_checks():
    found = findings()
    assert found["task_queue"].state == State.OK
    assert found["failed_tasks"].state == State.OK
    assert found["stale_tasks"].state == State.OK

    _task_row(TaskResultStatus.READY, enqueued_ago=timedelta(minutes=10))
    assert findings()["task_queue"].state == State.WARN
    _task_row(TaskResultStatus.READY, enqueued_ago=timedelta(hours=1))
    found = findings()["task_queue"]
    assert found.state == State.FAIL
    assert found.details["queued"] == 2
    # A retry deferred to later is not late.
    DBTaskResult.objects.all().delete()
    _task_row(
        TaskResultStatus.READY,
        enqueued_ago=timedelta(hours=1),
        run_after=timezone.now() + timedelta(minutes=5),
    )
    found = findings()["task_queue"]
    assert found.state == State.OK and found.details["deferred"] == 1

    _task_row(TaskResultStatus.FAILED, finished_ago=timedelta(hours=1))
    assert findings()["failed_tasks"].state == State.WARN


def test_stale_running_task_is_reported():
    gone = _worker_beat(heartbeat.stale_after() + timedelta(minutes=1))
    row = _task_row(TaskResultStatus.RUNNING, worker_ids=[gone.ident])
    found = findings()["stale_tasks"]
    assert found.state == State.WARN
    assert found.details["orphans"] == [str(row.pk)]
    # Its worker beating again: not an orphan.
    ProcessHeartbeat.objects.filter(pk=gone.pk).update(seen_at=timezone.now())
    assert findings()["stale_tasks"].state == State.OK


def test_pending_migrations_fail_the_check():
    assert findings()["migrations"].state == State.OK
    MigrationRecorder.Migration.objects.filter(app="ops", name="0001_initial").delete()
    found = findings()["migrations"]
    assert found.state == State.FAIL
    assert "ops.0001_initial" in found.details["pending"]


def test_failing_webhook_deliveries_warn(world):
    endpoint = WebhookEndpoint.objects.create(
        institution=world.bank, url="http://127.0.0.1:9/hook", secret_encrypted="x", events=[]
    )
    assert findings()["webhooks"].state == State.OK
    WebhookDelivery.objects.create(
        endpoint=endpoint, event="demand.dispatched", status=DeliveryStatus.FAILED, attempts=2
    )
    found = findings()["webhooks"]
    assert found.state == State.WARN
    assert found.details == {"retrying": 1, "endpoints": 1, "given_up_7d": 0}


def test_doctor_prints_a_line_per_check_and_exits_non_zero_when_needed():
    out = StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("doctor", stdout=out)
    assert exited.value.code == 2  # no worker, no scheduler
    lines = out.getvalue().splitlines()
    worker = next(line for line in lines if line.split()[1] == "worker")
    assert (
        worker.startswith("FAIL")
        and "没有在运行的任务进程" in worker
        and "no task worker" in worker
    )

    _worker_beat()
    call_command("tick", stdout=StringIO())
    out = StringIO()
    call_command("doctor", "--json", stdout=out)  # all OK: exits normally
    document = json.loads(out.getvalue())
    assert document["state"] == "OK"
    assert {c["key"]: c["state"] for c in document["checks"]}["worker"] == "OK"

    _task_row(TaskResultStatus.FAILED, finished_ago=timedelta(minutes=5))
    with pytest.raises(SystemExit) as exited:
        call_command("doctor", stdout=StringIO())
    assert exited.value.code == 1  # a WARN only


def test_status_page_for_the_platform_admin_only(world):
    def login(username: str) -> Client:
        client = Client()
        client.force_login(world.user(username))
        return client

    _worker_beat()
    html = login("admin").get("/ops/status/").content.decode()
    assert "系统状态" in html
    assert 'data-check="worker"' in html and "1 个任务进程在运行" in html
    assert 'data-check="webhooks"' in html
    assert 'data-nav="status" aria-current="page"' in html
    english = login("admin")
    english.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "1 task worker(s) alive" in english.get("/ops/status/").content.decode()
    for username in ("gov_jiashan", "bank_manager", "ent_user"):
        assert login(username).get("/ops/status/").status_code == 404
    # The heartbeats are also listed, read-only, in the Django admin.
    admin_page = login("admin").get("/admin/ops/processheartbeat/")
    assert admin_page.status_code == 200 and "otherhost:4242:" in admin_page.content.decode()
