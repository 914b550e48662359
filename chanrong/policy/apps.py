from django.apps import AppConfig


class PolicyConfig(AppConfig):
    name = "chanrong.policy"
    label = "policy"
    verbose_name = "财政金融政策"

    def ready(self) -> None:
        # The indicator system's 财政支持 figures (insights.sources); insights
        # is below policy and never imports it.
        from .sources import register_sources

        register_sources()
