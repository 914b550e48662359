from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "chanrong.portal"
    label = "portal"
    verbose_name = "工作台"
