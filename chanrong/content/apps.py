from django.apps import AppConfig


class ContentConfig(AppConfig):
    name = "chanrong.content"
    label = "content"
    verbose_name = "公开服务"
    # The PIPL provider (pipl.py) is found by core.pipl's autodiscovery.
