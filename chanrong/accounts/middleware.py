"""The account policy, applied to every signed-in browser request:

1. absolute session lifetime (CHANRONG_SESSION_MAX_HOURS since the password
   step): past it the session ends, however active; the idle timeout
   (CHANRONG_SESSION_IDLE_MINUTES) is the session's own sliding expiry;
2. second factor: a user who needs one (by role, or by having enrolled) and
   has not given it in this session is sent to the 动态口令 step, or to
   enrolment when a required role has no device yet;
3. password: changed at first sign-in when someone else set it, and when
   older than the maximum age.

Nothing else is reachable until these are met. API requests with a
Bearer token are not affected: the token alone authenticates them, and
tokens have their own expiry and binding. Any other Authorization header
changes nothing (before, any header at all skipped the policy, while the API
fell back to the session for a non-Bearer scheme). Under /api/ the answer is JSON (401/403 in
the API's error shape), elsewhere a redirect.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from . import services
from .services import otp
from .signals import SESSION_AUTH_AT, SESSION_HAS_OTP

#: Path prefixes a user in the middle of the policy steps may still reach.
_ALWAYS_OPEN = ("/static/", "/i18n/", "/favicon")


def _path(name: str) -> str | None:
    """The path of a named URL, or None under a URLconf without it (a test's
    or an embedding project's), so that the policy never turns into a 500."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def _bearer_api_request(request) -> bool:
    """An API request with a bearer token: django-ninja authenticates it by
    the token alone or answers 401 (chanrong.accounts.api_auth), never by the
    session, so the session's policy has nothing to guard. The scheme is read
    as ninja's `HttpBearer` reads it. Any other Authorization header (Basic
    from a proxy in front, a stray value) leaves the policy in force: the
    API falls back to the session for it, and pages always use the session."""
    if not request.path.startswith("/api/"):
        return False
    header = request.META.get("HTTP_AUTHORIZATION", "")
    return bool(header) and header.split(" ")[0].lower() == "bearer"


class AccountPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Checked first: such a request never needs the session's user, so its
        # lazy `request.user` is not even loaded.
        if _bearer_api_request(request) or request.path.startswith(_ALWAYS_OPEN):
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            answer = self._enforce(request, user)
            if answer is not None:
                return answer
        return self.get_response(request)

    def _enforce(self, request, user):
        auth_at = request.session.get(SESSION_AUTH_AT)
        max_hours = int(getattr(settings, "CHANRONG_SESSION_MAX_HOURS", 12))
        if max_hours > 0 and (auth_at is None or time.time() - auth_at > max_hours * 3600):
            logout(request)
            return self._answer(
                request, "session_expired", _("登录已超过最长时限，请重新登录"), 401
            )

        open_paths = {
            _path("accounts:logout"),
            _path("accounts:otp_verify"),
            _path("accounts:otp_enrol"),
        }
        if request.path in open_paths:
            return None
        verified = getattr(user, "is_verified", lambda: False)()
        # Whether the user had enrolled is read once, at sign-in (a session
        # flag), so that ordinary page views cost no device query.
        if not verified and (otp.otp_required(user) or request.session.get(SESSION_HAS_OTP)):
            if otp.has_second_factor(user):
                target = "accounts:otp_verify"
            elif otp.otp_required(user):
                target = "accounts:otp_enrol"
            else:  # an optional device was removed meanwhile
                request.session.pop(SESSION_HAS_OTP, None)
                target = None
            if target is not None:
                return self._answer(request, "otp_required", _("请先完成动态口令验证"), 401, target)

        if request.path in (
            _path("accounts:password_change"),
            _path("accounts:password_change_done"),
        ):
            return None
        if services.password_change_reason(user) is not None:
            return self._answer(
                request,
                "password_change_required",
                _("请先修改密码"),
                403,
                "accounts:password_change",
            )
        return None

    @staticmethod
    def _answer(request, code: str, message: str, status: int, target: str = "accounts:login"):
        if request.path.startswith("/api/"):
            return JsonResponse({"code": code, "message": message, "errors": []}, status=status)
        url = reverse(target)
        if request.method == "GET" and target != "accounts:password_change":
            url += "?" + urlencode({"next": request.get_full_path()})
        return redirect(url)
