from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "chanrong.core"
    label = "core"
    verbose_name = "基础数据"

    def ready(self):
        # The admin has discovered every app's admin module by now (it is
        # installed first): audit the admins other packages registered too.
        from .admin import audit_every_admin  # noqa: PLC0415

        audit_every_admin()

        # Django 6.1's blank choice in every select built from a model field
        # or a ModelChoiceField reads "- Select an option -", untranslated in
        # zh_Hans: "请选择" instead (Django reads this name at each use).
        from django.db.models import fields as model_fields  # noqa: PLC0415
        from django.utils.translation import gettext_lazy  # noqa: PLC0415

        model_fields.BLANK_CHOICE_LABEL = gettext_lazy("请选择")
