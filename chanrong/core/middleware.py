from django.middleware.common import CommonMiddleware as DjangoCommonMiddleware

from .context import client_ip, current_ip


class RequestContextMiddleware:
    """Makes the client's IP available to the audit log for this request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_ip.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            current_ip.reset(token)


class CommonMiddleware(DjangoCommonMiddleware):
    """Django's CommonMiddleware without resolving a path a second time.

    On every 404 Django's `should_redirect_with_slash` resolves the path
    again to learn whether it is valid as it is. When the handler already
    resolved it (a view ran and answered 404, e.g. the API's 404 for an
    object the caller may not see) the answer is known: it is valid, so no
    redirect, exactly what Django would find (same path, same URLconf). That
    second resolution was about 7 % of an authenticated API 404's CPU
    (bench/request_path.py, issue 20). Paths that resolved to nothing, and
    requests with a URLconf of their own, go through Django's check."""

    def should_redirect_with_slash(self, request):
        if (
            getattr(request, "resolver_match", None) is not None
            and getattr(request, "urlconf", None) is None
        ):
            return False
        return super().should_redirect_with_slash(request)
