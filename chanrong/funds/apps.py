from django.apps import AppConfig


class FundsConfig(AppConfig):
    name = "chanrong.funds"
    label = "funds"
    verbose_name = "产业基金"

    def ready(self) -> None:
        # insights (indicators) and demands (the demand page) sit below this
        # app and never import it: it registers its sources and its panel.
        from chanrong.core.panels import register_panel

        from .services.matching import demand_detail_panel
        from .sources import register_sources

        register_sources()
        register_panel("demands.detail", demand_detail_panel)
