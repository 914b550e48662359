"""Error pages in the user's language for what Django answers itself.

Django's default 400 is a bare English "Bad Request (400)", and a body over
DATA_UPLOAD_MAX_MEMORY_SIZE (a 2 MB name pasted into a form) is one of those
400s. Here an oversized request is told as what it is — 413, too large, with
the limit — and any other bad request gets the platform's own page. 403, 404
and 500 are the templates of the same names; gunicorn's and nginx's own
limits (414, 413) are documented in docs/deployment.md.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.shortcuts import render

_TOO_LARGE = (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)


def bad_request(request, exception=None):
    if isinstance(exception, _TOO_LARGE):
        limit_mb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)
        return render(request, "413.html", {"limit_mb": f"{limit_mb:g}"}, status=413)
    return render(request, "400.html", status=400)
