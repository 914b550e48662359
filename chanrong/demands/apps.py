from django.apps import AppConfig


class DemandsConfig(AppConfig):
    name = "chanrong.demands"
    label = "demands"
    verbose_name = "融资需求"
