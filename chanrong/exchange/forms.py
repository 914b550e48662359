"""Web forms of the 互联互通 pages: they collect text under the services'
field names; every rule is the services'. `add_service_errors` puts each
FieldError beside the control of the same name."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from chanrong.core.errors import ValidationFailed

from .models import BatchKind


class ServiceForm(forms.Form):
    def add_service_errors(self, exc: ValidationFailed) -> None:
        for error in exc.errors:
            self.add_error(error.field if error.field in self.fields else None, error.message)
        if not exc.errors:
            self.add_error(None, exc.message)


class IdentityForm(ServiceForm):
    name = forms.CharField(label=_("平台名称"), max_length=100)
    region_code = forms.CharField(
        label=_("所辖地区代码（全国平台留空）"), max_length=6, required=False
    )
    base_url = forms.URLField(label=_("本平台地址"), required=False)


class CodeForm(ServiceForm):
    region_code = forms.CharField(label=_("下级平台地区代码"), max_length=6)
    note = forms.CharField(label=_("说明"), max_length=200, required=False)


class RegisterForm(ServiceForm):
    parent_url = forms.CharField(label=_("上级平台地址"), max_length=200)
    code = forms.CharField(label=_("注册码"), max_length=40)


class QueueForm(ServiceForm):
    kind = forms.ChoiceField(
        label=_("类型"),
        choices=[
            (BatchKind.INDICATOR_ACTUALS, BatchKind.INDICATOR_ACTUALS.label),
            (BatchKind.FINANCING_STATS, BatchKind.FINANCING_STATS.label),
        ],
    )
    period = forms.CharField(label=_("报告期（YYYY-MM）"), max_length=7)
