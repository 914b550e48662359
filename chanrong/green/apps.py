from django.apps import AppConfig


class GreenConfig(AppConfig):
    name = "chanrong.green"
    label = "green"
    verbose_name = "绿色金融"

    def ready(self) -> None:
        # The indicator system's green figures (insights.sources); insights is
        # below this app and never imports it.
        from .sources import register_sources

        register_sources()

        # The 碳效等级 on the registry's enterprise page (registry never imports green).
        from chanrong.core.panels import register_panel

        from .services.grades import grade_panel

        register_panel("registry.enterprise_detail", grade_panel)

        # 碳效等级 for products' eligibility and matching (finance never imports green).
        from chanrong.finance.carbon import set_carbon_grade_provider

        from .services.grades import latest_grades

        set_carbon_grade_provider(latest_grades)

        # A loan's green category checked against the loaded catalogue
        # (risk never imports green; both read finance.green_catalogue).
        from chanrong.finance.green_catalogue import set_green_code_provider

        from .services.catalogue import code_known

        set_green_code_provider(code_known)

        # The shipped factors after the regions (a province's grid factor needs
        # its region), by `chanrong refdata load`.
        from chanrong.core import refdata

        from .services.carbon_factors import load_shipped

        refdata.register_loader(
            "green.carbon_factors", lambda: f"排放因子：新增 {load_shipped()} 条"
        )
