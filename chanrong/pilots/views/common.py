"""What every page of the pilot programme shares: service refusals turned
into 404 / 403 or a message, the government-only guard, and the
post-and-redirect pattern of an action on one application."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect

from chanrong.core.errors import NotAllowed, NotFound, ServiceError
from chanrong.core.scope import ScopeKind, scope_of

from .. import services
from ..models import Application


def _translate_errors(view):
    """NotFound -> 404 and NotAllowed -> 403 wherever a view lets them out."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound:
            raise Http404 from None
        except NotAllowed:
            raise PermissionDenied from None

    return wrapper


def _flash(request, exc: ServiceError) -> None:
    details = "；".join(e.message for e in exc.errors)
    messages.error(request, f"{exc.message}：{details}" if details else exc.message)


def _government_only(request) -> None:
    if scope_of(request.user).kind not in (ScopeKind.GOVERNMENT, ScopeKind.PLATFORM):
        raise Http404


def _app(request, pk) -> Application:
    return services.get_visible_application(request.user, pk)


def _action(request, pk: int, call, success: str):
    application = _app(request, pk)
    try:
        call(application)
    except NotAllowed:
        raise
    except ServiceError as exc:
        _flash(request, exc)
    else:
        messages.success(request, success)
    return redirect("pilots:application", pk=application.pk)
