from django.apps import AppConfig


class ListingConfig(AppConfig):
    name = "chanrong.listing"
    label = "listing"
    verbose_name = "上市培育"

    def ready(self) -> None:
        # The indicator system's 上市 figures (insights.sources); insights is
        # below this app and never imports it.
        from .sources import register_sources

        register_sources()
