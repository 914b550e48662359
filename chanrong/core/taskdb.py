"""The task backend for `CHANRONG_TASK_BACKEND=database` (the default).

django-tasks-db's `DatabaseBackend`, whose enqueue writes the task's row
through `core.bulkinsert.create` (its INSERT planned once) instead of
`DBTaskResult.objects.create`, which compiles the statement again on every
call. Every publish enqueues a re-match, and that compilation was about a
twentieth of a create + publish's CPU (bench/request_path.py, issue 20).
The row is the one the library writes: the same values (the method below
is the library's, with only the last call changed), its `pre_save`
receiver (which sets `run_after`) still runs, and tests/tasks compare the
rows both write.
"""

from __future__ import annotations

from typing import Any

from django.utils.json import normalize_json
from django_tasks_db.backend import DatabaseBackend as _LibraryBackend

from chanrong.core import bulkinsert


class DatabaseBackend(_LibraryBackend):
    def _task_to_db_task(self, task: Any, args: Any, kwargs: Any):
        from django_tasks_db.models import DBTaskResult

        return bulkinsert.create(
            DBTaskResult(
                id=self._get_id(),
                args_kwargs=normalize_json({"args": args, "kwargs": kwargs}),
                priority=task.priority,
                task_path=task.module_path,
                queue_name=task.queue_name,
                run_after=task.run_after,
                backend_name=self.alias,
            )
        )
