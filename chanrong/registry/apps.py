from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "chanrong.registry"
    label = "registry"
    verbose_name = "企业名录"

    def ready(self) -> None:
        from . import registration

        # Self-registration (accounts) finds and creates enterprises through us.
        registration.connect()
