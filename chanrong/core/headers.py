"""Security headers every response carries, beside Django's own.

The Content-Security-Policy itself is Django 6.1's
(`django.middleware.csp.ContentSecurityPolicyMiddleware` with
`settings.SECURE_CSP`, built from `CSP_POLICY` below), Referrer-Policy and
X-Content-Type-Options are SecurityMiddleware's, X-Frame-Options is the
clickjacking middleware's. What Django does not send is added here:

- `Permissions-Policy`: the platform uses no camera, microphone, location,
  payment or USB, so a page (or anything injected into one) may not ask.
- No banner: a `Server` or `X-Powered-By` header set by anything below is
  removed. Gunicorn writes its own `Server` line after the application has
  answered; chanrong/gunicorn.conf.py blanks that one.

Why the policy reads as it does (see also docs/deployment.md, "Headers"):
scripts only from the platform's own static files (no inline script, no
eval: htmx runs with `allowEval: false`, chart options travel as JSON in
`json_script` blocks read by static/chanrong/app.js); styles only from
static files (ECharts and Swagger UI set styles through the CSSOM, which
CSP does not restrict; htmx's inline indicator style is off through its
`htmx-config` meta tag); images from the platform and `data:` URLs (Swagger
UI's icons and ECharts' saved images are data URLs); no plugins; no
framing; forms post only to the platform.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.csp import CSP

CSP_POLICY: dict[str, list[str]] = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
)

BANNER_HEADERS = ("Server", "X-Powered-By")


class SecurityHeadersMiddleware:
    """Adds Permissions-Policy and removes server banners."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        for name in BANNER_HEADERS:
            if name in response.headers:
                del response.headers[name]
        return response
