from django.apps import AppConfig


class PilotsConfig(AppConfig):
    name = "chanrong.pilots"
    label = "pilots"
    verbose_name = "产融合作试点城市"
