from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "chanrong.insights"
    label = "insights"
    verbose_name = "指标与统计"

    def ready(self) -> None:
        from .services import register_default_sources

        register_default_sources()
