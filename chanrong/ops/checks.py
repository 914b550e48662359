"""The health checks of the background machinery, registered with core.health:
worker, scheduler, audit anchors, the task queue, orphaned tasks, migrations."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.tasks import TaskResultStatus
from django.utils import timezone

from chanrong.core import audit, health
from chanrong.core.health import Finding, State

from . import heartbeat, recovery
from .models import ProcessHeartbeat, ProcessKind

#: The anchoring job runs every ten minutes; an anchor behind the chain for
#: longer than this means it is not running.
ANCHOR_WARN = timedelta(minutes=25)
ANCHOR_FAIL = timedelta(hours=2)
#: A task due this long and still waiting: workers are too few or stuck.
QUEUE_WARN = timedelta(minutes=5)
QUEUE_FAIL = timedelta(minutes=30)
#: Failed tasks this recent are worth a look.
FAILED_WINDOW = timedelta(hours=24)


def _backend() -> str:
    """database / redis / immediate, from the default task backend in use."""
    from django.tasks import task_backends
    from django_tasks_db.backend import DatabaseBackend

    backend = task_backends["default"]
    if isinstance(backend, DatabaseBackend):
        return "database"
    name = type(backend).__name__
    if "Immediate" in name:
        return "immediate"
    if "RQ" in name:
        return "redis"
    return name


def _ago(moment: datetime | None, now: datetime) -> str:
    """ "3 分钟前 / 3 min ago"-style pair, without seconds."""
    if moment is None:
        return "从未 / never"
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 120:
        return f"{seconds} 秒前 / {seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} 分钟前 / {seconds // 60} min ago"
    if seconds < 172800:
        return f"{seconds // 3600} 小时前 / {seconds // 3600} h ago"
    return f"{seconds // 86400} 天前 / {seconds // 86400} days ago"


def _zh(pair: str) -> str:
    return pair.split(" / ")[0]


def _en(pair: str) -> str:
    return pair.split(" / ")[-1]


def check_worker() -> Finding:
    backend = _backend()
    now = timezone.now()
    if backend == "immediate":
        return Finding(
            "worker",
            State.OK,
            "任务在请求中直接执行（immediate 后端），无需任务进程",
            "tasks run inside the request (immediate backend): no worker needed",
        )
    if backend == "redis":
        return _check_rq_workers()
    beats = ProcessHeartbeat.objects.filter(kind=ProcessKind.WORKER)
    alive = list(beats.filter(stopped_at__isnull=True, seen_at__gte=now - heartbeat.stale_after()))
    if alive:
        return Finding(
            "worker",
            State.OK,
            f"{len(alive)} 个任务进程在运行",
            f"{len(alive)} task worker(s) alive",
            {"workers": [b.ident for b in alive]},
        )
    last = beats.order_by("-seen_at").first()
    seen = _ago(last.seen_at if last else None, now)
    return Finding(
        "worker",
        State.FAIL,
        f"没有在运行的任务进程（最近心跳：{_zh(seen)}）；请启动 chanrong db_worker",
        f"no task worker is alive (last heartbeat: {_en(seen)}); start chanrong db_worker",
        {"last_seen": last.seen_at.isoformat() if last else None},
    )


def _check_rq_workers() -> Finding:
    import django_rq
    from rq import Worker

    connection_ = django_rq.get_connection("default")
    workers = Worker.all(connection=connection_)
    if workers:
        return Finding(
            "worker",
            State.OK,
            f"{len(workers)} 个 RQ 任务进程在运行",
            f"{len(workers)} RQ worker(s) registered",
            {"workers": [w.name for w in workers]},
        )
    return Finding(
        "worker",
        State.FAIL,
        "Redis 中没有登记的 RQ 任务进程；请启动 chanrong rqworker",
        "no RQ worker is registered in Redis; start chanrong rqworker",
    )


def check_scheduler() -> Finding:
    now = timezone.now()
    last = ProcessHeartbeat.objects.filter(kind=ProcessKind.SCHEDULER).order_by("-seen_at").first()
    seen = _ago(last.seen_at if last else None, now)
    details = {"last_tick": last.seen_at.isoformat() if last else None}
    if last is None:
        return Finding(
            "scheduler",
            State.FAIL,
            "调度器从未运行：定时任务（督办提醒、重发、审计锚点）不会执行；请运行 chanrong tick --every 60",
            "the scheduler has never ticked: periodic jobs (reminders, retries, audit "
            "anchors) do not run; run chanrong tick --every 60",
            details,
        )
    if last.seen_at < now - heartbeat.SCHEDULER_STALE_AFTER:
        return Finding(
            "scheduler",
            State.FAIL,
            f"调度器最近一次运行在 {_zh(seen)}：定时任务已停止",
            f"the scheduler last ticked {_en(seen)}: periodic jobs have stopped",
            details,
        )
    return Finding(
        "scheduler",
        State.OK,
        f"调度器正常（最近一次：{_zh(seen)}）",
        f"the scheduler is ticking (last tick {_en(seen)})",
        details,
    )


def check_audit_anchor() -> Finding:
    from chanrong.core.models import AuditEntry

    now = timezone.now()
    path = audit.anchor_path()
    try:
        anchors = audit.read_anchors(path)
    except audit.AnchorFileError as exc:
        return Finding(
            "audit_anchor",
            State.FAIL,
            f"审计锚点文件无法读取：{exc}",
            f"the audit anchor file cannot be read: {exc}",
            {"file": str(path)},
        )
    end = (
        AuditEntry.objects.filter(seq__isnull=False)
        .order_by("-seq")
        .values_list("seq", "created_at")
        .first()
    )
    end_seq = end[0] if end else 0
    details = {"file": str(path), "chain_end": end_seq}
    last = anchors[-1] if anchors else None
    if last is not None and last.seq > end_seq:
        # Rows gone from the chain's end, or a restore from an older
        # backup: `chanrong audit verify` says which (docs/deployment.md).
        details.update(anchored_seq=last.seq, anchored_at=last.at)
        return Finding(
            "audit_anchor",
            State.FAIL,
            f"审计日志止于 #{end_seq}，短于锚点 #{last.seq}：记录被删除或从较早的备份恢复；"
            "请运行 chanrong audit verify",
            f"the audit log ends at #{end_seq}, short of the anchor #{last.seq}: entries were "
            "removed or an older backup was restored; run chanrong audit verify",
            details,
        )
    if end is None:
        return Finding("audit_anchor", State.OK, "审计日志为空，无需锚点", "the audit log is empty")
    if last is not None:
        details["anchored_seq"] = last.seq
        details["anchored_at"] = last.at
        if last.seq == end[0]:
            at = datetime.fromisoformat(last.at)
            return Finding(
                "audit_anchor",
                State.OK,
                f"审计锚点已到链尾 #{last.seq}（写于 {_zh(_ago(at, now))}）",
                f"the audit anchor covers the chain's end #{last.seq} "
                f"(written {_en(_ago(at, now))})",
                details,
            )
    # Entries beyond the last anchor: how long have they waited?
    from_seq = last.seq if last else 0
    oldest = (
        AuditEntry.objects.filter(seq__gt=from_seq)
        .order_by("seq")
        .values_list("created_at", flat=True)
        .first()
    )
    waited = now - oldest if oldest else timedelta(0)
    behind = _ago(oldest, now)
    state = State.OK
    if waited > ANCHOR_FAIL:
        state = State.FAIL
    elif waited > ANCHOR_WARN:
        state = State.WARN
    anchored = f"#{last.seq}" if last else "无 / none"
    return Finding(
        "audit_anchor",
        state,
        f"审计锚点 {_zh(anchored)}，链尾 #{end[0]}；最早未锚定的记录产生于 {_zh(behind)}"
        + ("（锚定任务每 10 分钟运行，请检查调度器与任务进程）" if state != State.OK else ""),
        f"audit anchor {_en(anchored)}, chain end #{end[0]}; the oldest unanchored entry is "
        f"from {_en(behind)}"
        + (
            " (anchoring runs every 10 minutes: check scheduler and worker)"
            if state != State.OK
            else ""
        ),
        details,
    )


def check_task_queue() -> list[Finding]:
    backend = _backend()
    if backend == "immediate":
        return []
    if backend == "redis":
        return [_check_rq_queue()]
    from django_tasks_db.models import DBTaskResult

    now = timezone.now()
    ready = DBTaskResult.objects.ready()
    queued = ready.count()
    oldest = ready.order_by("enqueued_at").values_list("enqueued_at", "run_after").first()
    # A deferred task (a retry) waits from its run_after, not from its enqueueing.
    waited = timedelta(0)
    if oldest:
        enqueued_at, run_after = oldest
        since = enqueued_at if run_after.year >= 9999 else max(enqueued_at, run_after)
        waited = now - since
    deferred = DBTaskResult.objects.filter(
        status=TaskResultStatus.READY, run_after__gt=now, run_after__year__lt=9999
    ).count()
    running = DBTaskResult.objects.running().count()
    failed = DBTaskResult.objects.failed().filter(finished_at__gte=now - FAILED_WINDOW).count()
    details = {
        "queued": queued,
        "deferred": deferred,
        "running": running,
        "failed_24h": failed,
        "oldest_queued_seconds": int(waited.total_seconds()),
    }
    state = State.OK
    if waited > QUEUE_FAIL:
        state = State.FAIL
    elif waited > QUEUE_WARN:
        state = State.WARN
    age = _ago(now - waited, now) if queued else "— / —"
    findings = [
        Finding(
            "task_queue",
            state,
            f"排队任务 {queued} 个（最早等待自 {_zh(age)}），运行中 {running} 个，延后重试 {deferred} 个",
            f"{queued} task(s) queued (oldest since {_en(age)}), {running} running, "
            f"{deferred} deferred",
            details,
        )
    ]
    findings.append(
        Finding(
            "failed_tasks",
            State.WARN if failed else State.OK,
            f"近 24 小时失败的任务 {failed} 个"
            + ("（见 系统管理 › Task results）" if failed else ""),
            f"{failed} task(s) failed in the last 24 hours",
            {"failed_24h": failed},
        )
    )
    orphans = recovery.find_orphans(now=now)
    findings.append(
        Finding(
            "stale_tasks",
            State.WARN if orphans else State.OK,
            f"{len(orphans)} 个运行中任务的进程已退出，等待恢复任务处理"
            if orphans
            else "没有被遗弃的运行中任务",
            f"{len(orphans)} running task(s) whose worker is gone, awaiting recovery"
            if orphans
            else "no running task was left behind by a dead worker",
            {"orphans": [o.id for o in orphans]},
        )
    )
    return findings


def _check_rq_queue() -> Finding:
    import django_rq
    from rq.registry import FailedJobRegistry

    queue = django_rq.get_queue("default")
    queued = queue.count
    failed = FailedJobRegistry(queue=queue).count
    state = State.WARN if failed else State.OK
    return Finding(
        "task_queue",
        state,
        f"Redis 队列排队 {queued} 个，失败 {failed} 个",
        f"{queued} job(s) queued in Redis, {failed} failed",
        {"queued": queued, "failed": failed},
    )


def check_migrations() -> Finding:
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        names = [f"{m.app_label}.{m.name}" for m, _backwards in plan]
        return Finding(
            "migrations",
            State.FAIL,
            f"有 {len(plan)} 个数据库迁移未执行；请运行 chanrong migrate",
            f"{len(plan)} database migration(s) not applied; run chanrong migrate",
            {"pending": names},
        )
    return Finding("migrations", State.OK, "数据库迁移已全部执行", "all migrations applied")


def register() -> None:
    for check in (
        check_worker,
        check_scheduler,
        check_task_queue,
        check_audit_anchor,
        check_migrations,
    ):
        health.register_check(check)
