"""The second-factor pages: the 动态口令 step after the password, and
enrolment (QR code + secret, confirm one code, then the recovery codes
shown once). The rules are in `services.otp`; these pages only ask."""

from __future__ import annotations

import django_otp
from django import forms
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from chanrong.core.errors import ValidationFailed

from .services import otp
from .signals import SESSION_HAS_OTP


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("动态口令"),
        max_length=32,
        help_text=_("手机验证器中的 6 位数字；手机不在身边时可输入一个恢复码。"),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def otp_verify(request):
    user = request.user
    if user.is_verified():
        return redirect(_next_url(request))
    if not otp.has_second_factor(user):
        return redirect("accounts:otp_enrol")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = otp.verify(user, form.cleaned_data["token"])
        if device is not None:
            django_otp.login(request, device)
            request.session.cycle_key()  # a new session id once fully signed in
            return redirect(_next_url(request))
        form.add_error("token", _("动态口令或恢复码不正确"))
    return render(request, "accounts/otp_verify.html", {"form": form, "next": _next_url(request)})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def otp_enrol(request):
    user = request.user
    if otp.has_second_factor(user) and not user.is_verified():
        # Replacing a device needs the current one first.
        return redirect("accounts:otp_verify")
    device = otp.pending_enrolment(user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            enrolled = otp.confirm_enrolment(user, device, form.cleaned_data["token"])
        except ValidationFailed as exc:
            for error in exc.errors:
                form.add_error("token", error.message)
        else:
            django_otp.login(request, enrolled.device)
            request.session[SESSION_HAS_OTP] = True
            # Rendered, not redirected: the codes exist only in this response.
            return render(
                request,
                "accounts/otp_recovery_codes.html",
                {"codes": enrolled.recovery_codes, "next": _next_url(request)},
            )
    return render(
        request,
        "accounts/otp_enrol.html",
        {
            "form": form,
            "qr_svg": otp.qr_svg(device),
            "secret": otp.secret_base32(device),
            "required": otp.otp_required(user),
            "next": _next_url(request),
        },
    )
