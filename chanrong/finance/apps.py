from django.apps import AppConfig


class FinanceConfig(AppConfig):
    name = "chanrong.finance"
    label = "finance"
    verbose_name = "金融机构"

    def ready(self):
        from chanrong.core import refdata

        from . import lpr, registration

        # `chanrong refdata load` also loads the shipped LPR history.
        refdata.register_loader("finance.lpr", lambda: lpr.load_shipped().summary())
        # Self-registration (accounts) finds and creates institutions through us.
        registration.connect()
