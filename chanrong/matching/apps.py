from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "chanrong.matching"
    label = "matching"
    verbose_name = "产融对接"
