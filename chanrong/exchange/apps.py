from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "chanrong.exchange"
    label = "exchange"
    verbose_name = "互联互通"

    def ready(self) -> None:
        # The dashboards and the pilot evaluation (insights, pilots: lower
        # apps) show what children reported through insights' registry; they
        # never import this app.
        from chanrong.insights.received import register_provider

        from .services.provide import received_figures

        register_provider(received_figures)
