from django.apps import AppConfig


class PolicyConfig(AppConfig):
    name = "chanrong.policy"
    label = "policy"
    verbose_name = "财政金融政策"
