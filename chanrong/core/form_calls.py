"""A page's form calling a service: the one translation of service errors
into what the page shows.

A `ValidationFailed` goes onto the form, by field (422, all errors at once);
`NotAllowed` is a 403 and `NotFound` a 404, as everywhere else; a conflict or
any other refusal is a message on the page with its own status.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from .errors import Conflict, NotAllowed, NotFound, ServiceError, ValidationFailed


def attempt(request: HttpRequest, call: Callable[[], Any], form) -> tuple[Any, int]:
    """(result, 200) or (None, status) with the refusal on the page."""
    try:
        return call(), 200
    except ValidationFailed as exc:
        form.add_service_errors(exc)
        return None, 422
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from None
    except NotFound:
        raise Http404 from None
    except (Conflict, ServiceError) as exc:
        messages.error(request, exc.message)
        return None, exc.status
