"""Forms for the account pages. They validate input; the rules they apply
come from `chanrong.accounts.services`."""

from __future__ import annotations

import math

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import services
from .models import User


class LoginForm(AuthenticationForm):
    """Django's login form, plus a plain message when the account is locked."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("用户名或密码不正确。请注意区分大小写。"),
        "locked": _(
            "由于连续多次登录失败，该账户已被暂时锁定，请在 %(minutes)s 分钟后再试。"
            "如需立即解锁，请联系平台管理员。"
        ),
    }

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            self.user_cache = authenticate(self.request, username=username, password=password)
            if self.user_cache is None:
                until = services.locked_until(username)
                if until is not None:
                    seconds = (until - timezone.now()).total_seconds()
                    raise forms.ValidationError(
                        self.error_messages["locked"],
                        code="locked",
                        params={"minutes": max(1, math.ceil(seconds / 60))},
                    )
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class AuditedPasswordChangeForm(PasswordChangeForm):
    """Saves through `services.change_password`, which records the change."""

    def save(self, commit: bool = True) -> User:
        services.change_password(self.user, self.user, self.cleaned_data["new_password1"])
        return self.user


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label=_("令牌名称"),
        max_length=64,
        help_text=_("用于区分不同用途，例如“信贷系统对接”。"),
    )
    owner = forms.ModelChoiceField(
        label=_("令牌所属用户"),
        queryset=User.objects.none(),
        help_text=_("令牌以该用户的身份和权限访问接口。"),
    )

    def __init__(self, *args, actor: User, **kwargs):
        super().__init__(*args, **kwargs)
        owners = services.token_owners_for(actor)
        self.fields["owner"].queryset = owners
        self.fields["owner"].initial = actor.pk
        self.fields["owner"].label_from_instance = lambda u: (
            f"{u.display_name} ({u.username})" if u.display_name else u.username
        )
        if not (actor.is_platform_admin or actor.is_institution_manager):
            self.fields["owner"].widget = forms.HiddenInput()

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("请填写令牌名称"))
        return name
