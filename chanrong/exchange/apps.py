from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "chanrong.exchange"
    label = "exchange"
    verbose_name = "互联互通"
