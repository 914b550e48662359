from django.apps import AppConfig


class SupplychainConfig(AppConfig):
    name = "chanrong.supplychain"
    label = "supplychain"
    verbose_name = "供应链金融"
