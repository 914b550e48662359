"""Forms for the account pages. They validate input; the rules they apply
come from `chanrong.accounts.services`."""

from __future__ import annotations

import math

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chanrong.core.context import client_ip

from . import services
from .models import User


class LoginForm(AuthenticationForm):
    """Django's login form, plus a plain message when attempts are locked.

    The lock message names no account: the same words whether the username
    exists or not, and whether the (account, address) pair or the address is
    locked (services/throttle.py)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("用户名或密码不正确。请注意区分大小写。"),
        "locked": _(
            "登录失败次数过多，已暂停从此处登录，请在 %(minutes)s 分钟后再试。"
            "如需立即解除，请联系安全管理员。"
        ),
    }

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            self.user_cache = authenticate(self.request, username=username, password=password)
            if self.user_cache is None:
                ip = client_ip(self.request) if self.request is not None else None
                until = services.locked_until(username, ip)
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
    client_cert_sha256 = forms.CharField(
        label=_("绑定客户端证书（可选）"),
        required=False,
        max_length=100,
        help_text=_(
            "填写客户端证书的 SHA-256 指纹（64 位十六进制，可带冒号）后，"
            "该令牌只能经双向 TLS 并出示此证书使用。"
        ),
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

    def clean_client_cert_sha256(self) -> str:
        value = services.normalise_fingerprint(self.cleaned_data.get("client_cert_sha256", ""))
        if value and (len(value) != 64 or any(c not in "0123456789abcdef" for c in value)):
            raise forms.ValidationError(_("证书指纹应为 64 位十六进制的 SHA-256 值"))
        return value

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("请填写令牌名称"))
        return name
