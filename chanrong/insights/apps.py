from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "chanrong.insights"
    label = "insights"
    verbose_name = "指标与统计"

    def ready(self) -> None:
        from chanrong.demands.signals import financing_disbursed

        from .services import on_financing_disbursed, register_default_sources

        register_default_sources()
        from .services.registry_sources import register_registry_sources

        register_registry_sources()
        # A loan reported disbursed on a demand becomes a financing fact in
        # the same transaction (the demands app sends; it does not import us).
        financing_disbursed.connect(
            on_financing_disbursed, dispatch_uid="chanrong.insights.financing_disbursed"
        )
