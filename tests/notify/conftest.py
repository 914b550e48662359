from tests.tasks.conftest import database_tasks, immediate_tasks, keep_signal_handlers  # noqa: F401
