"""Who is calling: a bearer token (a bank's own system, scripts) or the
browser session of a signed-in user.

Handlers read the caller with `chanrong.core.apikit.caller.actor(request)`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import AuthenticationError, HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from chanrong.accounts.services import authenticate_token


class BearerToken(HttpBearer):
    """`Authorization: Bearer crt_…` (tokens from `chanrong token create`)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = authenticate_token(token.strip(), request)
        if user is None:
            # A token was offered and is wrong (revoked, expired, mistyped, user
            # disabled, or bound to a client certificate not presented):
            # say so, rather than quietly falling back to the session cookie.
            raise AuthenticationError()
        return user


class Session(APIKeyCookie):
    """The browser session, with CSRF checked for unsafe methods as Django's
    own views do. The check runs only when the cookie really signs someone in,
    so an anonymous caller gets 401 rather than a confusing CSRF 403."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            return None
        exempt = getattr(request, "_ninja_csrf_exempt", False)
        if self.csrf and not exempt and check_csrf(request):
            raise HttpError(403, "CSRF check Failed")
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if key is not None and request.user.is_authenticated:
            return request.user
        return None


bearer_token = BearerToken()
session = Session(csrf=True)

#: The API's default: token first, then session.
AUTH = [bearer_token, session]
