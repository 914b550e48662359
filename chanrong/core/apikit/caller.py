"""Who an API operation acts for.

Handlers read the caller from `request.auth` (set by django-ninja from the
bearer token or the session: `chanrong.accounts.api_auth`), never from
`request.user`: with a token, `request.user` is whoever the session cookie
says, possibly nobody.
"""

from __future__ import annotations

from django.http import HttpRequest


def actor(request: HttpRequest):
    """The authenticated user an operation acts for."""
    return request.auth  # type: ignore[attr-defined]
