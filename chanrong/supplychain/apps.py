from django.apps import AppConfig


class SupplychainConfig(AppConfig):
    name = "chanrong.supplychain"
    label = "supplychain"
    verbose_name = "供应链金融"

    def ready(self) -> None:
        # Products may require a receivable, a voucher, a 政采 contract or a
        # chain: finance reads those facts through its provider registry
        # (finance is below this app and never imports it).
        from chanrong.finance.supply import set_supply_provider

        from .eligibility import PROVIDER

        set_supply_provider(PROVIDER)

        # The indicator system's 应收账款融资 figures (insights.sources);
        # insights is below this app and never imports it.
        from .sources import register_sources

        register_sources()

        # The 产业链 policy group of statistics split by group (insights.groups).
        from .groups import register_groups

        register_groups()
