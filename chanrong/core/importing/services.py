"""Import jobs: upload, run (in the request or in the background), report.

The job row is the one place the state lives (see core.models.ImportJob),
so the status page, the API and a background worker all read and write the
same thing, and a reload or a second browser shows the same progress.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.dbbusy import best_effort
from chanrong.core.errors import NotAllowed, NotFound, ServiceError, ValidationFailed
from chanrong.core.models import ImportJob, ImportMode, ImportStage, ImportStatus
from chanrong.core.tasking import enqueue_on_commit

from .engine import Importer, summarise_issues
from .readers import FileRejected, estimate_rows, sniff
from .spec import ImportSpec, RowsRejected, all_specs, get_spec

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_INLINE_ROWS = 2000
#: A running job that has not reported for this long was interrupted
#: (its process was killed); nothing of it was written.
STALE_AFTER = timedelta(minutes=10)
#: At most this many findings are kept with a job (the counts are exact).
MAX_STORED_ISSUES = 20_000
PROGRESS_INTERVAL = 0.5  # seconds between progress writes


def _setting(name: str, default: int) -> int:
    value = getattr(settings, name, None)
    if value in (None, ""):
        value = os.environ.get(name, default)
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def max_upload_bytes() -> int:
    """CHANRONG_IMPORT_MAX_BYTES (default 20 MB)."""
    return _setting("CHANRONG_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES)


def inline_rows() -> int:
    """CHANRONG_IMPORT_INLINE_ROWS (default 2000): files with more rows run in
    the background (a task), smaller ones within the upload request."""
    return _setting("CHANRONG_IMPORT_INLINE_ROWS", DEFAULT_INLINE_ROWS)


def format_bytes(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} B"


def importable_specs(actor) -> list[ImportSpec]:
    return [spec for spec in all_specs().values() if spec.can_import(actor)]


def can_import_anything(actor) -> bool:
    return bool(importable_specs(actor))


def spec_for(actor, kind: str) -> ImportSpec:
    spec = get_spec(kind)
    if spec is None:
        raise NotFound(_("没有这种导入类型"))
    if not spec.can_import(actor):
        raise NotAllowed(_("无权导入%(label)s") % {"label": spec.label})
    return spec


def check_size(size: int) -> None:
    limit = max_upload_bytes()
    if size > limit:
        raise ValidationFailed(
            {
                "file": _("文件大小为 %(size)s，超过上限 %(limit)s；请拆分成几个文件分别导入")
                % {"size": format_bytes(size), "limit": format_bytes(limit)}
            }
        )


def check_upload(data: bytes) -> None:
    """Size, then content: raises ValidationFailed on field "file"."""
    check_size(len(data))
    try:
        sniff(data)
    except FileRejected as exc:
        raise ValidationFailed({"file": str(exc)}) from None


def create_job(
    actor,
    kind: str,
    *,
    filename: str,
    data: bytes,
    mode: str = ImportMode.ALL_OR_NOTHING,
    params: dict[str, Any] | None = None,
    run: bool = True,
) -> ImportJob:
    """Accept an upload and start it: inline when small, else as a task.
    Refuses (ValidationFailed on "file") a file over the size limit or one
    that is not a spreadsheet, before anything is stored."""
    spec = spec_for(actor, kind)
    if mode not in ImportMode.values:
        raise ValidationFailed({"mode": _("导入方式无效")})
    check_upload(data)
    params = params or {}
    spec.prepare(actor, params)  # wrong parameters are refused now, not in the worker
    background = estimate_rows(data) > inline_rows()
    with transaction.atomic():
        job = ImportJob.objects.create(
            kind=kind,
            params=params,
            mode=mode,
            created_by=actor,
            filename=os.path.basename(filename or "")[:255] or "upload",
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            content=data,
            background=background,
        )
        audit.record(
            "import.upload",
            actor=actor,
            obj=job,
            changes={"kind": kind, "file": job.filename, "size": job.size, "sha256": job.sha256},
        )
        if run and background:
            enqueue_on_commit(run_import, job.pk)
    if run and not background:
        run_job(job.pk)
        job.refresh_from_db()
    return job


class _ProgressWriter:
    """Writes the stage and counts to the job row, at most twice a second
    (and always on a change of stage), outside any transaction."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.last = 0.0

    def __call__(self, stage: str, processed: int, total: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and stage == self.job.stage and now - self.last < PROGRESS_INTERVAL:
            return
        self.last = now
        self.job.stage = stage
        self.job.processed_rows = processed
        self.job.total_rows = total
        self.job.save(update_fields=["stage", "processed_rows", "total_rows", "updated_at"])


def run_job(job_id: int) -> str:
    """Run one job to its end. Safe to call twice: only a pending job is
    claimed (one UPDATE), so a re-delivered task does nothing."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.PENDING).update(
        status=ImportStatus.RUNNING, stage=ImportStage.READING, started_at=timezone.now()
    )
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None or not claimed:
        return job.status if job else "missing"
    try:
        _run(job)
    except Exception:
        logger.exception("import job %s failed", job.pk)
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.FAILED,
            stage=ImportStage.FINISHED,
            finished_at=timezone.now(),
            content=None,
            message=_("导入时发生内部错误，未写入任何数据（任务编号 %(id)d）；请联系平台管理员")
            % {"id": job.pk},
        )
        return ImportStatus.FAILED
    return job.status


def _run(job: ImportJob) -> None:
    actor = job.created_by
    spec = get_spec(job.kind)
    if actor is None or spec is None or not actor.is_active:
        _finish(job, ImportStatus.FAILED, message=_("导入人账号或导入类型已不存在，未写入任何数据"))
        return
    progress = _ProgressWriter(job)
    importer = Importer(
        spec,
        actor,
        bytes(job.content or b""),
        params=job.params,
        valid_only=job.mode == ImportMode.VALID_ONLY,
        progress=progress,
    )
    try:
        outcome = importer.validate()
    except ServiceError as exc:  # e.g. the actor lost the right to import
        _finish(job, ImportStatus.REJECTED, message=exc.message)
        return
    if outcome.rejected or outcome.valid_rows == 0:
        status = ImportStatus.REJECTED if outcome.rejected else ImportStatus.DONE
        message = outcome.message or _("没有可导入的行（%(rows)d 行均有错误）") % {
            "rows": outcome.error_rows
        }
        _finish(job, status, importer=importer, message=message)
        return
    source = {"job": job.pk, "file": job.filename, "sha256": job.sha256, "mode": job.mode}
    # Said (and committed) before the write transaction opens: inside it,
    # nothing would be visible to the page until the end.
    progress(ImportStage.WRITING, outcome.valid_rows, outcome.total_rows, force=True)
    try:
        with transaction.atomic():
            result = importer.write(source)
            parts = [
                _("新增 %(n)d 条") % {"n": result.created},
                _("更新 %(n)d 条") % {"n": result.updated},
            ]
            if result.unchanged:
                parts.append(_("%(n)d 条无变化") % {"n": result.unchanged})
            message = _("导入完成：") + "，".join(parts)
            if outcome.error_rows:
                message += _("；%(n)d 行有误，未导入（见校验报告）") % {"n": outcome.error_rows}
            _finish(job, ImportStatus.DONE, importer=importer, message=message)
    except RowsRejected:
        _finish(job, ImportStatus.REJECTED, importer=importer, message=outcome.message)
    except ServiceError as exc:
        _finish(job, ImportStatus.REJECTED, importer=importer, message=exc.message)


def _finish(
    job: ImportJob, status: str, *, importer: Importer | None = None, message: str = ""
) -> None:
    job.status = status
    job.stage = ImportStage.FINISHED
    job.finished_at = timezone.now()
    job.content = None
    job.message = message
    if importer is not None:
        outcome = importer.outcome
        issues = summarise_issues(outcome.issues)
        job.total_rows = outcome.total_rows
        job.processed_rows = outcome.total_rows
        job.valid_rows = outcome.valid_rows
        job.error_rows = outcome.error_rows
        job.issue_count = len(issues)
        job.issues = [issue.as_dict() for issue in issues[:MAX_STORED_ISSUES]]
        if outcome.written is not None and status == ImportStatus.DONE:
            job.created_count = outcome.written.created
            job.updated_count = outcome.written.updated
    elif message:
        job.issue_count = 1
        job.issues = [
            {
                "row": None,
                "column": "",
                "header": "",
                "message": message,
                "value": "",
                "level": "error",
            }
        ]
    job.save()


def visible_job(actor, pk: int) -> ImportJob:
    job = ImportJob.objects.visible_to(actor).filter(pk=pk).first()
    if job is None:
        raise NotFound(_("导入任务不存在"))
    return refresh_stale(job)


def refresh_stale(job: ImportJob) -> ImportJob:
    """A running job whose process died (killed worker, restarted server)
    reports nothing any more; after STALE_AFTER it is marked failed. Its
    write transaction never committed, so nothing of it was written."""
    if job.status == ImportStatus.RUNNING and job.updated_at < timezone.now() - STALE_AFTER:
        changed = 0

        def mark_failed() -> None:
            nonlocal changed
            changed = ImportJob.objects.filter(
                pk=job.pk, status=ImportStatus.RUNNING, updated_at=job.updated_at
            ).update(
                status=ImportStatus.FAILED,
                stage=ImportStage.FINISHED,
                finished_at=timezone.now(),
                content=None,
                message=_("导入过程中断（处理进程已停止），未写入任何数据；请重新上传"),
            )

        # Made while showing the job: skipped if the database is busy (the
        # next look at the job makes it), never a failed page.
        best_effort(mark_failed, what="stale import job")
        if changed:
            job.refresh_from_db()
    return job


@task
def run_import(job_id: int) -> str:
    """Runs an import job in a worker (files over CHANRONG_IMPORT_INLINE_ROWS rows)."""
    return run_job(job_id)
