from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "chanrong.matching"
    label = "matching"
    verbose_name = "产融对接"

    def ready(self) -> None:
        # Matching sits above registry, finance and demands: it listens to
        # their domain signals, ranks their dispatches and adds its panels to
        # their pages, all registered here rather than imported by them.
        from chanrong.core.panels import register_panel
        from chanrong.demands.ranking import set_dispatch_ranker

        from . import access, receivers, services

        receivers.connect()
        set_dispatch_ranker(services.dispatch_targets)
        register_panel("demands.detail", access.demand_detail_panel)
        register_panel("demands.workbench", access.workbench_panel)
