from django.apps import AppConfig


class DemandsConfig(AppConfig):
    name = "chanrong.demands"
    label = "demands"
    verbose_name = "融资需求"

    def ready(self) -> None:
        from chanrong.core.panels import register_panel

        from .panels import institution_detail_panel

        register_panel("finance.institution_detail", institution_detail_panel)
