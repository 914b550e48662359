from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Running the platform: the process supervisor (`chanrong serve`), the
    worker's and the scheduler's heartbeats, recovery of tasks a dead worker
    left behind, and the health report (`chanrong doctor`, 系统状态)."""

    name = "chanrong.ops"
    label = "ops"
    verbose_name = "系统运行"

    def ready(self) -> None:
        from . import checks, heartbeat

        checks.register()
        heartbeat.listen_to_ticks()
