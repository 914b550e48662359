from django.apps import AppConfig


class FinanceConfig(AppConfig):
    name = "chanrong.finance"
    label = "finance"
    verbose_name = "金融机构"
