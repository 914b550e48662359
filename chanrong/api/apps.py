from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "chanrong.api"
    label = "api"
    verbose_name = "API"
