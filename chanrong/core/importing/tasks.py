"""The background task that runs an import job (files over
CHANRONG_IMPORT_INLINE_ROWS rows)."""

from __future__ import annotations

from django.tasks import task


@task
def run_import(job_id: int) -> str:
    from .services import run_job

    return run_job(job_id)
