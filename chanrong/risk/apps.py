from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "chanrong.risk"
    label = "risk"
    verbose_name = "风险监测"

    def ready(self) -> None:
        # A loan disbursed through the platform opens its loan-book record in
        # the same transaction (demands is below risk and never imports it).
        from chanrong.demands.signals import financing_disbursed

        from .services.loanbook import on_financing_disbursed

        financing_disbursed.connect(
            on_financing_disbursed, dispatch_uid="chanrong.risk.financing_disbursed"
        )
        # Early-warning rules are evaluated for the enterprises whose facts changed.
        from chanrong.registry.signals import (
            credit_records_changed,
            enterprises_changed,
            list_versions_published,
            operating_data_changed,
        )

        from .receivers import on_enterprises_changed, on_list_versions_published

        enterprises_changed.connect(on_enterprises_changed, dispatch_uid="chanrong.risk.warnings")
        operating_data_changed.connect(
            on_enterprises_changed, dispatch_uid="chanrong.risk.warnings.operating"
        )
        # 行政处罚 / 司法判决 recorded or imported: the event rules look at those enterprises.
        credit_records_changed.connect(
            on_enterprises_changed, dispatch_uid="chanrong.risk.warnings.credit"
        )
        list_versions_published.connect(
            on_list_versions_published, dispatch_uid="chanrong.risk.warnings.lists"
        )
        # 无贷户 joins the policy groups statistics are split by (insights.groups).
        from .services.groups import register_groups

        register_groups()
        # The 统计分析 page (insights) shows the split by policy group.
        from chanrong.core.panels import register_panel

        from .views_groups import dashboard_panel

        register_panel("insights.dashboard", dashboard_panel)
        # 金融资源 indicators computed from the loan book (insights' computed sources).
        from .sources import register as register_indicator_sources

        register_indicator_sources()
        # 绿色贷款余额（按用途）and 绿色融资额 (issue 18).
        from .sources_green import register as register_green_sources

        register_green_sources()
