"""The request a piece of work is done for: who and from which address.

Services receive the actor explicitly; the source IP is the one fact that
only the edge knows, so the middleware stores it here for the audit log.
"""

from contextvars import ContextVar

current_ip: ContextVar[str | None] = ContextVar("chanrong_current_ip", default=None)


def client_ip(request) -> str | None:
    """The client's address. X-Forwarded-For is trusted only behind a proxy we
    run, and only its last entry: the address our proxy saw and appended
    (nginx's $proxy_add_x_forwarded_for); earlier entries are whatever the
    client sent, and trusting them would let anyone choose the address the
    login throttle and the rate limits count."""
    from django.conf import settings

    if getattr(settings, "CHANRONG_TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip() or None
    return request.META.get("REMOTE_ADDR") or None
