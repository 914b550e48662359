from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "chanrong.accounts"
    label = "accounts"
    verbose_name = "账户与机构"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the audit receivers)
