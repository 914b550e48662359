"""What the operations side keeps: one heartbeat row per background process."""

from __future__ import annotations

from django.db import models


class ProcessKind(models.TextChoices):
    WORKER = "worker", "任务进程"
    SCHEDULER = "scheduler", "调度器"


class ProcessHeartbeat(models.Model):
    """A worker or scheduler saying it is alive.

    A worker writes its row at start, every few seconds while it runs (from a
    thread, so a long task does not silence it) and once more when it stops
    (`stopped_at`). `ident` is the worker id the database backend records in
    each task it claims, so a RUNNING task can be traced to its worker; it
    reads "host:pid:random". The scheduler keeps one row per host, whose
    `seen_at` is its last tick. Written only by those processes, in short
    transactions of their own, never on a request's path."""

    ident = models.CharField("标识", max_length=64, unique=True)
    kind = models.CharField("类型", max_length=12, choices=ProcessKind.choices)
    host = models.CharField("主机", max_length=64)
    pid = models.PositiveIntegerField("进程号")
    started_at = models.DateTimeField("启动时间")
    seen_at = models.DateTimeField("最近心跳", db_index=True)
    stopped_at = models.DateTimeField("停止时间", null=True, blank=True)
    info = models.JSONField("信息", default=dict, blank=True)

    class Meta:
        ordering = ["kind", "-seen_at"]
        verbose_name = "进程心跳"
        verbose_name_plural = "进程心跳"

    def __str__(self) -> str:
        return f"{self.kind} {self.ident}"
