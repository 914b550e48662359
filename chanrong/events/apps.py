from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "chanrong.events"
    label = "events"
    verbose_name = "银企对接活动"

    def ready(self) -> None:
        from .services import register_sources

        register_sources()
